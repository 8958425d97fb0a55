import type { OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { bufferedSource, type BufferOptions } from '../core/buffered-source';
import { segmentLive, type LiveSegmentOptions } from '../core/live-segmenter';
import type { Sample } from '../types';

export interface LiveSegmentOperatorOptions extends Omit<LiveSegmentOptions, 'segmentation'> {
  /** The bounded queue between the push input and the segmenter's pull (size, overflow policy, drop counter). */
  readonly buffer?: BufferOptions;
}

/**
 * Activity segmentation of ONE stream as an operator: the operator face of `segmentLive` for a
 * push input (a socket, a filter chain). The events go through an explicit bounded queue
 * (`buffer`: its size and overflow policy are stated, its drops counted); for a recorded file
 * call `segmentLive(eventFileSource(file), …)` and nothing is read ahead.
 */
export function segmentByActivity(o: LiveSegmentOperatorOptions & { windowUs: number; threshold: number; quietUs: number }): OperatorFunction<EventBatch, Sample> {
  const segmentation = { kind: 'activity' as const, windowUs: o.windowUs, threshold: o.threshold, quietUs: o.quietUs };
  return (events) => segmentLive(bufferedSource(events, o.buffer), { ...o, segmentation });
}

/** Tumbling windows of `durationUs` (from the first event) over ONE stream, as an operator (see `segmentByActivity`). */
export function segmentTumbling(o: LiveSegmentOperatorOptions & { durationUs: number }): OperatorFunction<EventBatch, Sample> {
  return (events) => segmentLive(bufferedSource(events, o.buffer), { ...o, segmentation: { kind: 'tumbling', durationUs: o.durationUs } });
}
