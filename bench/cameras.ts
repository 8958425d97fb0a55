/**
 * Simulated cameras for the live benchmarks: camera i of n replays the bundled recording from
 * offset i/n of its span, wrapped around, in real time, and logs when each paced slice was handed
 * to its socket — so that a decision's latency can be measured from the moment the event that
 * closed its deciding bin was sent. (bench/pipeline.ts has its own copy of `camera`; it can use
 * this module.)
 */
import { lowerBoundTime, sliceByIndex, type EventBatch } from '../src/events/event-batch';
import { paceBatches } from '../streams/sources/from-event-file';
import { REALTIME } from '../streams/sources/pacing';
import { percentile } from './common';

/** Camera i of n: the recording from offset i/n, wrapped, time rebased to 0 and kept monotone, for `seconds`. */
export async function* camera(batches: readonly EventBatch[], t0: number, period: number, i: number, n: number, seconds: number): AsyncGenerator<EventBatch> {
  const offset = t0 + Math.floor((i / n) * period);
  const limit = seconds * 1e6;
  const lead = t0 + period - offset; // sensor time of the part from the offset to the end
  for (let pass = 0; pass * period < limit; pass++) {
    for (const phase of [0, 1]) {
      for (const b of batches) {
        const cut = lowerBoundTime(b, offset);
        const [from, to] = phase === 0 ? [cut, b.length] : [0, cut];
        if (from >= to) continue;
        const part = sliceByIndex(b, from, to);
        const shift = (phase === 0 ? -offset : lead - t0) + pass * period;
        const t = new Float64Array(part.length);
        let k = 0;
        for (; k < part.length; k++) {
          const v = part.t[k] + shift;
          if (v >= limit) break;
          t[k] = v;
        }
        if (k === 0) return;
        yield { ...sliceByIndex(part, 0, k), t: t.subarray(0, k) };
        if (k < part.length) return;
      }
    }
  }
}

/** When each paced slice of one camera was sent: its last event time and the wall time (performance.now()). */
export interface SliceLog {
  readonly lastT: number[];
  readonly sentAt: number[];
}

/**
 * Camera i of n paced in real time, each slice logged in `log` as it is handed on; `lateness`
 * gets how late each slice was against the camera's own clock (ms; the generator keeping up).
 */
export async function* loggedCamera(batches: readonly EventBatch[], t0: number, period: number, i: number, n: number, seconds: number, log: SliceLog, lateness: number[]): AsyncGenerator<EventBatch> {
  let anchor: { wall: number; t: number } | undefined;
  for await (const s of paceBatches(camera(batches, t0, period, i, n, seconds), REALTIME)) {
    const now = performance.now();
    anchor ??= { wall: now, t: s.t[0] };
    lateness.push(now - (anchor.wall + (s.t[0] - anchor.t) / 1000));
    log.lastT.push(s.t[s.length - 1]);
    log.sentAt.push(now);
    yield s;
  }
}

/** A decision as a subscriber saw it. */
export interface Arrival {
  readonly streamId: string;
  readonly eventTimeUs: number;
  readonly early: boolean;
  /** performance.now() at arrival. */
  readonly at: number;
}

/**
 * Latency (ms) of each early decision: from the sending of the first slice whose last event is
 * at or after the decision's time (it holds the event that closed the deciding bin) to its
 * arrival. Non-early decisions are left out: their last frame may be closed by the segmenter's
 * quiet-gap end rather than by an event.
 */
export function decisionLatencies(arrivals: readonly Arrival[], logs: ReadonlyMap<string, SliceLog>): number[] {
  const lat: number[] = [];
  for (const a of arrivals) {
    const log = logs.get(a.streamId);
    if (!a.early || !log) continue;
    let lo = 0;
    let hi = log.lastT.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (log.lastT[mid] < a.eventTimeUs) lo = mid + 1;
      else hi = mid;
    }
    if (lo < log.lastT.length) lat.push(a.at - log.sentAt[lo]);
  }
  return lat;
}

/** p99 of the cameras' lateness (ms), 0 when none. */
export function latenessP99(lateness: readonly number[]): number {
  return lateness.length ? percentile(lateness, 0.99) : 0;
}
