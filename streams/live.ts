import { type Observable } from 'rxjs';
import type { EventBatch } from '../src/events/event-batch';
import type { Geometry } from '../src/events/geometry';
import type { ClassifierModel } from './classifier-model';
import { classify, type ClassifiedDecision, type ClassifyOptions } from './operators/classify';
import type { OnDecided, SegmentStats } from './operators/sample-feed';
import { segmentStats } from './operators/sample-feed';
import { segmentByActivity } from './operators/segment-activity';
import { segmentTumbling } from './operators/segment-tumbling';

export type LiveSegmentation =
  | { readonly kind: 'activity'; readonly windowUs: number; readonly threshold: number; readonly quietUs: number }
  | { readonly kind: 'tumbling'; readonly durationUs: number };

/** Default live segmentation: a sample starts when ≥ 150 events fall in 50 ms (3 kev/s) and ends after 300 ms below that. */
export const DEFAULT_LIVE_SEGMENTATION: LiveSegmentation = { kind: 'activity', windowUs: 50_000, threshold: 150, quietUs: 300_000 };

export interface LiveStreamOptions extends Omit<ClassifyOptions, 'model'> {
  readonly model: ClassifierModel;
  readonly segmentation?: LiveSegmentation;
  /** After a decision: start the next sample at once (default) or skip to the window's end. */
  readonly onDecided?: OnDecided;
  readonly segmentStats?: SegmentStats;
}

/**
 * One live sensor stream → decisions. Events are cut into samples (activity-based by default;
 * samples last at most T·binUs), each sample is classified with Dynamic Confidence, and the
 * moment it is decided the segmenter starts the next sample (or skips to the window end).
 */
export function classifyLiveStream(streamId: string, geometry: Geometry, events: Observable<EventBatch>, o: LiveStreamOptions): Observable<ClassifiedDecision> {
  const seg = o.segmentation ?? DEFAULT_LIVE_SEGMENTATION;
  const model = o.model;
  const stepAlign = model.binUs !== undefined ? { stepUs: model.binUs } : { stepEvents: model.eventsPerBin };
  const maxDurationUs = model.binUs !== undefined ? model.binUs * (o.maxSteps ?? model.maxSteps) : undefined;
  const common = { streamId, geometry, onDecided: o.onDecided ?? 'next-sample', stats: o.segmentStats ?? segmentStats(), ...stepAlign } as const;
  const samples =
    seg.kind === 'activity'
      ? events.pipe(segmentByActivity({ ...common, windowUs: seg.windowUs, threshold: seg.threshold, quietUs: seg.quietUs, maxDurationUs }))
      : events.pipe(segmentTumbling({ ...common, durationUs: seg.durationUs }));
  // One sample at a time per stream: a live stream's samples follow each other in time.
  return samples.pipe(classify({ ...o, concurrency: 1 }));
}
