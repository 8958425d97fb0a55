/**
 * AEDAT 4.0 writer: one events stream (id 0, "EVTS") in DV's layout.
 *
 * - IOHeader with compression NONE or LZ4 and dataTablePosition −1: no FileDataTable is
 *   written (DV and dv-processing read such files sequentially; seeking by table is not
 *   available for them).
 * - A DV-style XML description (`<dv version="2.0">`, `outInfo/0` with typeIdentifier EVTS,
 *   `info/sizeX`, `sizeY`, `source`, `tsOffset` 0).
 * - Packets of at most `eventsPerPacket` events: int32 streamId 0, uint32 size, payload = a
 *   size-prefixed EventPacket flatbuffer (identifier "EVTS", same byte layout DV writes),
 *   compressed as one LZ4 frame per packet when compression is 'lz4' (64 KiB independent
 *   blocks, no checksums, header checksum set — what LZ4F and DV accept).
 */
import type { EventBatch } from '../event-batch.js';
import type { Geometry } from '../geometry.js';
import { lz4CompressFrame } from './lz4-compress.js';
import { AEDAT4_MAGIC } from './spec.js';
import { aedat4Description } from './xml.js';

export interface Aedat4WriterOptions {
  geometry: Geometry;
  /** Default 'lz4' (what DV writes by default). */
  compression?: 'none' | 'lz4';
  /** Default 4096 (a 64 KiB flatbuffer; DV's own packets are of similar size). */
  eventsPerPacket?: number;
  /** `info/source`; default "spikestream". */
  sourceName?: string;
}

/** IOHeader compression codes. */
export const AEDAT4_COMPRESSION_CODES = { none: 0, lz4: 1, 'lz4-high': 2, zstd: 3, 'zstd-high': 4 } as const;

/**
 * Magic line + length word + IOHeader flatbuffer, byte layout as DV writes it: root table at 24
 * with vtable at 14, fields compression (int32), dataTablePosition (int64), infoNode (string).
 */
export function encodeAedat4Header(compressionCode: number, description: string, dataTablePosition = -1): Uint8Array {
  const xml = new TextEncoder().encode(description);
  const fbLen = (48 + xml.length + 1 + 3) & ~3;
  const out = new Uint8Array(18 + fbLen);
  for (let i = 0; i < 14; i++) out[i] = AEDAT4_MAGIC.charCodeAt(i);
  const dv = new DataView(out.buffer);
  dv.setUint32(14, fbLen, true);
  const b = 18;
  dv.setUint32(b + 0, 24, true); // root table offset
  out.set([0x49, 0x4f, 0x48, 0x45], b + 4); // "IOHE"
  // vtable at 14: size 10, table size 20, fields at +4 (compression), +12 (position), +8 (string)
  dv.setUint16(b + 14, 10, true);
  dv.setUint16(b + 16, 20, true);
  dv.setUint16(b + 18, 4, true);
  dv.setUint16(b + 20, 12, true);
  dv.setUint16(b + 22, 8, true);
  dv.setInt32(b + 24, 10, true); // soffset to the vtable (24 − 10 = 14)
  dv.setInt32(b + 28, compressionCode, true);
  dv.setUint32(b + 32, 12, true); // string at 32 + 12 = 44
  const hi = Math.floor(dataTablePosition / 4294967296);
  dv.setInt32(b + 40, hi, true);
  dv.setUint32(b + 36, dataTablePosition - hi * 4294967296, true);
  dv.setUint32(b + 44, xml.length, true);
  out.set(xml, b + 48); // NUL terminator and padding are already zero
  return out;
}

/**
 * Size-prefixed EventPacket flatbuffer of events [start, end), DV's byte layout: size prefix,
 * root offset, "EVTS", vtable at 14, table at 20, elements vector length at 28, structs at 32.
 */
export function encodeEventPacket(batch: EventBatch, start = 0, end = batch.length): Uint8Array {
  const n = end - start;
  const total = 32 + 16 * n;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, total - 4, true);
  dv.setUint32(4, 16, true);
  out.set([0x45, 0x56, 0x54, 0x53], 8); // "EVTS"
  dv.setUint16(14, 6, true);
  dv.setUint16(16, 8, true);
  dv.setUint16(18, 4, true);
  dv.setInt32(20, 6, true);
  dv.setUint32(24, 4, true);
  dv.setUint32(28, n, true);
  const { x, y, p, t } = batch;
  for (let i = start, o = 32; i < end; i++, o += 16) {
    const ti = t[i];
    const hi = Math.floor(ti / 4294967296);
    dv.setUint32(o, ti - hi * 4294967296, true);
    dv.setInt32(o + 4, hi, true);
    dv.setInt16(o + 8, x[i], true);
    dv.setInt16(o + 10, y[i], true);
    out[o + 12] = p[i] !== 0 ? 1 : 0;
  }
  return out;
}

export class Aedat4Writer {
  private readonly geometry: Geometry;
  private readonly compression: 'none' | 'lz4';
  private readonly eventsPerPacket: number;
  private readonly sourceName: string;

  constructor(o: Aedat4WriterOptions) {
    const { width, height } = o.geometry;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 32767 || height > 32767) {
      throw new RangeError(`Aedat4Writer: bad geometry ${width}×${height}`);
    }
    const epp = o.eventsPerPacket ?? 4096;
    if (!Number.isInteger(epp) || epp < 1 || epp > 1 << 20) throw new RangeError(`Aedat4Writer: bad eventsPerPacket ${epp}`);
    if (o.compression !== undefined && o.compression !== 'none' && o.compression !== 'lz4') {
      throw new RangeError(`Aedat4Writer: unknown compression '${String(o.compression)}'`);
    }
    this.geometry = { width, height };
    this.compression = o.compression ?? 'lz4';
    this.eventsPerPacket = epp;
    this.sourceName = o.sourceName ?? 'spikestream';
  }

  /** Magic line, length word and IOHeader (no FileDataTable: dataTablePosition is −1). */
  header(): Uint8Array {
    const code = AEDAT4_COMPRESSION_CODES[this.compression];
    const xml = aedat4Description(this.geometry, { compression: this.compression === 'lz4' ? 'LZ4' : 'NONE', sourceName: this.sourceName });
    return encodeAedat4Header(code, xml, -1);
  }

  /** Whole packets holding `batch` (nothing is held back between calls). */
  encode(batch: EventBatch): Uint8Array {
    const n = batch.length;
    if (n === 0) return new Uint8Array(0);
    this.check(batch);
    const parts: Uint8Array[] = [];
    for (let s = 0; s < n; s += this.eventsPerPacket) {
      const fb = encodeEventPacket(batch, s, Math.min(n, s + this.eventsPerPacket));
      const payload = this.compression === 'lz4' ? lz4CompressFrame(fb) : fb;
      const head = new Uint8Array(8);
      const dv = new DataView(head.buffer);
      dv.setInt32(0, 0, true);
      dv.setUint32(4, payload.length, true);
      parts.push(head, payload);
    }
    return concatBytes(parts);
  }

  /** Trailing bytes: none (no FileDataTable is written). */
  finish(): Uint8Array {
    return new Uint8Array(0);
  }

  private check(batch: EventBatch): void {
    const { width, height } = this.geometry;
    const { x, y, t } = batch;
    for (let i = 0; i < batch.length; i++) {
      if (x[i] >= width || y[i] >= height) {
        throw new RangeError(`Aedat4Writer: event ${i} at (${x[i]}, ${y[i]}) outside the ${width}×${height} sensor`);
      }
      const ti = t[i];
      if (!Number.isSafeInteger(ti)) throw new RangeError(`Aedat4Writer: event ${i} timestamp ${ti} is not a safe integer (µs)`);
    }
  }
}

/** A complete AEDAT 4.0 file holding `batch`. */
export function encodeAedat4(batch: EventBatch, o: Aedat4WriterOptions): Uint8Array {
  const w = new Aedat4Writer(o);
  return concatBytes([w.header(), w.encode(batch), w.finish()]);
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
