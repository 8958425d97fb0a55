/**
 * The incremental AEDAT 4.0 decoder: push any chunking of a file, get the events of one EVTS
 * stream. Other streams are skipped without decompressing; reading stops at dataTablePosition
 * (the FileDataTable lives there).
 *
 * Events: EventPacket.elements, 16-byte structs {int64 t (µs, Unix time), int16 x, int16 y,
 * bool on, 3 pad}. Coordinates are DV's: origin top-left, x to the right, y down.
 *
 * Every offset and length read from the input is bounds-checked; corrupt input throws
 * FormatError('aedat4', fileOffset, reason).
 */
import type { EventBatch } from '../event-batch.js';
import type { Geometry } from '../geometry.js';
import type { EventDecoder } from '../decoder.js';
import { FormatError } from '../format-error.js';
import { NO_EVENTS } from '../header-lines.js';
import { i32, PayloadError, u32 } from './bytes.js';
import { eventPacketElements, parseIOHeader } from './flatbuffers.js';
import { Lz4FrameDecoder } from './lz4.js';
import {
  AEDAT4_MAX_HEADER_BYTES,
  AEDAT4_MAX_PACKET_BYTES,
  COMPRESSION_NAMES,
  MAGIC_BYTES,
  type Aedat4DecoderOptions,
  type Aedat4Header,
  type Aedat4StreamInfo,
} from './spec.js';
import { decodeZstd } from './zstd.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const S_MAGIC = 0;
const S_HEADER_LEN = 1;
const S_HEADER = 2;
const S_PACKET_HEAD = 3;
const S_PAYLOAD = 4;
const S_SKIP = 5;
const S_DONE = 6;

const NO_STREAM = Number.NaN;

/** dst.set(src[s, s+k), d) without a subarray allocation for short copies (1-byte chunks). */
function copyBytes(dst: Uint8Array, d: number, src: Uint8Array, s: number, k: number): void {
  if (k < 64) {
    for (let j = 0; j < k; j++) dst[d + j] = src[s + j];
  } else {
    dst.set(src.subarray(s, s + k), d);
  }
}

export class Aedat4Decoder implements EventDecoder {
  readonly format = 'aedat4' as const;
  private geom: Geometry | undefined;
  private hdr: Aedat4Header | undefined;
  private state = S_MAGIC;
  private pos = 0;
  private failed: unknown = undefined;
  private ended = false;
  /** Magic + length word, then packet headers. */
  private small = new Uint8Array(18);
  private fill = 0;
  private headerBuf = new Uint8Array(0);
  private selected = NO_STREAM;
  private compressionCode = 0;
  private maxX = 32768;
  private maxY = 32768;
  private packetStart = 0;
  private packetSize = 0;
  private packetStream = 0;
  private remaining = 0;
  private packetBuf = new Uint8Array(0);
  private aligned = new Uint8Array(0);
  private lz4 = new Lz4FrameDecoder();
  private packets = 0;
  // Output accumulator (reused; push returns compact copies).
  private ox = new Uint16Array(4096);
  private oy = new Uint16Array(4096);
  private op = new Uint8Array(4096);
  private ot = new Float64Array(4096);
  private on = 0;

  constructor(private readonly options: Aedat4DecoderOptions = {}) {}

  get geometry(): Geometry | undefined {
    return this.geom;
  }
  get bytesConsumed(): number {
    return this.pos;
  }
  /** The parsed header, once the IOHeader has been read. */
  get header(): Aedat4Header | undefined {
    return this.hdr;
  }
  get streams(): Aedat4StreamInfo[] {
    return this.hdr?.streams ?? [];
  }
  /** The id of the stream being decoded (undefined before the header, or when there is none). */
  get streamId(): number | undefined {
    return Number.isNaN(this.selected) ? undefined : this.selected;
  }
  /** Packets of the decoded stream seen so far. */
  get packetCount(): number {
    return this.packets;
  }

  push(chunk: Uint8Array, headerOnly = false): EventBatch {
    if (this.failed !== undefined) throw this.failed;
    if (this.ended) throw new Error('Aedat4Decoder: push after end');
    try {
      this.run(chunk, headerOnly);
    } catch (e) {
      this.failed = e;
      throw e;
    }
    return this.take();
  }

  end(): EventBatch {
    if (this.failed !== undefined) throw this.failed;
    if (this.ended) return NO_EVENTS;
    this.ended = true;
    const fail = (at: number, reason: string): never => {
      this.failed = new FormatError('aedat4', at, reason);
      throw this.failed;
    };
    switch (this.state) {
      case S_MAGIC:
      case S_HEADER_LEN:
        fail(this.pos, `input ends inside the file header (${this.pos} bytes)`);
        break;
      case S_HEADER:
        fail(this.pos, `input ends inside the IOHeader (${this.fill} of ${this.headerBuf.length} bytes)`);
        break;
      case S_PACKET_HEAD:
        if (this.fill > 0) fail(this.packetStart, `input ends inside a packet header (${this.fill} of 8 bytes)`);
        break;
      case S_PAYLOAD:
      case S_SKIP:
        fail(this.packetStart, `truncated packet of stream ${this.packetStream}: ${this.packetSize - this.remaining} of ${this.packetSize} payload bytes`);
        break;
      default:
        break;
    }
    return this.take();
  }

  private take(): EventBatch {
    const n = this.on;
    if (n === 0) return NO_EVENTS;
    this.on = 0;
    return { x: this.ox.slice(0, n), y: this.oy.slice(0, n), p: this.op.slice(0, n), t: this.ot.slice(0, n), length: n };
  }

  private ensureOut(extra: number): void {
    const need = this.on + extra;
    if (need <= this.ox.length) return;
    let c = this.ox.length * 2;
    while (c < need) c *= 2;
    const x = new Uint16Array(c);
    x.set(this.ox.subarray(0, this.on));
    const y = new Uint16Array(c);
    y.set(this.oy.subarray(0, this.on));
    const p = new Uint8Array(c);
    p.set(this.op.subarray(0, this.on));
    const t = new Float64Array(c);
    t.set(this.ot.subarray(0, this.on));
    this.ox = x;
    this.oy = y;
    this.op = p;
    this.ot = t;
  }

  /**
   * decoder inner loop: the byte-level state machine (magic, header, packet head, payload, skip)
   * over one chunk, with its cursor in locals; each state is short, and as methods they would
   * hand the cursor back and forth once per state change for every packet.
   */
  private run(chunk: Uint8Array, headerOnly: boolean): void {
    const n = chunk.length;
    const base = this.pos;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case S_MAGIC:
        case S_HEADER_LEN: {
          const want = 18 - this.fill;
          const k = Math.min(want, n - i);
          for (let j = 0; j < k; j++) {
            const at = this.fill;
            const b = chunk[i + j];
            if (at < 14 && b !== MAGIC_BYTES[at]) {
              throw new FormatError('aedat4', at, `not an AEDAT 4.0 file: bad magic byte 0x${b.toString(16)} at ${at} (expected "#!AER-DAT4.0\\r\\n")`);
            }
            this.small[this.fill++] = b;
          }
          i += k;
          this.pos = base + i;
          if (this.fill === 18) {
            const len = u32(this.small, 14);
            if (len < 8 || len > AEDAT4_MAX_HEADER_BYTES) {
              throw new FormatError('aedat4', 14, `IOHeader length ${len} out of range (8 … ${AEDAT4_MAX_HEADER_BYTES})`);
            }
            this.headerBuf = new Uint8Array(len);
            this.fill = 0;
            this.state = S_HEADER;
          } else if (this.fill >= 14) {
            this.state = S_HEADER_LEN;
          }
          break;
        }
        case S_HEADER: {
          const k = Math.min(this.headerBuf.length - this.fill, n - i);
          copyBytes(this.headerBuf, this.fill, chunk, i, k);
          this.fill += k;
          i += k;
          this.pos = base + i;
          if (this.fill === this.headerBuf.length) {
            this.onHeader(parseIOHeader(this.headerBuf, 18));
            this.headerBuf = new Uint8Array(0);
            this.fill = 0;
            this.state = S_PACKET_HEAD;
            if (headerOnly) return;
          }
          break;
        }
        case S_PACKET_HEAD: {
          const dtp = this.hdr!.dataTablePosition;
          if (this.fill === 0) {
            if (dtp >= 0 && this.pos >= dtp) {
              this.state = S_DONE;
              break;
            }
            this.packetStart = this.pos;
          }
          let id: number;
          let size: number;
          if (this.fill === 0 && n - i >= 8) {
            id = i32(chunk, i);
            size = u32(chunk, i + 4);
            i += 8;
          } else {
            const k = Math.min(8 - this.fill, n - i);
            copyBytes(this.small, this.fill, chunk, i, k);
            this.fill += k;
            i += k;
            if (this.fill < 8) {
              this.pos = base + i;
              break;
            }
            this.fill = 0;
            id = i32(this.small, 0);
            size = u32(this.small, 4);
          }
          this.pos = base + i;
          this.beginPacket(id, size);
          break;
        }
        case S_PAYLOAD: {
          const size = this.packetSize;
          if (this.remaining === size && n - i >= size) {
            // Whole payload inside this chunk: decode in place.
            this.decodePacket(chunk.subarray(i, i + size));
            i += size;
            this.remaining = 0;
          } else {
            const k = Math.min(this.remaining, n - i);
            const have = size - this.remaining;
            if (this.packetBuf.length < have + k) {
              // Grow geometrically up to the declared size: memory follows the bytes that arrive.
              const c = Math.min(size, Math.max(have + k, this.packetBuf.length * 2, 64 * 1024));
              const nb = new Uint8Array(c);
              nb.set(this.packetBuf.subarray(0, have));
              this.packetBuf = nb;
            }
            copyBytes(this.packetBuf, have, chunk, i, k);
            this.remaining -= k;
            i += k;
            if (this.remaining === 0) this.decodePacket(this.packetBuf.subarray(0, size));
          }
          this.pos = base + i;
          if (this.remaining === 0) this.state = S_PACKET_HEAD;
          break;
        }
        case S_SKIP: {
          const k = Math.min(this.remaining, n - i);
          this.remaining -= k;
          i += k;
          this.pos = base + i;
          if (this.remaining === 0) this.state = S_PACKET_HEAD;
          break;
        }
        default:
          // After the data table position: the FileDataTable, not packets.
          i = n;
          this.pos = base + i;
          break;
      }
    }
  }

  private onHeader(h: Aedat4Header): void {
    this.hdr = h;
    this.compressionCode = COMPRESSION_NAMES.indexOf(h.compression);
    let s: Aedat4StreamInfo | undefined;
    if (this.options.streamId !== undefined) {
      s = h.streams.find((x) => x.id === this.options.streamId);
      if (s === undefined || s.typeIdentifier !== 'EVTS') {
        throw new FormatError('aedat4', 18, `no EVTS stream with id ${this.options.streamId} (streams: ${h.streams.map((x) => `${x.id} ${x.typeIdentifier}`).join(', ') || 'none'})`);
      }
    } else {
      s = h.streams.find((x) => x.typeIdentifier === 'EVTS');
    }
    if (s !== undefined) {
      this.selected = s.id;
      if (s.width !== undefined && s.height !== undefined) {
        this.geom = { width: s.width, height: s.height };
        this.maxX = s.width;
        this.maxY = s.height;
      }
    }
  }

  private beginPacket(id: number, size: number): void {
    const at = this.packetStart;
    if (size > AEDAT4_MAX_PACKET_BYTES) {
      throw new FormatError('aedat4', at + 4, `packet size ${size} exceeds ${AEDAT4_MAX_PACKET_BYTES} bytes (stream ${id})`);
    }
    const dtp = this.hdr!.dataTablePosition;
    if (dtp >= 0 && at + 8 + size > dtp) {
      throw new FormatError('aedat4', at + 4, `packet of ${size} bytes at ${at} runs past the file data table at ${dtp}`);
    }
    this.packetStream = id;
    this.packetSize = size;
    this.remaining = size;
    if (size === 0) {
      if (id === this.selected) throw new FormatError('aedat4', at + 4, `empty packet in events stream ${id}`);
      return; // stays in S_PACKET_HEAD
    }
    this.state = id === this.selected ? S_PAYLOAD : S_SKIP;
  }

  private decodePacket(payload: Uint8Array): void {
    const at = this.packetStart + 8;
    let data: Uint8Array;
    try {
      switch (this.compressionCode) {
        case 0:
          data = payload;
          break;
        case 1:
        case 2:
          data = this.lz4.decode(payload);
          break;
        default:
          data = decodeZstd(payload);
          break;
      }
    } catch (e) {
      if (e instanceof PayloadError) throw new FormatError('aedat4', at + e.at, `packet of stream ${this.packetStream}: ${e.reason}`);
      throw e;
    }
    // Offsets inside decompressed data have no file position: report the payload start then.
    const errAt = (inner: number): number => (this.compressionCode === 0 ? at + inner : at);
    try {
      this.decodeEventPacket(data, errAt);
    } catch (e) {
      if (e instanceof PayloadError) throw new FormatError('aedat4', errAt(e.at), `packet of stream ${this.packetStream}: ${e.reason}`);
      throw e;
    }
    this.packets++;
  }

  private decodeEventPacket(d: Uint8Array, errAt: (inner: number) => number): void {
    const [start, count] = eventPacketElements(d);
    if (count === 0) return;
    this.ensureOut(count);
    const X = this.ox;
    const Y = this.oy;
    const P = this.op;
    const T = this.ot;
    const maxX = this.maxX;
    const maxY = this.maxY;
    let o = this.on;
    if (LITTLE_ENDIAN) {
      let buf = d;
      let s = start;
      if ((d.byteOffset + start) & 3) {
        if (this.aligned.length < count * 16) this.aligned = new Uint8Array(Math.max(count * 16, this.aligned.length * 2));
        this.aligned.set(d.subarray(start, start + count * 16));
        buf = this.aligned;
        s = 0;
      }
      const w = new Int32Array(buf.buffer, buf.byteOffset + s, count * 4);
      for (let k = 0, b = 0; k < count; k++, b += 4) {
        const xy = w[b + 2];
        const x = xy & 0xffff;
        const y = xy >>> 16;
        const hi = w[b + 1];
        // One test for both: a coordinate off the sensor, or a time < 0 or ≥ 2^53 µs (not exact in a double).
        if (x >= maxX || y >= maxY || hi >>> 21 !== 0) this.badEvent(k, x, y, hi, start, errAt);
        X[o] = x;
        Y[o] = y;
        P[o] = (w[b + 3] & 0xff) !== 0 ? 1 : 0;
        T[o] = hi * 4294967296 + (w[b] >>> 0);
        o++;
      }
    } else {
      const dv = new DataView(d.buffer, d.byteOffset, d.length);
      for (let k = 0, b = start; k < count; k++, b += 16) {
        const x = dv.getUint16(b + 8, true);
        const y = dv.getUint16(b + 10, true);
        const hi = dv.getInt32(b + 4, true);
        if (x >= maxX || y >= maxY || hi >>> 21 !== 0) this.badEvent(k, x, y, hi, start, errAt);
        X[o] = x;
        Y[o] = y;
        P[o] = dv.getUint8(b + 12) !== 0 ? 1 : 0;
        T[o] = hi * 4294967296 + dv.getUint32(b, true);
        o++;
      }
    }
    this.on = o;
  }

  private badEvent(k: number, x: number, y: number, hi: number, start: number, errAt: (inner: number) => number): never {
    if (hi >>> 21 !== 0) {
      const why = hi < 0 ? 'is negative' : 'is 2^53 µs or more';
      throw new FormatError('aedat4', errAt(start + 16 * k), `packet of stream ${this.packetStream}: event ${k}'s timestamp ${why}`);
    }
    const sx = x >= 32768 ? x - 65536 : x;
    const sy = y >= 32768 ? y - 65536 : y;
    const where = this.geom ? `outside the ${this.geom.width}×${this.geom.height} sensor` : 'negative';
    throw new FormatError('aedat4', errAt(start + 16 * k + 8), `packet of stream ${this.packetStream}: event ${k} at (${sx}, ${sy}) ${where}`);
  }
}
