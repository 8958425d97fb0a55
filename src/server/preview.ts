/**
 * The viewer's preview feed: the frames the network sees, as small binary messages, for
 * `ws://…/preview[?stream=id]` subscribers (viewer pages).
 *
 * Bounded and drop-when-slow, like the decision feed: `publish` never waits and never throws.
 * - Per stream, at most `fps` frames a second go out, as a trailing throttle: a frame that comes
 *   too soon replaces the stream's pending one, which goes out when the interval ends. So a burst
 *   (a sensor replayed at 20×) is thinned, and the last frame of a sample is always shown.
 * - Per subscriber, a message that would take its backlog (`bufferedAmount`) over
 *   `maxBufferedBytes` is dropped for that subscriber only and counted (`onDrop`): a slow or
 *   hidden page costs a bounded amount of memory and never delays the pipeline or other pages.
 * - No subscriber wants a stream: its frames are not even kept.
 *
 * Message (one binary WebSocket message, little-endian): a 24-byte header — u8 version (1),
 * u8 stream id length S, u8 sample id length N, u8 0, u16 width, u16 height, u16 step (0-based),
 * u16 0, u32 eventCount, f64 tEnd (µs) — then S bytes of stream id and N bytes of sample id
 * (UTF-8), then width·height·2 bytes: the frame's event counts clipped to 255, H×W×2
 * (NHWC, channel 0 = OFF, 1 = ON), i.e. at most the model's input size.
 */
import type { Frame } from '../../streams/types';
import { closeOrTerminate, type SubscriberFilter, type SubscriberSocket } from '../../streams/sinks/to-subscribers';

export const PREVIEW_VERSION = 1;
export const PREVIEW_HEADER_BYTES = 24;
export const DEFAULT_PREVIEW_FPS = 20;
/** Per-page backlog bound: about 30 frames of a 32×32 model. */
export const DEFAULT_PREVIEW_MAX_BUFFERED_BYTES = 64 * 1024;

/** A decoded preview message (what the page reads). */
export interface PreviewFrame {
  readonly streamId: string;
  readonly sampleId: string;
  readonly step: number;
  readonly width: number;
  readonly height: number;
  readonly eventCount: number;
  readonly tEnd: number;
  /** Event counts clipped to 255, H×W×2 (NHWC, channel 0 = OFF, 1 = ON). */
  readonly counts: Uint8Array;
}

/** A preview message that cannot be read: what is wrong, in one line. */
export class PreviewFormatError extends Error {
  override readonly name = 'PreviewFormatError';
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** True when a preview message can carry `frame`: ids of at most 255 UTF-8 bytes, sides and step at most 65535. */
export function previewFits(frame: Frame): boolean {
  const idsFit = (frame.streamId.length <= 85 && frame.sampleId.length <= 85) || (utf8.encode(frame.streamId).length <= 255 && utf8.encode(frame.sampleId).length <= 255);
  return idsFit && frame.width <= 0xffff && frame.height <= 0xffff && frame.step <= 0xffff;
}

/** One preview message for `frame`. Throws RangeError when it does not fit (`previewFits`). */
export function encodePreviewFrame(frame: Frame): Uint8Array {
  if (!previewFits(frame)) throw new RangeError(`preview: frame ${frame.sampleId.slice(0, 80)} step ${frame.step} (${frame.width}×${frame.height}) does not fit a preview message`);
  const sid = utf8.encode(frame.streamId);
  const sample = utf8.encode(frame.sampleId);
  const pixels = frame.width * frame.height * 2;
  const out = new Uint8Array(PREVIEW_HEADER_BYTES + sid.length + sample.length + pixels);
  const v = new DataView(out.buffer);
  v.setUint8(0, PREVIEW_VERSION);
  v.setUint8(1, sid.length);
  v.setUint8(2, sample.length);
  v.setUint16(4, frame.width, true);
  v.setUint16(6, frame.height, true);
  v.setUint16(8, frame.step, true);
  v.setUint32(12, Math.min(frame.eventCount, 0xffffffff), true);
  v.setFloat64(16, frame.tEnd, true);
  out.set(sid, PREVIEW_HEADER_BYTES);
  out.set(sample, PREVIEW_HEADER_BYTES + sid.length);
  const counts = out.subarray(PREVIEW_HEADER_BYTES + sid.length + sample.length);
  const data = frame.data;
  for (let i = 0; i < pixels; i++) {
    const c = data[i];
    counts[i] = c >= 255 ? 255 : c > 0 ? c : 0; // Uint8Array truncates the fraction (counts are whole)
  }
  return out;
}

/** Reads one preview message; throws PreviewFormatError naming what is wrong. */
export function decodePreviewFrame(msg: Uint8Array): PreviewFrame {
  if (msg.length < PREVIEW_HEADER_BYTES) throw new PreviewFormatError(`preview message of ${msg.length} bytes is shorter than its ${PREVIEW_HEADER_BYTES}-byte header`);
  const v = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const version = v.getUint8(0);
  if (version !== PREVIEW_VERSION) throw new PreviewFormatError(`preview message version ${version} (${PREVIEW_VERSION} is read)`);
  const s = v.getUint8(1);
  const n = v.getUint8(2);
  const width = v.getUint16(4, true);
  const height = v.getUint16(6, true);
  const expected = PREVIEW_HEADER_BYTES + s + n + width * height * 2;
  if (msg.length !== expected) throw new PreviewFormatError(`preview message of ${msg.length} bytes, its header says ${expected}`);
  let streamId: string;
  let sampleId: string;
  try {
    streamId = utf8Decoder.decode(msg.subarray(PREVIEW_HEADER_BYTES, PREVIEW_HEADER_BYTES + s));
    sampleId = utf8Decoder.decode(msg.subarray(PREVIEW_HEADER_BYTES + s, PREVIEW_HEADER_BYTES + s + n));
  } catch {
    throw new PreviewFormatError('preview message ids are not valid UTF-8');
  }
  return {
    streamId,
    sampleId,
    step: v.getUint16(8, true),
    width,
    height,
    eventCount: v.getUint32(12, true),
    tEnd: v.getFloat64(16, true),
    counts: msg.subarray(PREVIEW_HEADER_BYTES + s + n),
  };
}

/** The parts of a `ws` WebSocket the preview hub uses: a decision subscriber's, sending binary. */
export interface PreviewSocket extends Omit<SubscriberSocket, 'send'> {
  send(data: Uint8Array, cb?: (err?: Error) => void): void;
}

export interface PreviewHubOptions {
  /** Most frames a second per stream (default 20). */
  readonly fps?: number;
  /** Per-subscriber backlog bound in bytes (default 64 KiB). */
  readonly maxBufferedBytes?: number;
  /** Called for each message sent to a subscriber. */
  readonly onSent?: () => void;
  /** Called for each message dropped for a subscriber (its backlog was over the bound). */
  readonly onDrop?: () => void;
  /** Called when the number of subscribers changes. */
  readonly onCount?: (count: number) => void;
}

export class PreviewSubscriber {
  sent = 0;
  dropped = 0;
  constructor(
    readonly id: number,
    readonly socket: PreviewSocket,
    readonly stream: string | undefined,
  ) {}
}

/** One stream's throttle: when it last sent, and the newest frame waiting for the interval's end. */
interface StreamThrottle {
  lastSentMs: number;
  pending: Frame | undefined;
  timer: NodeJS.Timeout | undefined;
}

const OPEN = 1;

/** Validates `--preview-fps`: a number in (0, 1000]. */
export function checkPreviewFps(fps: number): number {
  if (!(fps > 0 && fps <= 1000)) throw new RangeError(`preview fps must be a number in (0, 1000], got ${fps}`);
  return fps;
}

export class PreviewHub {
  readonly intervalMs: number;
  readonly maxBufferedBytes: number;
  sentTotal = 0;
  droppedTotal = 0;
  unfit = 0;
  private readonly subs = new Set<PreviewSubscriber>();
  private readonly streams = new Map<string, StreamThrottle>();
  private nextId = 1;

  constructor(private readonly o: PreviewHubOptions = {}) {
    this.intervalMs = 1000 / checkPreviewFps(o.fps ?? DEFAULT_PREVIEW_FPS);
    this.maxBufferedBytes = o.maxBufferedBytes ?? DEFAULT_PREVIEW_MAX_BUFFERED_BYTES;
  }

  get size(): number {
    return this.subs.size;
  }

  /** Registers a socket (only `filter.stream` is read); it is removed when it closes. */
  add(socket: PreviewSocket, filter: SubscriberFilter = {}): PreviewSubscriber {
    const s = new PreviewSubscriber(this.nextId++, socket, filter.stream);
    this.subs.add(s);
    socket.once('close', () => this.remove(s));
    this.o.onCount?.(this.subs.size);
    return s;
  }

  remove(s: PreviewSubscriber): void {
    if (this.subs.delete(s)) this.o.onCount?.(this.subs.size);
  }

  /** True when some subscriber takes this stream's frames. */
  wants(streamId: string): boolean {
    for (const s of this.subs) if (s.stream === undefined || s.stream === streamId) return true;
    return false;
  }

  /**
   * Offers a frame: sent now, kept as the stream's pending frame, or ignored when nobody watches.
   * A frame the message cannot carry (an id over 255 bytes, a side over 65535) is counted in `unfit`.
   */
  publish(frame: Frame): void {
    if (!this.wants(frame.streamId)) return;
    if (!previewFits(frame)) {
      this.unfit++;
      return;
    }
    let st = this.streams.get(frame.streamId);
    if (!st) {
      st = { lastSentMs: -Infinity, pending: undefined, timer: undefined };
      this.streams.set(frame.streamId, st);
    }
    const now = performance.now();
    if (st.timer === undefined && now - st.lastSentMs >= this.intervalMs) {
      st.lastSentMs = now;
      this.broadcast(frame);
      return;
    }
    // The binner allocates a new array per frame, so keeping a reference until the flush is safe.
    st.pending = frame;
    if (st.timer === undefined) {
      const stream = frame.streamId;
      st.timer = setTimeout(() => this.flush(stream), Math.max(0, st.lastSentMs + this.intervalMs - now));
      st.timer.unref();
    }
  }

  /** The stream ended: its pending frame goes out now and its state is forgotten. */
  end(streamId: string): void {
    const st = this.streams.get(streamId);
    if (!st) return;
    if (st.timer !== undefined) clearTimeout(st.timer);
    this.streams.delete(streamId);
    if (st.pending) this.broadcast(st.pending);
  }

  /** Closes every subscriber and clears every timer (shutdown). */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const st of this.streams.values()) if (st.timer !== undefined) clearTimeout(st.timer);
    this.streams.clear();
    for (const s of [...this.subs]) {
      this.remove(s);
      closeOrTerminate(s.socket, code, reason);
    }
  }

  stats(): { id: number; stream: string | undefined; sent: number; dropped: number; bufferedAmount: number }[] {
    return [...this.subs].map((s) => ({ id: s.id, stream: s.stream, sent: s.sent, dropped: s.dropped, bufferedAmount: s.socket.bufferedAmount }));
  }

  private flush(streamId: string): void {
    const st = this.streams.get(streamId);
    if (!st) return;
    st.timer = undefined;
    const frame = st.pending;
    st.pending = undefined;
    if (!frame) return;
    st.lastSentMs = performance.now();
    this.broadcast(frame);
  }

  private broadcast(frame: Frame): void {
    let msg: Uint8Array | undefined;
    for (const s of this.subs) {
      if (s.stream !== undefined && s.stream !== frame.streamId) continue;
      const sock = s.socket;
      if (sock.readyState !== OPEN) continue;
      msg ??= encodePreviewFrame(frame);
      if (sock.bufferedAmount + msg.length > this.maxBufferedBytes) {
        s.dropped++;
        this.droppedTotal++;
        this.o.onDrop?.();
        continue;
      }
      sock.send(msg, noop);
      s.sent++;
      this.sentTotal++;
      this.o.onSent?.();
    }
  }
}

function noop(): void {}
