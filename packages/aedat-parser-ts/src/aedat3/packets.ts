/**
 * AEDAT 3.1 packets: reading and validating the 28-byte packet header, and decoding polarity
 * events from a packet body into columns. Shared by the streaming decoder and the windowed
 * packet reader (packet-index.ts).
 */
import type { EventBatch } from '../event-batch.js';
import { FormatError } from '../format-error.js';
import { AEDAT3_MAX_EVENT_SIZE, AEDAT3_MAX_PACKET_BODY, AEDAT3_MAX_TS_OVERFLOW, AEDAT3_POLARITY_EVENT, AEDAT3_SPECIAL_EVENT, FORMAT } from './spec.js';

/** A packet header as read from the file, already validated. */
export interface Aedat3PacketHeader {
  eventType: number;
  eventSource: number;
  eventSize: number;
  eventTSOffset: number;
  eventTSOverflow: number;
  eventCapacity: number;
  eventNumber: number;
  eventValid: number;
  /** eventCapacity × eventSize. */
  bodyBytes: number;
}

export function i32(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

function i16(b: Uint8Array, at: number): number {
  return ((b[at] | (b[at + 1] << 8)) << 16) >> 16;
}

/**
 * Reads and validates the 28-byte packet header at `bytes[at]`; `fileOffset` is that header's
 * offset in the input (for errors). Throws FormatError on anything inconsistent.
 */
export function readAedat3PacketHeader(bytes: Uint8Array, at: number, fileOffset: number): Aedat3PacketHeader {
  const h: Aedat3PacketHeader = {
    eventType: i16(bytes, at),
    eventSource: i16(bytes, at + 2),
    eventSize: i32(bytes, at + 4),
    eventTSOffset: i32(bytes, at + 8),
    eventTSOverflow: i32(bytes, at + 12),
    eventCapacity: i32(bytes, at + 16),
    eventNumber: i32(bytes, at + 20),
    eventValid: i32(bytes, at + 24),
    bodyBytes: 0,
  };
  const bad = (reason: string): FormatError => new FormatError(FORMAT, fileOffset, `bad packet header: ${reason}`);
  if (h.eventType < 0) throw bad(`negative eventType ${h.eventType}`);
  if (h.eventSize <= 0 || h.eventSize > AEDAT3_MAX_EVENT_SIZE) throw bad(`eventSize ${h.eventSize} outside 1…${AEDAT3_MAX_EVENT_SIZE}`);
  if (h.eventTSOffset < 0 || h.eventTSOffset + 4 > h.eventSize) throw bad(`eventTSOffset ${h.eventTSOffset} does not fit an event of ${h.eventSize} bytes`);
  if (h.eventTSOverflow < 0 || h.eventTSOverflow >= AEDAT3_MAX_TS_OVERFLOW) throw bad(`eventTSOverflow ${h.eventTSOverflow} outside 0…${AEDAT3_MAX_TS_OVERFLOW - 1}`);
  if (h.eventCapacity < 0) throw bad(`negative eventCapacity ${h.eventCapacity}`);
  if (h.eventCapacity * h.eventSize > AEDAT3_MAX_PACKET_BODY) {
    throw bad(`body of ${h.eventCapacity} × ${h.eventSize} bytes exceeds ${AEDAT3_MAX_PACKET_BODY}`);
  }
  if (h.eventNumber < 0 || h.eventNumber > h.eventCapacity) throw bad(`eventNumber ${h.eventNumber} outside 0…eventCapacity ${h.eventCapacity}`);
  if (h.eventValid < 0 || h.eventValid > h.eventNumber) throw bad(`eventValid ${h.eventValid} outside 0…eventNumber ${h.eventNumber}`);
  if (h.eventType === AEDAT3_POLARITY_EVENT || h.eventType === AEDAT3_SPECIAL_EVENT) {
    const what = h.eventType === AEDAT3_POLARITY_EVENT ? 'polarity' : 'special';
    if (h.eventSize !== 8) throw bad(`${what} packet with eventSize ${h.eventSize} (must be 8)`);
    if (h.eventTSOffset !== 4) throw bad(`${what} packet with eventTSOffset ${h.eventTSOffset} (must be 4)`);
  }
  h.bodyBytes = h.eventCapacity * h.eventSize;
  return h;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
let scratch = new Uint8Array(64 * 1024);

/** An Int32Array over `bytes[at … at + n·4)`: a view when aligned, else a copy into scratch memory. */
function int32View(bytes: Uint8Array, at: number, words: number): Int32Array {
  const start = bytes.byteOffset + at;
  if ((start & 3) === 0) return new Int32Array(bytes.buffer, start, words);
  const n = words * 4;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  scratch.set(bytes.subarray(at, at + n));
  return new Int32Array(scratch.buffer, 0, words);
}

/** Sensor bounds for `decodePolarityEvents` (events outside are a FormatError). */
export interface CoordinateLimits {
  readonly width: number;
  readonly height: number;
}

export const NO_LIMITS: CoordinateLimits = { width: 0x8000, height: 0x8000 };

/**
 * Decodes `count` 8-byte polarity events from `bytes[at…]` (part or all of a polarity packet's
 * body), appending the valid ones to `out` from index `outAt`; returns the new fill index.
 * `tBase` is added to every timestamp (eventTSOverflow · 2^31, plus any reset shift).
 * `fileOffset` is the input offset of `bytes[at]`, for errors: a valid event with a negative
 * timestamp or coordinates outside `limits` is a FormatError. `out` must have room for
 * `count` more events. Shared by the streaming decoder and the windowed packet reader.
 */
export function decodePolarityEvents(
  bytes: Uint8Array,
  at: number,
  count: number,
  tBase: number,
  out: EventBatch,
  outAt: number,
  fileOffset: number,
  limits: CoordinateLimits = NO_LIMITS,
): number {
  const { x: ox, y: oy, p: op, t: ot } = out;
  const W = limits.width;
  const H = limits.height;
  let o = outAt;
  if (count < 16 || !LITTLE_ENDIAN_HOST) {
    // Few events (small chunks) or a big-endian host: byte reads, no typed-array view to make.
    for (let i = 0, b = at; i < count; i++, b += 8) {
      const d = bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24);
      if ((d & 1) === 0) continue;
      const ts = bytes[b + 4] | (bytes[b + 5] << 8) | (bytes[b + 6] << 16) | (bytes[b + 7] << 24);
      const x = (d >>> 17) & 0x7fff;
      const y = (d >>> 2) & 0x7fff;
      if (ts < 0 || x >= W || y >= H) throw badEvent(fileOffset + i * 8, x, y, ts, limits);
      ox[o] = x;
      oy[o] = y;
      op[o] = (d >>> 1) & 1;
      ot[o] = tBase + ts;
      o++;
    }
  } else {
    const w = int32View(bytes, at, count * 2);
    const n2 = count * 2;
    for (let j = 0; j < n2; j += 2) {
      const d = w[j];
      if ((d & 1) === 0) continue;
      const ts = w[j + 1];
      const x = (d >>> 17) & 0x7fff;
      const y = (d >>> 2) & 0x7fff;
      if (ts < 0 || x >= W || y >= H) throw badEvent(fileOffset + j * 4, x, y, ts, limits);
      ox[o] = x;
      oy[o] = y;
      op[o] = (d >>> 1) & 1;
      ot[o] = tBase + ts;
      o++;
    }
  }
  return o;
}

function badEvent(offset: number, x: number, y: number, ts: number, limits: CoordinateLimits): FormatError {
  if (ts < 0) return new FormatError(FORMAT, offset, `polarity event with negative timestamp ${ts}`);
  return new FormatError(FORMAT, offset, `polarity event at x=${x}, y=${y} outside the ${limits.width}×${limits.height} sensor`);
}
