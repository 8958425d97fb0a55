import { Observable, type OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import type { Frame, Sample } from '../types';
import { checkBinOptions, FrameBinner, type BinOptions, type Emit } from '../core/binner';
import { eventsOf } from '../core/event-source';

export { binEvents, binStats, frameGeometry, type BinOptions, type BinStats } from '../core/binner';

/**
 * Bins ONE sample's events into dense frames (H×W×2 NHWC Float32Array event counts,
 * channel 0 = OFF, 1 = ON, H = ceil(sensorH / downsample), W = ceil(sensorW / downsample)).
 *
 * Time bins (`binUs`): frame k covers [tStart + k·binUs, min(tStart + (k+1)·binUs, tEnd)).
 * A frame is emitted when an event of a later bin arrives (closedBy 'time'); a gap emits the
 * empty frames in between. An event at/after tEnd, or the input's completion with a finite
 * tEnd, emits every remaining frame up to the window end, the last one 'window-end' (capped by
 * maxSteps). On completion with tEnd = Infinity the open bin is emitted ('stream-end') if it holds
 * events; it ends just after its last event (min(bin end, last t + 1)). Count bins (`eventsPerBin`): a frame closes at its N-th event ('count'); its tStart and
 * tEnd are the times of its first and last event (inclusive); the partial last bin is emitted at
 * window end ('window-end') or completion ('stream-end'); there are no empty count bins.
 *
 * Events outside the geometry or the window are dropped and counted (`stats`). After maxSteps
 * frames, or after an event at/after tEnd, the operator completes and unsubscribes upstream.
 * Lazy: frames are built only as they are emitted; when the consumer unsubscribes (the sample
 * was decided at step k) no frame k+1 is built.
 */
export function binFrames(options: BinOptions): OperatorFunction<EventBatch, Frame> {
  checkBinOptions(options);
  return (source) =>
    new Observable<Frame>((subscriber) => {
      const binner = new FrameBinner(options);
      const emit: Emit = (frame) => {
        subscriber.next(frame);
        return subscriber.closed ? 'stop' : 'continue';
      };
      const sub = source.subscribe({
        next: (batch) => {
          if (subscriber.closed || binner.finished) return;
          if (binner.push(batch, emit).kind === 'finished' && !subscriber.closed) subscriber.complete();
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          if (subscriber.closed) return;
          binner.finish(emit);
          subscriber.complete();
        },
      });
      return () => sub.unsubscribe();
    });
}

/** Bin options a Sample determines: its ids, window and geometry. */
export type SampleBinOptions = Omit<BinOptions, 'sampleId' | 'streamId' | 'tStart' | 'tEnd' | 'geometry'>;

/** `sample.events` binned with the sample's own id, window and geometry. */
export function binSample(sample: Sample, options: SampleBinOptions): Observable<Frame> {
  return eventsOf(sample.events).pipe(
    binFrames({ ...options, sampleId: sample.id, streamId: sample.streamId, tStart: sample.tStart, tEnd: sample.tEnd, geometry: sample.geometry }),
  );
}
