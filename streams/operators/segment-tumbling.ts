import { Observable, type OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { checkAlign, lowerBoundFrom, routeLive, SampleFeed, type LiveSegmentOptions, type SegmentedSample } from './sample-feed';

export interface TumblingOptions extends LiveSegmentOptions {
  /** Window duration in µs. */
  readonly durationUs: number;
  /** Grid origin: windows are [origin + k·durationUs, origin + (k+1)·durationUs). Default: the first event's time. */
  readonly tOrigin?: number;
}

/**
 * Fixed-duration windows over ONE stream's time-ordered batches. A window's Sample is emitted
 * when its first event arrives (windows without events are not emitted) and completes when an
 * event at/after its end arrives or the input completes. Ids are `${streamId}#${n}` (n from 0).
 *
 * Decided early (its events unsubscribed, or `decide()`):
 * - 'next-sample' (default, live streams): the next sample starts at once, and the grid restarts
 *   from it. With `stepUs` its tStart is the start of the step cell in which the decision was
 *   seen (tStart_old + c·stepUs) and it receives that cell's events; otherwise it starts at the
 *   first event not delivered to the decided sample.
 * - 'skip-to-window-end': the rest of the window is skipped (counted) and the next window of
 *   the grid follows.
 * Results do not depend on batch boundaries when decisions are made synchronously while a
 * sample's events are delivered and `stepUs`/`stepEvents` match the binning.
 */
export function segmentTumbling(options: TumblingOptions): OperatorFunction<EventBatch, SegmentedSample> {
  const D = options.durationUs;
  if (!(Number.isFinite(D) && D > 0)) throw new RangeError(`segmentTumbling: durationUs must be a finite number > 0, got ${D}`);
  if (options.tOrigin !== undefined && !Number.isFinite(options.tOrigin)) throw new RangeError('segmentTumbling: tOrigin must be finite');
  checkAlign(options, 'segmentTumbling');
  const { streamId, geometry, label, stats } = options;
  const mode = options.onDecided ?? 'next-sample';
  return (source) =>
    new Observable<SegmentedSample>((subscriber) => {
      let origin: number | null = options.tOrigin ?? null;
      let cur: SampleFeed | null = null;
      let seq = 0;
      let lastT = -Infinity;

      const sub = source.subscribe({
        next: (batch) => {
          const n = batch.length;
          const T = batch.t;
          if (n > 0) lastT = T[n - 1];
          let i = 0;
          while (i < n && !subscriber.closed) {
            const t = T[i];
            if (cur === null) {
              if (origin === null) origin = t;
              if (t < origin) {
                const j = lowerBoundFrom(T, origin, i, n);
                if (stats) stats.unrouted += j - i;
                i = j;
                continue;
              }
              const start = origin + Math.floor((t - origin) / D) * D;
              cur = new SampleFeed({ id: `${streamId}#${seq++}`, streamId, label, tStart: start, tEnd: start + D, geometry, stats });
              subscriber.next(cur);
              continue;
            }
            if (t >= cur.tEnd) {
              cur.complete(cur.tEnd);
              cur = null;
              continue;
            }
            const j = lowerBoundFrom(T, cur.tEnd, i, n);
            const k = routeLive(cur, batch, i, j, options);
            if (!cur.decided) {
              i = j;
              continue;
            }
            if (mode === 'skip-to-window-end') {
              cur.skip(j - k);
              i = j;
              continue;
            }
            // next-sample: restart the grid at the decision point.
            const f: SampleFeed = cur;
            cur = null;
            if (k < n) {
              origin = options.stepUs !== undefined ? f.tStart + Math.floor((T[k] - f.tStart) / options.stepUs) * options.stepUs : T[k];
            } else {
              origin = null;
            }
            f.complete(origin ?? T[n - 1]);
            i = k;
          }
        },
        error: (err: unknown) => {
          cur?.error(err);
          cur = null;
          subscriber.error(err);
        },
        complete: () => {
          cur?.complete(lastT);
          cur = null;
          subscriber.complete();
        },
      });
      return () => sub.unsubscribe();
    });
}
