import type { Observable } from 'rxjs';
import type { Geometry } from '../../src/events/geometry';
import type { EventSource } from '../core/event-source';
import { segmentLive, type LiveSegmentOptions } from '../core/live-segmenter';
import type { Decision } from '../types';
import { classify, type ClassifyOptions } from './classify';

export interface LiveClassifyOptions extends Omit<ClassifyOptions, 'concurrency'>, Pick<LiveSegmentOptions, 'label' | 'segmentation' | 'onDecided' | 'idleFlushMs' | 'resume' | 'onSampleStart'> {
  readonly segmentStats?: LiveSegmentOptions['stats'];
}

/**
 * One live stream → its decisions: `segmentLive(source).pipe(classify(…))`, with the model's live
 * calibration and θ (`liveSamples`: see `forLiveStreams`). Samples run one
 * after another (the next starts at the first event the previous decision did not bin) and cap
 * at T·bin of sensor time. Deterministic: the same events give the same decisions whatever their
 * batching, pacing, or the other streams sharing the runner.
 */
export function classifyLive(streamId: string, geometry: Geometry, source: EventSource, o: LiveClassifyOptions): Observable<Decision> {
  const maxSteps = o.maxSteps ?? o.model.maxSteps;
  const samples = segmentLive(source, {
    streamId,
    geometry,
    label: o.label,
    segmentation: o.segmentation,
    onDecided: o.onDecided,
    idleFlushMs: o.idleFlushMs,
    maxDurationUs: o.model.binUs !== undefined ? o.model.binUs * maxSteps : Infinity,
    stats: o.segmentStats,
    resume: o.resume,
    onSampleStart: o.onSampleStart,
  });
  return samples.pipe(classify({ ...o, liveSamples: true, concurrency: 1 }));
}
