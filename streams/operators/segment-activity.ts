import { Observable, type OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { ActivityDetector, activityEndIndex, activityEndTime } from './activity-detector';
import { checkAlign, routeLive, SampleFeed, type LiveSegmentOptions, type SegmentedSample } from './sample-feed';

export interface ActivityOptions extends LiveSegmentOptions {
  /** Sliding window W (µs) over which the event rate is counted: events with t - W < t_i <= t. */
  readonly windowUs: number;
  /** Level: a sample starts at the event that makes the count in the sliding window reach this many events. */
  readonly threshold: number;
  /** Quiet gap G (µs): a sample ends once the count has stayed below `threshold` for G. */
  readonly quietUs: number;
  /** A sample ends at tStart + maxDurationUs at the latest (default Infinity). */
  readonly maxDurationUs?: number;
}

/**
 * Activity-based segmentation of ONE stream's time-ordered batches. The rate is the number of
 * events in the sliding window (t - W, t]. A sample starts at the event that brings it to
 * `threshold` (that event is the sample's first; tStart is its time) and ends at the first
 * moment the rate has been below `threshold` for `quietUs`, or at tStart + maxDurationUs —
 * detected when the next event arrives (or at completion); `endedAt` records the end time.
 * Samples are open-ended (tEnd = Infinity): their events complete when they end. Events outside
 * samples are counted as `unrouted`. Ids are `${streamId}#${n}`.
 *
 * Decided early: 'next-sample' (default) ends the sample at the decision point and starts the
 * next one at the first undelivered event if the rate there is at the level (else waits for the
 * next rise); 'skip-to-window-end' skips (and counts) events until the sample would have ended.
 * Memory: the timestamps of the last W µs (a growable ring) and nothing else.
 */
export function segmentByActivity(options: ActivityOptions): OperatorFunction<EventBatch, SegmentedSample> {
  const W = options.windowUs;
  const thr = options.threshold;
  const G = options.quietUs;
  const maxDur = options.maxDurationUs ?? Infinity;
  if (!(Number.isFinite(W) && W > 0)) throw new RangeError(`segmentByActivity: windowUs must be a finite number > 0, got ${W}`);
  if (!(Number.isInteger(thr) && thr > 0)) throw new RangeError(`segmentByActivity: threshold must be a positive integer, got ${thr}`);
  if (!(Number.isFinite(G) && G >= 0)) throw new RangeError(`segmentByActivity: quietUs must be a finite number >= 0, got ${G}`);
  if (!(maxDur > 0)) throw new RangeError(`segmentByActivity: maxDurationUs must be > 0, got ${maxDur}`);
  checkAlign(options, 'segmentByActivity');
  const { streamId, geometry, label, stats } = options;
  const mode = options.onDecided ?? 'next-sample';
  return (source) =>
    new Observable<SegmentedSample>((subscriber) => {
      const detector = new ActivityDetector(W, thr);
      let cur: SampleFeed | null = null;
      let seq = 0;
      let lastT = -Infinity;

      const sub = source.subscribe({
        next: (batch) => {
          const n = batch.length;
          if (n === 0) return;
          const T = batch.t;
          lastT = T[n - 1];
          // Phase A: the rate detector, independent of samples and decisions.
          const scan = detector.scan(batch);
          const { above } = scan;
          // Phase B: samples.
          let i = 0;
          let scanFrom = 0; // first index whose end condition is checked for `cur`
          while (i < n && !subscriber.closed) {
            if (cur === null) {
              let s = i;
              while (s < n && above[s] === 0) s++;
              if (stats) stats.unrouted += s - i;
              i = s;
              if (s === n) break;
              cur = new SampleFeed({ id: `${streamId}#${seq++}`, streamId, label, tStart: T[s], tEnd: Infinity, geometry, stats });
              scanFrom = s + 1;
              subscriber.next(cur);
              continue;
            }
            const maxEnd = cur.tStart + maxDur;
            const e = activityEndIndex(batch, scan, Math.max(i, scanFrom), G, maxEnd);
            const endT = e < n ? activityEndTime(scan, e, G, maxEnd) : Infinity;
            const k = routeLive(cur, batch, i, e, options);
            if (cur.decided && mode === 'next-sample') {
              const f: SampleFeed = cur;
              cur = null;
              f.complete(k < n ? T[k] : T[n - 1]);
              i = k;
              continue;
            }
            if (cur.decided) cur.skip(e - k);
            i = e;
            if (e < n) {
              cur.complete(endT);
              cur = null;
            }
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
