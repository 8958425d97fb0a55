/**
 * AEDAT 3.1 writer: a text header and little-endian polarity packets that `Aedat3Decoder`
 * reads back exactly. Every event is written valid; packets hold at most `eventsPerPacket`
 * events and never straddle a 2^31 µs overflow boundary (the packet's eventTSOverflow is
 * floor(t / 2^31) for all its events).
 */
import type { EventBatch } from '../event-batch.js';
import type { Geometry } from '../geometry.js';
import { geometryFromSourceName } from './header.js';
import { AEDAT3_END_HEADER, AEDAT3_MAGIC, AEDAT3_MAX_TS_OVERFLOW, AEDAT3_PACKET_HEADER_BYTES } from './spec.js';
import { latin1Encode } from '../latin1.js';

export interface Aedat31WriterOptions {
  geometry: Geometry;
  /**
   * `#Source 1: <name>`. Default 'DVS128' for a 128×128 geometry; for another geometry the
   * default is 'Unknown' plus a `#Sensor-Size: WxH` line that our decoder reads. A name that
   * implies a different sensor size than `geometry` is a RangeError.
   */
  sourceName?: string;
  /** Events per polarity packet (default 4096). */
  eventsPerPacket?: number;
  /** Text of the `#Start-Time:` line (default a fixed epoch text, so output is deterministic). */
  startTimeText?: string;
}

const TWO_POW_31 = 2147483648;
const MAX_T = AEDAT3_MAX_TS_OVERFLOW * TWO_POW_31; // exclusive; 2^53
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Aedat31Writer {
  private readonly geometry: Geometry;
  private readonly sourceName: string;
  private readonly perPacket: number;
  private readonly startTimeText: string;
  private readonly writeSensorSize: boolean;
  private lastT = 0;

  constructor(opts: Aedat31WriterOptions) {
    const g = opts.geometry;
    if (!g || !Number.isInteger(g.width) || !Number.isInteger(g.height) || g.width < 1 || g.height < 1 || g.width > 0x8000 || g.height > 0x8000) {
      throw new RangeError(`Aedat31Writer: geometry must be integers in 1…32768, got ${g ? `${g.width}×${g.height}` : String(g)}`);
    }
    this.geometry = { width: g.width, height: g.height };
    const is128 = g.width === 128 && g.height === 128;
    const name = opts.sourceName ?? (is128 ? 'DVS128' : 'Unknown');
    if (/[\r\n]/.test(name) || name.trim() === '') throw new RangeError('Aedat31Writer: sourceName must be one non-empty line');
    const implied = geometryFromSourceName(name);
    if (implied && (implied.width !== g.width || implied.height !== g.height)) {
      throw new RangeError(`Aedat31Writer: source '${name}' is a ${implied.width}×${implied.height} sensor but geometry is ${g.width}×${g.height}`);
    }
    this.sourceName = name.trim();
    this.writeSensorSize = implied === undefined;
    const per = opts.eventsPerPacket ?? 4096;
    if (!Number.isInteger(per) || per < 1 || per > 1 << 24) throw new RangeError(`Aedat31Writer: eventsPerPacket must be an integer in 1…2^24, got ${per}`);
    this.perPacket = per;
    const st = opts.startTimeText ?? '1970-01-01 00:00:00 (TZ+0000)';
    if (/[\r\n]/.test(st)) throw new RangeError('Aedat31Writer: startTimeText must be one line');
    this.startTimeText = st;
  }

  header(): Uint8Array {
    const lines = [AEDAT3_MAGIC, '#Format: RAW', `#Source 1: ${this.sourceName}`];
    if (this.writeSensorSize) lines.push(`#Sensor-Size: ${this.geometry.width}x${this.geometry.height}`);
    lines.push(`#Start-Time: ${this.startTimeText}`, AEDAT3_END_HEADER);
    return latin1Encode(lines.join('\r\n') + '\r\n');
  }

  /**
   * Whole polarity packets for `batch`. Timestamps must be integers, non-decreasing (also
   * across calls), 0 ≤ t < 2^53; coordinates inside the geometry; p 0 or 1 (RangeError
   * otherwise, and nothing of this batch is written).
   */
  encode(batch: EventBatch): Uint8Array {
    const n = batch.length;
    if (n === 0) return new Uint8Array(0);
    const { x, y, p, t } = batch;
    const W = this.geometry.width;
    const H = this.geometry.height;
    // Validate first and count packets (a packet ends at eventsPerPacket or an overflow change).
    let prev = this.lastT;
    let packets = 0;
    let inPacket = 0;
    let overflow = -1;
    for (let i = 0; i < n; i++) {
      const ti = t[i];
      if (!(ti >= prev) || !Number.isInteger(ti) || ti >= MAX_T) {
        throw new RangeError(`Aedat31Writer: event ${i} has t=${ti}; timestamps must be integers, non-decreasing (previous ${prev}) and in 0…2^53`);
      }
      if (x[i] >= W || y[i] >= H) throw new RangeError(`Aedat31Writer: event ${i} at x=${x[i]}, y=${y[i]} is outside the ${W}×${H} geometry`);
      if (p[i] > 1) throw new RangeError(`Aedat31Writer: event ${i} has polarity ${p[i]} (must be 0 or 1)`);
      prev = ti;
      const ov = Math.floor(ti / TWO_POW_31);
      if (ov !== overflow || inPacket === this.perPacket) {
        packets++;
        inPacket = 0;
        overflow = ov;
      }
      inPacket++;
    }
    const out = new Uint8Array(packets * AEDAT3_PACKET_HEADER_BYTES + n * 8);
    const dv = new DataView(out.buffer);
    const words = LITTLE_ENDIAN_HOST ? new Int32Array(out.buffer) : undefined;
    let at = 0;
    let i = 0;
    while (i < n) {
      const ov = Math.floor(t[i] / TWO_POW_31);
      const tBase = ov * TWO_POW_31;
      let j = i + 1;
      const limit = Math.min(n, i + this.perPacket);
      while (j < limit && t[j] - tBase < TWO_POW_31) j++;
      const count = j - i;
      dv.setInt16(at, 1, true); // eventType: polarity
      dv.setInt16(at + 2, 1, true); // eventSource
      dv.setInt32(at + 4, 8, true); // eventSize
      dv.setInt32(at + 8, 4, true); // eventTSOffset
      dv.setInt32(at + 12, ov, true); // eventTSOverflow
      dv.setInt32(at + 16, count, true); // eventCapacity
      dv.setInt32(at + 20, count, true); // eventNumber
      dv.setInt32(at + 24, count, true); // eventValid
      at += AEDAT3_PACKET_HEADER_BYTES;
      if (words) {
        let w = at >>> 2;
        for (let k = i; k < j; k++) {
          words[w] = (x[k] << 17) | (y[k] << 2) | (p[k] << 1) | 1;
          words[w + 1] = t[k] - tBase;
          w += 2;
        }
      } else {
        for (let k = i; k < j; k++) {
          dv.setInt32(at + (k - i) * 8, (x[k] << 17) | (y[k] << 2) | (p[k] << 1) | 1, true);
          dv.setInt32(at + (k - i) * 8 + 4, t[k] - tBase, true);
        }
      }
      at += count * 8;
      i = j;
    }
    this.lastT = prev;
    return out;
  }
}

/** Header plus polarity packets for `batch`. */
export function encodeAedat31(batch: EventBatch, opts: Aedat31WriterOptions): Uint8Array {
  const w = new Aedat31Writer(opts);
  const head = w.header();
  const body = w.encode(batch);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}
