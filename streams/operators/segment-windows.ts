import { Observable, type OperatorFunction } from 'rxjs';
import { sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { lowerBoundFrom, SampleFeed, type SegmentedSample, type SegmentStats } from './sample-feed';

/** One labelled window of a stream: events with tStart <= t < tEnd. */
export interface LabelWindow {
  readonly tStart: number;
  readonly tEnd: number;
  readonly label?: number;
  /** Sample id; default `${streamId}#${index in the list}`. */
  readonly id?: string;
}

export interface WindowSegmentOptions {
  readonly streamId: string;
  readonly geometry: Geometry;
  readonly stats?: SegmentStats;
}

/**
 * One Sample per label window (windows may overlap and come in any order) from ONE stream's
 * time-ordered batches. Windows open in order of tStart (ties: list order) when the stream's time
 * reaches tStart — the Sample is emitted then — and complete when an event at/after tEnd arrives
 * or the input completes. An event inside several windows goes to each (views on the same
 * memory, no copy); events in no window are counted as `unrouted` and dropped. Nothing is kept
 * for closed or decided windows; an open window that nobody has subscribed to yet holds its own
 * events (see `SampleFeed`). Windows past the end of the input are still emitted (empty) at
 * completion. Once every window has ended, the operator completes and unsubscribes upstream.
 * A decided sample (its events unsubscribed, or `decide()`) receives nothing more; its
 * remaining events are counted as skipped.
 */
export function segmentByWindows(
  windows: readonly LabelWindow[],
  options: WindowSegmentOptions,
): OperatorFunction<EventBatch, SegmentedSample> {
  windows.forEach((w, i) => {
    if (!Number.isFinite(w.tStart) || !(w.tEnd > w.tStart)) throw new RangeError(`segmentByWindows: window ${i} must have finite tStart < tEnd, got [${w.tStart}, ${w.tEnd})`);
  });
  const order = windows.map((_, i) => i).sort((a, b) => windows[a].tStart - windows[b].tStart || a - b);
  const { streamId, geometry, stats } = options;
  return (source) =>
    new Observable<SegmentedSample>((subscriber) => {
      let next = 0;
      const open: SampleFeed[] = [];
      const m = order.length;

      /** Opens and closes windows whose boundaries are <= t, in time order (closes first on ties). */
      const advanceTo = (t: number): void => {
        while (!subscriber.closed && (next < m || open.length > 0)) {
          const nextOpen = next < m ? windows[order[next]].tStart : Infinity;
          let ci = -1;
          let minEnd = Infinity;
          for (let q = 0; q < open.length; q++) {
            if (open[q].tEnd < minEnd) {
              minEnd = open[q].tEnd;
              ci = q;
            }
          }
          if (Math.min(nextOpen, minEnd) > t) return;
          if (ci >= 0 && minEnd <= nextOpen) {
            const [f] = open.splice(ci, 1);
            f.complete(f.tEnd);
          } else {
            const idx = order[next++];
            const w = windows[idx];
            const feed = new SampleFeed({ id: w.id ?? `${streamId}#${idx}`, streamId, label: w.label, tStart: w.tStart, tEnd: w.tEnd, geometry, stats });
            open.push(feed);
            subscriber.next(feed);
          }
        }
      };
      const nextBoundary = (): number => {
        let b = next < m ? windows[order[next]].tStart : Infinity;
        for (const f of open) if (f.tEnd < b) b = f.tEnd;
        return b;
      };
      const allDone = (): boolean => next === m && open.length === 0;

      if (allDone()) {
        subscriber.complete();
        return undefined;
      }
      const sub = source.subscribe({
        next: (batch) => {
          const n = batch.length;
          const T = batch.t;
          let i = 0;
          while (i < n && !subscriber.closed) {
            advanceTo(T[i]);
            if (subscriber.closed) return;
            if (allDone()) {
              if (stats) stats.unrouted += n - i;
              subscriber.complete();
              return;
            }
            const j = lowerBoundFrom(T, nextBoundary(), i, n);
            if (open.length === 0) {
              if (stats) stats.unrouted += j - i;
            } else {
              const piece = sliceByIndex(batch, i, j);
              for (const f of open.slice()) f.push(piece);
            }
            i = j;
          }
        },
        error: (err: unknown) => {
          for (const f of open.splice(0)) f.error(err);
          subscriber.error(err);
        },
        complete: () => {
          advanceTo(Infinity);
          if (!subscriber.closed) subscriber.complete();
        },
      });
      return () => sub.unsubscribe();
    });
}
