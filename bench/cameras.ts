/**
 * Simulated cameras for the live benchmarks: camera i of n replays the bundled recording from
 * offset i/n of its span, wrapped around, in real time, and logs when each paced slice was handed
 * to its socket — so that a decision's latency can be measured from the moment the event that
 * closed its deciding bin was sent. Used by bench:pipeline, bench:viewer and bench:cluster.
 */
import WebSocket from 'ws';
import { lowerBoundTime, sliceByIndex, type EventBatch } from '../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { paceBatches } from '../streams/sources/from-event-file';
import { REALTIME } from '../streams/sources/pacing';
import { percentile } from './common';

/** A recording in memory, with its first event's time and its span (µs): what `camera` replays. */
export async function loadRecording(file: string): Promise<{ batches: EventBatch[]; t0: number; period: number }> {
  const batches: EventBatch[] = [];
  for await (const b of readEventFile(file)) batches.push(b);
  const last = batches[batches.length - 1];
  const t0 = batches[0].t[0];
  return { batches, t0, period: last.t[last.length - 1] - t0 + 1 };
}

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

/** A subscriber on `<url>/decisions` (url: the service's http:// URL) that notes each decision's arrival; resolves once open. */
export async function decisionArrivals(url: string): Promise<{ ws: WebSocket; arrivals: Arrival[] }> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/decisions`, { perMessageDeflate: false });
  const arrivals: Arrival[] = [];
  ws.on('message', (d) => {
    const at = performance.now();
    const m = JSON.parse(d.toString()) as { type: string; streamId: string; eventTimeUs: number; early: boolean };
    if (m.type === 'decision') arrivals.push({ streamId: m.streamId, eventTimeUs: m.eventTimeUs, early: m.early, at });
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, arrivals };
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
