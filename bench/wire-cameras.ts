/**
 * A load generator that costs (almost) nothing, for bench:pipeline, bench:cluster and bench:soak.
 *
 * The recording is cut once into slices of `sliceUs` of sensor time and each slice is encoded
 * once as a wire message (src/formats/wire). Every camera sends those same bytes: camera i of n
 * starts at slice ⌊i·S/n⌋ and wraps around, and only the header's t0 differs between cameras
 * (the time deltas in the payload are relative, so rebasing a camera's clock is 8 bytes). One
 * timer paces all cameras: camera i's m-th slice is sent when its sensor time has fully passed
 * (at the slice's end, as a camera's USB packet would be), and cameras are spread over
 * `phases` sub-ticks so the service does not get n messages at once every slice.
 *
 * Sharing the bytes is safe because ws (client side, no permessage-deflate) masks a read-only
 * view into a fresh frame buffer synchronously inside `send`: t0 is written, the frame is built,
 * and the next camera's t0 may overwrite the shared header. `perMessageDeflate: false` is set
 * below so that no compressor ever queues the original bytes.
 */
import WebSocket from 'ws';
import { concatBatches, lowerBoundTime, sliceByIndex, type EventBatch } from '../src/events/event-batch';
import type { Geometry } from '../src/events/geometry';
import { encodeEventMessage } from '../src/formats/wire';
import type { SliceLog } from './cameras';

/** The recording as pre-encoded slices; times relative to the recording's first event (µs). */
export interface EncodedRecording {
  readonly sliceUs: number;
  /** The wire message of slice j (undefined: no event in it). Shared: only bytes 10…17 (t0) change. */
  readonly messages: readonly (Uint8Array | undefined)[];
  /** First and last event time of slice j, relative to the recording's start. */
  readonly firstT: Float64Array;
  readonly lastT: Float64Array;
  readonly events: Uint32Array;
  /** S · sliceUs: one pass of the recording (its tail rounded up to a whole slice). */
  readonly periodUs: number;
}

/** Cuts `batches` (time-ordered) into slices of `sliceUs` and encodes each once. */
export function encodeRecording(batches: readonly EventBatch[], geometry: Geometry, sliceUs = 10_000): EncodedRecording {
  const all = concatBatches(batches);
  const t0 = all.t[0];
  const span = all.t[all.length - 1] - t0 + 1;
  const slices = Math.ceil(span / sliceUs);
  const messages: (Uint8Array | undefined)[] = [];
  const firstT = new Float64Array(slices);
  const lastT = new Float64Array(slices);
  const events = new Uint32Array(slices);
  let from = 0;
  for (let j = 0; j < slices; j++) {
    const to = lowerBoundTime(all, t0 + (j + 1) * sliceUs);
    if (to > from) {
      const part = sliceByIndex(all, from, to);
      const t = new Float64Array(part.length);
      for (let k = 0; k < t.length; k++) t[k] = part.t[k] - t0;
      messages.push(encodeEventMessage({ ...part, t }, geometry));
      firstT[j] = t[0];
      lastT[j] = t[t.length - 1];
      events[j] = t.length;
    } else messages.push(undefined);
    from = to;
  }
  return { sliceUs, messages, firstT, lastT, events, periodUs: slices * sliceUs };
}

export interface WireCamerasOptions {
  /** Stream id of camera i: `${prefix}${i}`. */
  readonly prefix: string;
  readonly seconds: number;
  /** Sub-ticks per slice over which the cameras are spread (default 4). */
  readonly phases?: number;
  readonly token?: string;
}

/** What the cameras did: events sent, per-camera slice logs (for latency), lateness of the ticks. */
export interface WireCamerasResult {
  readonly events: number;
  readonly messages: number;
  readonly logs: Map<string, SliceLog>;
  /** How late each sub-tick ran against its schedule (ms). */
  readonly lateness: number[];
  /** Cameras whose socket closed before the end (id → close code). */
  readonly closedEarly: Map<string, number>;
  /** Largest ws.bufferedAmount seen (bytes not yet written to the kernel: the service not reading). */
  readonly maxBufferedBytes: number;
}

async function openAll(url: string, ids: readonly string[], token: string | undefined): Promise<WebSocket[]> {
  const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
  return Promise.all(
    ids.map(
      (id) =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ingest/${id}`, { headers, perMessageDeflate: false });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
    ),
  );
}

/**
 * n cameras replaying `rec` in real time into `<url>/ingest/<prefix><i>`: `run()` resolves once every
 * camera has sent its last slice and closed (1000). Its counters are live while it runs (bench:soak
 * reads them every minute and `trim`s the logs).
 */
export class WireCameras implements WireCamerasResult {
  events = 0;
  messages = 0;
  maxBufferedBytes = 0;
  readonly logs: Map<string, SliceLog>;
  readonly lateness: number[] = [];
  readonly closedEarly = new Map<string, number>();
  private readonly ids: string[];
  private readonly start: number[];
  private sockets: WebSocket[] = [];

  constructor(
    private readonly url: string,
    private readonly rec: EncodedRecording,
    private readonly n: number,
    private readonly opts: WireCamerasOptions,
  ) {
    this.ids = Array.from({ length: n }, (_, i) => `${opts.prefix}${i}`);
    this.start = this.ids.map((_, i) => Math.floor((i * rec.messages.length) / n));
    this.logs = new Map(this.ids.map((id) => [id, { lastT: [], sentAt: [] }]));
  }

  async run(): Promise<this> {
    this.sockets = await openAll(this.url, this.ids, this.opts.token);
    let closing = false;
    this.sockets.forEach((ws, i) => ws.once('close', (code) => closing || this.closedEarly.set(this.ids[i], code)));
    const phases = Math.max(1, Math.min(this.opts.phases ?? 4, this.n));
    const subTickMs = this.rec.sliceUs / 1000 / phases;
    const slicesTotal = Math.floor((this.opts.seconds * 1e6) / this.rec.sliceUs);
    const wall0 = performance.now();
    // Sub-tick k sends slice m = ⌊k / phases⌋ of the cameras with i % phases = k % phases, due at the slice's end.
    for (let k = 0; k < slicesTotal * phases; k++) {
      const due = wall0 + (k + phases) * subTickMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const now = performance.now();
      this.lateness.push(now - due);
      const m = Math.floor(k / phases);
      for (let i = k % phases; i < this.n; i += phases) this.sendSlice(i, m, now);
    }
    closing = true;
    await Promise.all(this.sockets.map(closeNormally));
    return this;
  }

  /** Forgets slice logs sent before `wallMs` (performance.now()) and the lateness seen so far. */
  trim(wallMs: number): void {
    for (const log of this.logs.values()) {
      let k = 0;
      while (k < log.sentAt.length && log.sentAt[k] < wallMs) k++;
      log.sentAt.splice(0, k);
      log.lastT.splice(0, k);
    }
    this.lateness.length = 0;
  }

  private sendSlice(i: number, m: number, now: number): void {
    const ws = this.sockets[i];
    const S = this.rec.messages.length;
    const j = (this.start[i] + m) % S;
    const msg = this.rec.messages[j];
    if (!msg || ws.readyState !== WebSocket.OPEN) return;
    const shift = Math.floor((this.start[i] + m) / S) * this.rec.periodUs - this.start[i] * this.rec.sliceUs;
    new DataView(msg.buffer, msg.byteOffset, msg.byteLength).setFloat64(10, this.rec.firstT[j] + shift, true);
    ws.send(msg); // masks a copy synchronously: the shared bytes may change right after
    const log = this.logs.get(this.ids[i])!;
    log.lastT.push(this.rec.lastT[j] + shift);
    log.sentAt.push(now);
    this.events += this.rec.events[j];
    this.messages++;
    if (ws.bufferedAmount > this.maxBufferedBytes) this.maxBufferedBytes = ws.bufferedAmount;
  }
}

function closeNormally(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once('close', () => resolve());
    ws.close(1000, 'done');
  });
}

/** n cameras replaying `rec` in real time for `opts.seconds` (see `WireCameras`). */
export function runWireCameras(url: string, rec: EncodedRecording, n: number, opts: WireCamerasOptions): Promise<WireCamerasResult> {
  return new WireCameras(url, rec, n, opts).run();
}
