/**
 * spikestream wire format: one binary WebSocket message carries one batch of DVS events, or a
 * slice of a raw AEDAT 3.1 packet stream. Little-endian throughout.
 *
 * Header (18 bytes):
 *
 * | offset | type    | field                                                                |
 * | -----: | ------- | -------------------------------------------------------------------- |
 * |      0 | uint8   | version = 1                                                          |
 * |      1 | uint8   | kind (low 4 bits) + flags (high 4 bits), see below                   |
 * |      2 | uint16  | width  (1…65535); every x < width                                    |
 * |      4 | uint16  | height (1…65535); every y < height                                   |
 * |      6 | uint32  | count: events (kind 1) or payload bytes (kind 2)                     |
 * |     10 | float64 | t0: time of the first event, whole µs, 0…2^53−1 (kind 1); 0 (kind 2) |
 *
 * Kind 1, `EVENTS` (byte 1 = 0x01, or 0x11 with the U32_DELTAS flag), payload for n = count:
 *
 * | bytes                | field                                                                 |
 * | -------------------- | --------------------------------------------------------------------- |
 * | 2n                   | x, uint16 each                                                        |
 * | 2n                   | y, uint16 each                                                        |
 * | ceil(n/8)            | p, bit-packed LSB-first: event i is bit (i & 7) of byte i >> 3, 1 = ON; unused high bits of the last byte must be 0 |
 * | varies               | t deltas for events 1…n−1: t[i] = t[i−1] + d[i]. Unsigned LEB128 varints (1 byte for d < 128 µs, 2 for d < 16 384 µs, …; at most 8 bytes, minimal form), or with flag 0x10 uint32 each (4(n−1) bytes) |
 *
 * The message must end exactly after the last delta. n = 0 is allowed (an empty batch; t0 = 0).
 * Varint deltas are the default: a typical DVS stream has inter-event gaps of a few µs, so a
 * delta costs 1 byte instead of 4, i.e. ≈ 5.1 bytes per event overall (vs 8.1 with uint32
 * deltas, and 16+ for AEDAT 3.1).
 *
 * Kind 2, `AEDAT31_PACKETS` (byte 1 = 0x02): `count` bytes of an AEDAT 3.1 packet stream (28-byte
 * packet headers and bodies, no text header) follow. Packets may be split across messages at
 * any byte: the decoder state is per connection (`WireDecoder`). Coordinates are validated
 * against width × height; timestamps after a timestamp-reset special event continue monotone.
 *
 * Every violation throws `WireError` with a `code`, a human `reason` and the byte `offset` in
 * the message (for AEDAT payloads: the offset in the connection's AEDAT packet stream).
 */
import { type EventBatch, allocBatch, emptyBatch } from '../../events/event-batch';
import type { Geometry } from '../../events/geometry';
import { DEFAULT_MAX_EVENTS_PER_MESSAGE } from '../../defaults';
import { WireError } from './wire-error';

export const WIRE_VERSION = 1;
export const WIRE_HEADER_BYTES = 18;
export const KIND_EVENTS = 0x01;
export const KIND_AEDAT31_PACKETS = 0x02;
/** Flag (kind byte, high nibble): t deltas are uint32 instead of varints. */
export const FLAG_U32_DELTAS = 0x10;
export { DEFAULT_MAX_EVENTS_PER_MESSAGE };
const MAX_T = Number.MAX_SAFE_INTEGER; // 2^53 − 1

export interface EncodeOptions {
  /** 'varint' (default, compact) or 'u32' (fixed 4 bytes per delta, flag 0x10). */
  deltas?: 'varint' | 'u32';
}

function checkGeometry(g: Geometry, where: string): void {
  if (!g || !Number.isInteger(g.width) || !Number.isInteger(g.height) || g.width < 1 || g.height < 1 || g.width > 0xffff || g.height > 0xffff) {
    throw new WireError('encode', 0, `${where}: geometry must be integers in 1…65535, got ${g ? `${g.width}×${g.height}` : String(g)}`);
  }
}

function varintLength(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Encodes one batch as a kind-1 message. Timestamps must be whole µs, non-decreasing, in 0…2^53−1. */
export function encodeEventMessage(batch: EventBatch, geometry: Geometry, opts: EncodeOptions = {}): Uint8Array {
  checkGeometry(geometry, 'encodeEventMessage');
  const n = batch.length;
  if (n > 0xffffffff) throw new WireError('encode', 6, `too many events (${n})`);
  const u32 = opts.deltas === 'u32';
  const { x, y, p, t } = batch;
  const W = geometry.width;
  const H = geometry.height;
  // Validate and size the delta section in one pass.
  let deltaBytes = 0;
  for (let i = 0; i < n; i++) {
    const ti = t[i];
    if (!Number.isInteger(ti) || ti < 0 || ti > MAX_T) throw new WireError('encode', 0, `event ${i}: timestamp ${ti} is not a whole µs in 0…2^53−1`);
    if (x[i] >= W || y[i] >= H) throw new WireError('encode', 0, `event ${i}: (${x[i]}, ${y[i]}) outside ${W}×${H}`);
    if (i > 0) {
      const d = ti - t[i - 1];
      if (d < 0) throw new WireError('encode', 0, `event ${i}: timestamp goes backwards (${t[i - 1]} → ${ti})`);
      if (u32) {
        if (d > 0xffffffff) throw new WireError('encode', 0, `event ${i}: delta ${d} µs does not fit uint32 (use varint deltas)`);
        deltaBytes += 4;
      } else {
        deltaBytes += d < 128 ? 1 : varintLength(d);
      }
    }
  }
  const pBytes = (n + 7) >>> 3;
  const total = WIRE_HEADER_BYTES + 4 * n + pBytes + deltaBytes;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out[0] = WIRE_VERSION;
  out[1] = KIND_EVENTS | (u32 ? FLAG_U32_DELTAS : 0);
  dv.setUint16(2, W, true);
  dv.setUint16(4, H, true);
  dv.setUint32(6, n, true);
  dv.setFloat64(10, n > 0 ? t[0] : 0, true);
  let at = WIRE_HEADER_BYTES;
  for (let i = 0; i < n; i++, at += 2) {
    const v = x[i];
    out[at] = v & 0xff;
    out[at + 1] = v >>> 8;
  }
  for (let i = 0; i < n; i++, at += 2) {
    const v = y[i];
    out[at] = v & 0xff;
    out[at + 1] = v >>> 8;
  }
  for (let i = 0; i < n; i++) if (p[i]) out[at + (i >>> 3)] |= 1 << (i & 7);
  at += pBytes;
  for (let i = 1; i < n; i++) {
    let d = t[i] - t[i - 1];
    if (u32) {
      dv.setUint32(at, d, true);
      at += 4;
    } else if (d < 128) {
      out[at++] = d;
    } else {
      while (d >= 128) {
        out[at++] = (d % 128) | 0x80;
        d = Math.floor(d / 128);
      }
      out[at++] = d;
    }
  }
  return out;
}

/** The 18-byte header, validated (not the payload). */
export interface WireHeader {
  version: number;
  kind: number;
  flags: number;
  geometry: Geometry;
  count: number;
  t0: number;
}

export interface DecodeOptions {
  /** Largest accepted `count` for kind 1 (default 2^20); more is a WireError 'count'. */
  maxEvents?: number;
}

/** Reads and validates the header of any message. */
export function readWireHeader(bytes: Uint8Array, opts: DecodeOptions = {}): WireHeader {
  if (bytes.length < 1) throw new WireError('truncated', 0, 'empty message');
  if (bytes[0] !== WIRE_VERSION) throw new WireError('version', 0, `unsupported version ${bytes[0]} (expected ${WIRE_VERSION})`);
  if (bytes.length < WIRE_HEADER_BYTES) throw new WireError('truncated', bytes.length, `message of ${bytes.length} bytes is shorter than the ${WIRE_HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = bytes[1] & 0x0f;
  const flags = bytes[1] & 0xf0;
  if (kind !== KIND_EVENTS && kind !== KIND_AEDAT31_PACKETS) throw new WireError('kind', 1, `unknown kind ${kind}`);
  const allowedFlags = kind === KIND_EVENTS ? FLAG_U32_DELTAS : 0;
  if ((flags & ~allowedFlags) !== 0) throw new WireError('kind', 1, `unknown flag bits 0x${flags.toString(16)} for kind ${kind}`);
  const width = dv.getUint16(2, true);
  const height = dv.getUint16(4, true);
  if (width === 0) throw new WireError('geometry', 2, 'width is 0');
  if (height === 0) throw new WireError('geometry', 4, 'height is 0');
  const count = dv.getUint32(6, true);
  const t0 = dv.getFloat64(10, true);
  if (kind === KIND_EVENTS) {
    const maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS_PER_MESSAGE;
    if (count > maxEvents) throw new WireError('count', 6, `count ${count} exceeds the limit of ${maxEvents} events per message`);
    if (!Number.isInteger(t0) || t0 < 0 || t0 > MAX_T) throw new WireError('time', 10, `t0 ${t0} is not a whole µs in 0…2^53−1`);
    if (count === 0 && t0 !== 0) throw new WireError('time', 10, `empty batch with t0 ${t0} (must be 0)`);
  } else {
    if (t0 !== 0 || Object.is(t0, -0)) throw new WireError('time', 10, `t0 must be 0 for AEDAT 3.1 payloads, got ${t0}`);
    if (bytes.length - WIRE_HEADER_BYTES !== count) {
      const code = bytes.length - WIRE_HEADER_BYTES < count ? 'truncated' : 'trailing';
      throw new WireError(code, bytes.length, `AEDAT 3.1 payload is ${bytes.length - WIRE_HEADER_BYTES} bytes, header says ${count}`);
    }
  }
  return { version: bytes[0], kind, flags, geometry: { width, height }, count, t0 };
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function readU16Column(bytes: Uint8Array, at: number, n: number, limit: number, what: 'x' | 'y', dim: string): Uint16Array {
  let col: Uint16Array;
  const abs = bytes.byteOffset + at;
  if (LITTLE_ENDIAN_HOST && (abs & 1) === 0) {
    col = new Uint16Array(bytes.buffer, abs, n).slice();
  } else {
    col = new Uint16Array(n);
    for (let i = 0, j = at; i < n; i++, j += 2) col[i] = bytes[j] | (bytes[j + 1] << 8);
  }
  for (let i = 0; i < n; i++) {
    if (col[i] >= limit) throw new WireError('coordinate', at + 2 * i, `event ${i}: ${what} = ${col[i]} is not < ${dim} ${limit}`);
  }
  return col;
}

/** Decodes a kind-1 message (kind 2 needs connection state: use `WireDecoder`). */
export function decodeEventMessage(bytes: Uint8Array, opts: DecodeOptions = {}): { geometry: Geometry; batch: EventBatch } {
  const h = readWireHeader(bytes, opts);
  if (h.kind !== KIND_EVENTS) throw new WireError('kind', 1, 'AEDAT 3.1 packets need a per-connection WireDecoder');
  return { geometry: h.geometry, batch: decodeEventsPayload(bytes, h) };
}

/** Decodes a kind-1 payload whose header `h` was read from `bytes`. */
export function decodeEventsPayload(bytes: Uint8Array, h: WireHeader): EventBatch {
  const n = h.count;
  const len = bytes.length;
  const u32 = (h.flags & FLAG_U32_DELTAS) !== 0;
  const pBytes = (n + 7) >>> 3;
  const deltas = n > 0 ? n - 1 : 0;
  const minLen = WIRE_HEADER_BYTES + 4 * n + pBytes + (u32 ? 4 : 1) * deltas;
  if (len < minLen) throw new WireError('truncated', len, `${n} events need at least ${minLen} bytes, message has ${len}`);
  if (n === 0) {
    if (len !== WIRE_HEADER_BYTES) throw new WireError('trailing', WIRE_HEADER_BYTES, `${len - WIRE_HEADER_BYTES} bytes after an empty batch`);
    return emptyBatch();
  }
  let at = WIRE_HEADER_BYTES;
  const x = readU16Column(bytes, at, n, h.geometry.width, 'x', 'width');
  at += 2 * n;
  const y = readU16Column(bytes, at, n, h.geometry.height, 'y', 'height');
  at += 2 * n;
  const p = new Uint8Array(n);
  for (let i = 0; i < n; i++) p[i] = (bytes[at + (i >>> 3)] >>> (i & 7)) & 1;
  const rem = n & 7;
  if (rem !== 0 && bytes[at + pBytes - 1] >>> rem !== 0) {
    throw new WireError('padding', at + pBytes - 1, `unused polarity bits of the last byte are not zero`);
  }
  at += pBytes;
  const t = new Float64Array(n);
  let cur = h.t0;
  t[0] = cur;
  if (u32) {
    if (len !== at + 4 * deltas) throw new WireError('trailing', at + 4 * deltas, `${len - at - 4 * deltas} bytes after the last delta`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 1; i < n; i++, at += 4) {
      cur += dv.getUint32(at, true);
      if (cur > MAX_T) throw new WireError('time', at, `event ${i}: time exceeds 2^53−1`);
      t[i] = cur;
    }
    return { x, y, p, t, length: n };
  }
  for (let i = 1; i < n; i++) {
    const start = at;
    if (at >= len) throw new WireError('varint', at, `event ${i}: message ends before its time delta`);
    let b = bytes[at++];
    let d = b & 0x7f;
    if (b & 0x80) {
      let mul = 128;
      let k = 1;
      for (;;) {
        if (at >= len) throw new WireError('varint', start, `event ${i}: truncated varint`);
        b = bytes[at++];
        k++;
        if (k > 8) throw new WireError('varint', start, `event ${i}: varint longer than 8 bytes`);
        d += (b & 0x7f) * mul;
        if ((b & 0x80) === 0) {
          if (b === 0) throw new WireError('varint', start, `event ${i}: non-minimal varint`);
          break;
        }
        mul *= 128;
      }
    }
    cur += d;
    if (cur > MAX_T) throw new WireError('time', start, `event ${i}: time exceeds 2^53−1`);
    t[i] = cur;
  }
  if (at !== len) throw new WireError('trailing', at, `${len - at} bytes after the last delta`);
  return { x, y, p, t, length: n };
}

/** Wraps raw AEDAT 3.1 packet bytes (no text header) in a kind-2 message. */
export function encodeAedat31Message(packetBytes: Uint8Array, geometry: Geometry): Uint8Array {
  checkGeometry(geometry, 'encodeAedat31Message');
  const out = new Uint8Array(WIRE_HEADER_BYTES + packetBytes.length);
  const dv = new DataView(out.buffer);
  out[0] = WIRE_VERSION;
  out[1] = KIND_AEDAT31_PACKETS;
  dv.setUint16(2, geometry.width, true);
  dv.setUint16(4, geometry.height, true);
  dv.setUint32(6, packetBytes.length, true);
  dv.setFloat64(10, 0, true);
  out.set(packetBytes, WIRE_HEADER_BYTES);
  return out;
}
