/**
 * The per-sample engine: the one place where a sample is classified, whatever its source
 * (dataset, file with label windows, live segmentation, the service, a NATS worker).
 *
 * It pulls the sample's events only as far as the next frame needs, bins them lazily, steps the
 * shared batched runner through the scheduler, applies Dynamic Confidence's stop rule
 * (decision.ts) and builds the one `Decision`. Everything it holds — the event pull, the SNN slot,
 * the wall-time timer — is freed by one teardown, reached through an `AbortSignal` from Observable
 * teardown, a decision, an error, the stream's end, or the wall-time limit. Aborting frees the
 * slot in the same turn and settles a pending pull at once.
 */
import type { Geometry } from '../../src/events/geometry';
import { SlotWaitAborted, type SnnScheduler } from '../../src/snn/scheduler';
import type { SlotReadout } from '../../src/snn/runner';
import type { Decision, Sample, StepResult, Frame } from '../types';
import { binStats, frameGeometry, type BinStats } from './binner';
import { forLiveStreams, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { buildDecision, stepResult, stopReason, type DecisionParams } from './decision';
import { ABORTED, raceAbort } from './event-source';
import { FrameCursor } from './frame-cursor';

export interface ClassifyStats {
  samples: number;
  decisions: number;
  early: number;
  /** Decisions whose confidence never exceeded θ (reported apart, never as answers). */
  uncertain: number;
  /** Samples stopped by the wall-time limit. */
  wallLimited: number;
  /** Steps not run because of early decisions (Σ maxSteps − steps over early decisions). */
  stepsSaved: number;
  stepsRun: number;
  eventsConsumed: number;
  /** Samples that gave no decision: no frame at all, or fewer than `minEvents` events binned. */
  emptySamples: number;
  bin: BinStats;
}

export function classifyStats(): ClassifyStats {
  return { samples: 0, decisions: 0, early: 0, uncertain: 0, wallLimited: 0, stepsSaved: 0, stepsRun: 0, eventsConsumed: 0, emptySamples: 0, bin: binStats() };
}

export interface EngineOptions {
  readonly model: ClassifierModel;
  readonly scheduler: SnnScheduler;
  /** Overrides of the model's θ, α, τ and T. */
  readonly theta?: number;
  readonly alpha?: number;
  readonly tau?: number;
  readonly maxSteps?: number;
  /** The samples are cut from a live stream: the model's live calibration and θ apply (`forLiveStreams`). */
  readonly liveSamples?: boolean;
  /**
   * Most wall-clock ms a sample may hold its SNN slot (from admission). When it expires the
   * sample stops pulling, is decided with the frames it has (`stoppedBy: 'wall-limit'`) and frees
   * its slot. Undefined: no limit (recorded data pulled as fast as possible).
   */
  readonly wallLimitMs?: number;
  /**
   * A sample that binned fewer events than this gets no decision (counted in `emptySamples`):
   * a window with no events, or a flicker, is not a gesture. Default 1.
   */
  readonly minEvents?: number;
  /** Each frame as it is binned (e.g. a preview for the viewer). */
  readonly onFrame?: (frame: Frame) => void;
  /** Per-step results (off when absent). */
  readonly onStep?: (r: StepResult) => void;
  readonly stats?: ClassifyStats;
}

/** A sample whose sensor size does not fit the model's input. */
export class ModelInputError extends Error {
  override readonly name = 'ModelInputError';
}

/** Why `geometry` cannot be classified by `model`, or undefined when it can. */
export function geometryMismatch(model: ClassifierModel, geometry: Geometry): string | undefined {
  const f = frameGeometry(geometry, model.downsample);
  if (f.width === model.net.inputWidth && f.height === model.net.inputHeight) return undefined;
  return (
    `a ${geometry.width}×${geometry.height} sensor downsampled ${model.downsample}× gives ${f.width}×${f.height} frames, ` +
    `but the model ${model.dir} takes ${model.net.inputWidth}×${model.net.inputHeight} (fit the sensor with --fit/--roi, or fitSource/fitSample)`
  );
}

/** θ, α, τ, T and the classes for a run: the options' overrides, else the model's. */
export function decisionParams(o: Pick<EngineOptions, 'model' | 'theta' | 'alpha' | 'tau' | 'maxSteps' | 'liveSamples'>): DecisionParams {
  const m = o.liveSamples ? forLiveStreams(o.model) : o.model;
  return {
    theta: o.theta ?? m.theta,
    stopRule: m.stopRule,
    alpha: o.alpha ?? m.alpha,
    tau: o.tau ?? m.tau,
    ...(m.calibration ? { calibration: m.calibration } : {}),
    maxSteps: o.maxSteps ?? m.maxSteps,
    classes: m.classes,
  };
}

/** The lazy frame cursor a model needs for one sample (throws ModelInputError when the sensor does not fit). */
export function sampleCursor(model: ClassifierModel, sample: Pick<Sample, 'id' | 'streamId' | 'tStart' | 'tEnd' | 'geometry'>, maxSteps: number, stats?: BinStats): FrameCursor {
  const mismatch = geometryMismatch(model, sample.geometry);
  if (mismatch !== undefined) throw new ModelInputError(`${sample.id}: ${mismatch}`);
  return new FrameCursor({
    geometry: sample.geometry,
    sampleId: sample.id,
    streamId: sample.streamId,
    tStart: Number.isFinite(sample.tStart) ? sample.tStart : undefined,
    tEnd: sample.tEnd,
    binUs: model.binUs,
    eventsPerBin: model.eventsPerBin,
    downsample: model.downsample,
    encoding: model.encoding,
    rampSteps: model.encodingSteps,
    maxSteps,
    stats,
  });
}

/**
 * Why a sample's pull is aborted (its teardown or its wall-time limit): a constant, because
 * `abort()` without a reason builds a DOMException (with its stack) for every sample.
 */
const SAMPLE_OVER = Object.freeze({ reason: 'the sample is over' });

/** Steps the slot, or resolves undefined as soon as `signal` aborts (the scheduler then drops the step). */
async function stepUnlessAborted(scheduler: SnnScheduler, slot: number, data: Float32Array, signal: AbortSignal): Promise<SlotReadout | undefined> {
  const step = scheduler.step(slot, data);
  step.catch(() => undefined); // released with the step pending: the sample is gone
  const r = await raceAbort(step, signal);
  return r === ABORTED ? undefined : r;
}

/** A slot for the sample, or undefined when `signal` aborted while it waited. */
async function admitUnlessAborted(scheduler: SnnScheduler, signal: AbortSignal): Promise<number | undefined> {
  try {
    return await scheduler.admit(signal);
  } catch (err) {
    if (err instanceof SlotWaitAborted) return undefined;
    throw err;
  }
}

function countDecision(stats: ClassifyStats, decision: Decision, maxSteps: number, eventsConsumed: number): void {
  stats.decisions++;
  stats.eventsConsumed += eventsConsumed;
  if (decision.early) {
    stats.early++;
    stats.stepsSaved += maxSteps - decision.steps;
  }
  if (!decision.confident) stats.uncertain++;
}

/**
 * Classifies one sample. Resolves its decision; undefined when `signal` aborted first or when
 * the sample produced no frame. Rejects on a model/sensor mismatch (before taking a slot) or a
 * runner error. No frame after the deciding one is ever built, and the pull is closed (a file
 * reader stops; a live segmenter gets the unconsumed events back through `settle`).
 */
export async function runSample(sample: Sample, o: EngineOptions, signal: AbortSignal): Promise<Decision | undefined> {
  const params = decisionParams(o);
  const stats = o.stats;
  const cursor = sampleCursor(o.model, sample, params.maxSteps, stats?.bin);
  if (stats) stats.samples++;
  const slot = await admitUnlessAborted(o.scheduler, signal);
  if (slot === undefined) return undefined;

  // One teardown: the pull stops, the slot is freed, the timer cleared — on abort in the same turn.
  const pullControl = new AbortController();
  let released = false;
  const teardown = (): void => {
    pullControl.abort(SAMPLE_OVER);
    if (!released) {
      released = true;
      o.scheduler.release(slot);
    }
  };
  if (signal.aborted) {
    teardown();
    return undefined;
  }
  signal.addEventListener('abort', teardown, { once: true });
  let wallLimited = false;
  const timer =
    o.wallLimitMs !== undefined
      ? setTimeout(() => {
          wallLimited = true;
          pullControl.abort(SAMPLE_OVER); // a pending pull settles as the end: the open bin becomes the last frame
        }, o.wallLimitMs)
      : undefined;
  const pull = sample.events.open(pullControl.signal);
  let fed = 0;
  let last: { r: StepResult; arrivalMs: number } | undefined;
  let stoppedBy: ReturnType<typeof stopReason>;
  try {
    for (;;) {
      const frame = cursor.next();
      if (!frame) {
        if (cursor.finished || !cursor.needsInput) break;
        const r = await pull.next();
        if (signal.aborted) return undefined;
        if (r.done) cursor.end();
        else {
          cursor.feed(r.value);
          fed += r.value.length;
        }
        continue;
      }
      const arrivalMs = cursor.lastFrameArrivalMs;
      o.onFrame?.(frame);
      const readout = await stepUnlessAborted(o.scheduler, slot, frame.data, signal);
      if (readout === undefined || signal.aborted) return undefined;
      const r = stepResult(frame, readout, params);
      if (stats) stats.stepsRun++;
      o.onStep?.(r);
      last = { r, arrivalMs };
      stoppedBy = stopReason(r, params, wallLimited);
      if (stoppedBy !== undefined) break;
    }
    if (stats && wallLimited) stats.wallLimited++;
    const eventsConsumed = fed - cursor.unconsumed;
    if (!last || eventsConsumed < (o.minEvents ?? 1)) {
      if (stats) stats.emptySamples++;
      return undefined;
    }
    // The cursor ran dry without a stop rule firing (count bins at the stream's end): the last step decides.
    const why = stoppedBy ?? (wallLimited ? 'wall-limit' : 'stream-end');
    const decision = buildDecision(sample, last.r, params, why, { eventsConsumed, latencyMs: performance.now() - last.arrivalMs });
    if (stats) countDecision(stats, decision, params.maxSteps, eventsConsumed);
    return decision;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    signal.removeEventListener('abort', teardown);
    pull.settle({ unconsumed: cursor.unconsumed, early: stoppedBy === 'confidence' });
    teardown();
  }
}
