/**
 * One live stream's pipeline, the same on every transport: the sensor's events fitted to the
 * model's input, cut into live samples, classified by the per-sample engine, with per-step
 * traces and frames reported on the way. The service's main thread, its worker threads and a
 * NATS worker move events to `classifyStream` and decisions away; none builds a pipeline of its own.
 *
 * It lives with the operators, not in streams/core, because it composes two of them (the fit and
 * `classifyLive`); core may not import operators (docs/architecture.md).
 */
import { throwError, type Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { forLiveStreams, type ClassifierModel } from '../../src/snn/model/classifier-model';
import type { SnnScheduler } from '../../src/snn/scheduler';
import { geometryMismatch, type ClassifyStats } from '../core/engine';
import { mapSource, type EventSource } from '../core/event-source';
import type { LiveSegmentOptions, SampleStart, SegmentStats } from '../core/live-segmenter';
import { stepTrace, type ServiceStepTrace } from '../core/step-trace';
import type { Decision, Frame } from '../types';
import { classifyLive, type LiveClassifyOptions } from './classify-live';
import { FitError, makeFit, modelSensorGeometry, type Fit, type FitSettings } from './fit';

/** The per-stream settings that are data (they cross to worker threads as they are). */
export type StreamSettings = Pick<LiveClassifyOptions, 'segmentation' | 'onDecided' | 'idleFlushMs' | 'wallLimitMs' | 'minEvents'>;

/** What every stream of one transport shares: the model, its batched runner, counters and where traces go. */
export interface StreamPipeline {
  readonly model: ClassifierModel;
  readonly scheduler: SnnScheduler;
  readonly stats?: ClassifyStats;
  readonly segmentStats?: SegmentStats;
  readonly settings?: StreamSettings;
  /** Each step's trace (the one trace shape: `stepTrace`); off when absent. */
  readonly onTrace?: (trace: ServiceStepTrace) => void;
  /** Each frame as it is binned (the viewer's preview). */
  readonly onFrame?: (frame: Frame) => void;
}

/** One stream: its id, its sensor's size, its events (as the sensor sent them) and how to fit them. */
export interface StreamInput {
  readonly streamId: string;
  readonly sensor: Geometry;
  readonly source: EventSource;
  readonly fit?: FitSettings;
  /** Where a stream taken over from a checkpoint picks up (a NATS worker). */
  readonly resume?: LiveSegmentOptions['resume'];
  /** Each sample's start; its `batch` is the batch as `source` gave it (before the fit), its `index` counts fitted events. */
  readonly onSampleStart?: (start: SampleStart) => void;
}

/** The fit for a sensor of this size, or why the model cannot take it (one line). */
export function planStreamFit(model: ClassifierModel, sensor: Geometry, fit: FitSettings = {}): { readonly fit: Fit } | { readonly refusal: string } {
  try {
    const planned = makeFit({ sensor, target: modelSensorGeometry(model), ...fit });
    const mismatch = geometryMismatch(model, planned.geometry);
    return mismatch === undefined ? { fit: planned } : { refusal: mismatch };
  } catch (err) {
    if (err instanceof FitError) return { refusal: err.message };
    throw err;
  }
}

/**
 * One stream → its decisions. A sensor the model cannot take errors with a `FitError` at once
 * (transports refuse it when it connects: `planStreamFit`). Unsubscribing aborts the running
 * sample and frees its slot.
 */
export function classifyStream(input: StreamInput, p: StreamPipeline): Observable<Decision> {
  const plan = planStreamFit(p.model, input.sensor, input.fit);
  if ('refusal' in plan) return throwError(() => new FitError(plan.refusal));
  const { fit } = plan;
  // The sample starts name the source's own batch, so that a transport can find where it came from.
  const sourceBatchOf = new WeakMap<EventBatch, EventBatch>();
  const fitted = fit.plan.identity
    ? input.source
    : mapSource(input.source, () => (batch) => {
        const out = fit.apply(batch);
        sourceBatchOf.set(out, batch);
        return out;
      });
  const onSampleStart = input.onSampleStart;
  const onTrace = p.onTrace;
  // A live stream's trace shows the confidence its samples are decided on (the live calibration).
  const traced = forLiveStreams(p.model);
  return classifyLive(input.streamId, fit.geometry, fitted, {
    ...p.settings,
    model: p.model,
    scheduler: p.scheduler,
    stats: p.stats,
    segmentStats: p.segmentStats,
    resume: input.resume,
    onSampleStart: onSampleStart && ((s) => onSampleStart({ ...s, batch: sourceBatchOf.get(s.batch) ?? s.batch })),
    onStep: onTrace && ((r) => onTrace(stepTrace(r, traced))),
    onFrame: p.onFrame,
  });
}
