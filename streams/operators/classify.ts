import { mergeMap, Observable, type OperatorFunction } from 'rxjs';
import { confidence as confidenceOf } from '../../src/confidence/confidence';
import { shouldStop } from '../../src/confidence/decide';
import type { Decision } from '../sinks/decision';
import { toPulledIterator, type PushBufferStats } from '../sources/pull';
import type { Frame, Sample, StepResult } from '../types';
import type { SlotReadout } from '../../src/snn/runner';
import { binStats, FrameCursor, frameGeometry, type BinStats } from './bin';
import type { ClassifierModel } from '../classifier-model';
import type { SnnScheduler } from './snn-scheduler';

/** A decision with what the run of its sample cost. */
export interface ClassifiedDecision extends Decision {
  /** The sample's window start (µs); sensor-time latency is eventTimeUs − sampleStartUs. */
  readonly sampleStartUs: number;
  /** Events the sample consumed (binned) before its decision. */
  readonly eventsConsumed: number;
  /** Spikes per neuron (output layer excluded) up to the decision. */
  readonly spikesPerNeuron: number;
}

export interface ClassifyStats {
  samples: number;
  decisions: number;
  early: number;
  /** Steps not run because of early decisions (Σ maxSteps − steps over early decisions). */
  stepsSaved: number;
  stepsRun: number;
  eventsConsumed: number;
  /** Samples that produced no frame at all (no events and an open window). */
  emptySamples: number;
  bin: BinStats;
  /** Live events dropped because a sample's consumer fell too far behind. */
  buffer: PushBufferStats;
}

export function classifyStats(): ClassifyStats {
  return { samples: 0, decisions: 0, early: 0, stepsSaved: 0, stepsRun: 0, eventsConsumed: 0, emptySamples: 0, bin: binStats(), buffer: { dropped: 0 } };
}

export interface ClassifyOptions {
  readonly model: ClassifierModel;
  readonly scheduler: SnnScheduler;
  /** Overrides of the model's θ, α, τ and T. */
  readonly theta?: number;
  readonly alpha?: number;
  readonly tau?: number;
  readonly maxSteps?: number;
  /** Per-step results, for whoever asks (off when absent). */
  readonly onStep?: (r: StepResult) => void;
  readonly stats?: ClassifyStats;
  /** Most event batches buffered per live (push) sample before the oldest is dropped. */
  readonly maxBufferedBatches?: number;
}

/** One step's result: the readout of `frame`'s step and its confidence max softmax(O_t/(α·τ)). */
export function stepResult(frame: Frame, readout: SlotReadout, alpha: number, tau: number): StepResult {
  const c = confidenceOf(readout.output, alpha, tau);
  return {
    sampleId: frame.sampleId,
    streamId: frame.streamId,
    step: frame.step,
    output: readout.output,
    confidence: c.confidence,
    predicted: c.predicted,
    spikes: readout.spikes,
    spikesPerNeuron: readout.spikesPerNeuron,
    frame: { tStart: frame.tStart, tEnd: frame.tEnd, eventCount: frame.eventCount, closedBy: frame.closedBy },
  };
}

/** What identifies a sample in its decision. */
export interface SampleInfo {
  readonly id: string;
  readonly streamId: string;
  readonly label?: number;
  readonly tStart: number;
}

/**
 * Supplies the cursor with input when it needs some: feeds it a batch, or calls `end()` when no
 * more will come. Resolves false when the run was cancelled meanwhile.
 */
export type CursorFeeder = (cursor: FrameCursor) => Promise<boolean>;

/** Where a sample's run stopped, for the caller to act on (free its input, start the next sample). */
export interface SampleRunResult {
  readonly decision: ClassifiedDecision | undefined;
  /** True when stopped by confidence before the last step. */
  readonly early: boolean;
}

/**
 * The core of classification, shared by recorded and live sources: build frames from the cursor
 * only as they are needed, step each in the shared batched runner from the given slot, and stop at
 * the first step whose confidence exceeds θ, at T, or when the cursor has no more frames. No frame
 * after the deciding one is ever built. The slot stays the caller's to release.
 */
export async function runSampleFrames(
  sample: SampleInfo,
  slot: number,
  cursor: FrameCursor,
  feed: CursorFeeder,
  o: ClassifyOptions,
  cancelled: () => boolean,
): Promise<SampleRunResult | undefined> {
  const { model, scheduler } = o;
  const stats = o.stats;
  const theta = o.theta ?? model.theta;
  const alpha = o.alpha ?? model.alpha;
  const tau = o.tau ?? model.tau;
  const maxSteps = o.maxSteps ?? model.maxSteps;
  let last: { r: StepResult; readyAt: number; lastStep: boolean } | undefined;
  for (;;) {
    const frame = cursor.next();
    if (!frame) {
      if (cursor.finished || !cursor.needsInput) break;
      if (!(await feed(cursor)) || cancelled()) return undefined;
      continue;
    }
    const readyAt = performance.now();
    const readout = await scheduler.step(slot, frame.data);
    if (cancelled()) return undefined;
    const result = stepResult(frame, readout, alpha, tau);
    if (stats) stats.stepsRun++;
    o.onStep?.(result);
    // The sample's final frame (T reached, window or stream ended) is a decision at its end, not an early one.
    const lastStep = frame.step + 1 >= maxSteps || frame.closedBy === 'window-end' || frame.closedBy === 'stream-end';
    last = { r: result, readyAt, lastStep };
    if (shouldStop(result.confidence, theta) || lastStep) break;
  }
  if (!last) {
    if (stats) stats.emptySamples++;
    return { decision: undefined, early: false };
  }
  const { r, readyAt, lastStep } = last;
  const steps = r.step + 1;
  const early = !lastStep && shouldStop(r.confidence, theta);
  if (stats) {
    stats.decisions++;
    if (early) {
      stats.early++;
      stats.stepsSaved += maxSteps - steps;
    }
  }
  const decision: ClassifiedDecision = {
    streamId: sample.streamId,
    sampleId: sample.id,
    label: r.predicted,
    className: model.classes[r.predicted] ?? `class ${r.predicted}`,
    confidence: r.confidence,
    steps,
    maxSteps,
    early,
    eventTimeUs: r.frame.tEnd,
    latencyMs: performance.now() - readyAt,
    ...(sample.label !== undefined ? { trueLabel: sample.label } : {}),
    sampleStartUs: sample.tStart,
    eventsConsumed: 0,
    spikesPerNeuron: r.spikesPerNeuron,
  };
  return { decision, early };
}

/** A sample whose sensor size does not fit the model's input. */
export class ModelInputError extends Error {
  override readonly name = 'ModelInputError';
}

/** The cursor a model needs for one sample. */
export function sampleCursor(model: ClassifierModel, geometry: Sample['geometry'], sample: { id: string; streamId: string; tStart: number; tEnd: number }, o: Pick<ClassifyOptions, 'maxSteps' | 'stats'>): FrameCursor {
  const f = frameGeometry(geometry, model.downsample);
  if (f.width !== model.net.inputWidth || f.height !== model.net.inputHeight) {
    throw new ModelInputError(
      `${sample.id}: a ${geometry.width}×${geometry.height} sensor downsampled ${model.downsample}× gives ${f.width}×${f.height} frames, but the model ${model.dir} takes ${model.net.inputWidth}×${model.net.inputHeight}`,
    );
  }
  return new FrameCursor({
    geometry,
    sampleId: sample.id,
    streamId: sample.streamId,
    tStart: Number.isFinite(sample.tStart) ? sample.tStart : undefined,
    tEnd: sample.tEnd,
    binUs: model.binUs,
    eventsPerBin: model.eventsPerBin,
    downsample: model.downsample,
    maxSteps: o.maxSteps ?? model.maxSteps,
    stats: o.stats?.bin,
  });
}

/**
 * Runs one sample to its decision: pull events only as far as the next frame needs, build that
 * frame, step it in the shared batched runner, and stop at the first step whose confidence
 * exceeds θ (or at T, or at the window's end). Stopping returns the iterator (a file reader
 * closes, a live segmenter stops routing) and frees the slot: no frame after the deciding one is
 * ever built. Resolves undefined if cancelled or if the sample had no frame at all.
 */
export async function classifySample(sample: Sample, o: ClassifyOptions, cancelled: () => boolean = () => false): Promise<ClassifiedDecision | undefined> {
  const { scheduler } = o;
  const stats = o.stats;
  if (stats) stats.samples++;
  const slot = await scheduler.admit();
  if (cancelled()) {
    scheduler.release(slot);
    return undefined;
  }
  const events = toPulledIterator(sample.events, { maxBuffered: o.maxBufferedBatches ?? 65536, stats: stats?.buffer });
  const cursor = sampleCursor(o.model, sample.geometry, sample, o);
  let consumed = 0;
  const feed: CursorFeeder = async (c) => {
    const r = await events.next();
    if (cancelled()) return false;
    if (r.done) c.end();
    else {
      c.feed(r.value);
      consumed += r.value.length;
    }
    return true;
  };
  let run: SampleRunResult | undefined;
  try {
    run = await runSampleFrames(sample, slot, cursor, feed, o, cancelled);
  } finally {
    // Close the source first: a file reader must not read on while the slot is handed over.
    void events.return?.().catch(() => undefined);
    scheduler.release(slot);
  }
  if (!run?.decision) return undefined;
  // Events pulled but never binned (past the deciding frame) were not consumed.
  consumed -= cursor.unconsumed;
  if (stats) stats.eventsConsumed += consumed;
  return { ...run.decision, eventsConsumed: consumed };
}

/**
 * Samples in, one decision per sample out (in the order they are decided). Up to `concurrency`
 * samples run at once (default: the runner's slot count); their frames share one batched SNN
 * call per event-loop turn. Unsubscribing cancels every running sample and frees its slot.
 */
export function classify(o: ClassifyOptions & { concurrency?: number }): OperatorFunction<Sample, ClassifiedDecision> {
  const concurrency = o.concurrency ?? o.scheduler.runner.capacity;
  return (samples) =>
    samples.pipe(
      mergeMap(
        (sample) =>
          new Observable<ClassifiedDecision>((subscriber) => {
            let cancelled = false;
            classifySample(sample, o, () => cancelled).then(
              (d) => {
                if (cancelled) return;
                if (d) subscriber.next(d);
                subscriber.complete();
              },
              (err: unknown) => {
                if (!cancelled) subscriber.error(err);
              },
            );
            return () => {
              cancelled = true;
            };
          }),
        concurrency,
      ),
    );
}
