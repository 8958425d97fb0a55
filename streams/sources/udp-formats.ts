/**
 * The UDP event formats that AEStream and faery send (../shared/reference/FORMATS.md, "AEStream /
 * SPIF UDP"), one datagram at a time, little-endian. None has a header, a sensor size, sequence
 * numbers or loss detection: a lost datagram cannot be seen.
 *
 * - `spif`: one uint32 per event, bit 31 = 1 (no timestamp), bits 30–16 x, bit 15 polarity,
 *   bits 14–0 y. Every event of a datagram is stamped with its arrival time.
 * - `spif-ts`: the same word with bit 31 = 0, then a uint32 µs timestamp (8 bytes per event).
 * - `t64_x16_y16_on8` (faery's default): 13 packed bytes, u64 t, u16 x, u16 y, u8 on.
 * - `t32_x16_y15_on1`: u32 t, u16 x, u16 `(y << 1) | on`.
 *
 * 32-bit times are unwrapped (a step back of more than 2^31 is a wrap, as faery's receiver does).
 * A datagram whose first event goes back in time is dropped whole (faery's receiver does the
 * same); inside a datagram, events from the first step back on are not events of this stream
 * (AEStream's last timestamped datagram carries stale words after its real ones) and are dropped.
 * Both are counted as `time_backwards`. Events outside the sensor are dropped and counted.
 */
import { allocBatch, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';

export type UdpFormat = 'spif' | 'spif-ts' | 't64_x16_y16_on8' | 't32_x16_y15_on1';
export const UDP_FORMATS: readonly UdpFormat[] = ['spif', 'spif-ts', 't64_x16_y16_on8', 't32_x16_y15_on1'];

/** Bytes per event of each format. */
export const UDP_EVENT_BYTES: Readonly<Record<UdpFormat, number>> = { spif: 4, 'spif-ts': 8, t64_x16_y16_on8: 13, t32_x16_y15_on1: 8 };

export function isUdpFormat(s: string): s is UdpFormat {
  return (UDP_FORMATS as readonly string[]).includes(s);
}

/** What one datagram gave: its events in time order, and what was dropped from it. */
export interface DatagramResult {
  readonly batch: EventBatch;
  /** Set when the datagram was refused whole: why, in one line. */
  readonly refused?: string;
  readonly outOfBounds: number;
  readonly timeBackwards: number;
}

const TWO_32 = 4294967296;
const HALF_32 = 2147483648;

/** Decodes the datagrams of one UDP stream in one format; keeps the stream's time state. */
export class UdpDatagramDecoder {
  private readonly eventBytes: number;
  /** The last event time of the stream (µs, unwrapped), -1 before the first. */
  private lastT = -1;
  /** 2^32 × the number of wraps seen (32-bit formats). */
  private epoch = 0;
  private last32 = -1;

  constructor(
    readonly format: UdpFormat,
    readonly geometry: Geometry,
    /** The arrival clock for `spif` (µs, never going back). */
    private readonly now: () => number,
  ) {
    this.eventBytes = UDP_EVENT_BYTES[format];
  }

  decode(d: Uint8Array): DatagramResult {
    const size = this.eventBytes;
    if (d.length === 0 || d.length % size !== 0) {
      return refused(`a ${d.length}-byte datagram is not a whole number of ${size}-byte ${this.format} events`);
    }
    const n = d.length / size;
    const view = new DataView(d.buffer, d.byteOffset, d.length);
    const out = allocBatch(n);
    if (this.format === 'spif' || this.format === 'spif-ts') {
      const wrong = this.readSpif(view, n, out);
      if (wrong !== undefined) return refused(wrong);
    } else if (this.format === 't64_x16_y16_on8') this.readT64(view, n, out);
    else this.readT32(view, n, out);
    return this.keep(out, n);
  }

  /** SPIF words (and, for spif-ts, their 32-bit times); a word whose timestamp bit says the other SPIF refuses the datagram. */
  private readSpif(view: DataView, n: number, out: EventBatch): string | undefined {
    const timed = this.format === 'spif-ts';
    const arrival = timed ? 0 : this.now();
    const step = timed ? 8 : 4;
    for (let i = 0; i < n; i++) {
      const w = view.getUint32(i * step, true);
      if ((w >>> 31 === 1) === timed) {
        return timed
          ? `word ${i} has bit 31 set (SPIF without timestamps): use format=spif`
          : `word ${i} has bit 31 clear (SPIF with timestamps, 8 bytes per event): use format=spif-ts`;
      }
      out.x[i] = (w >>> 16) & 0x7fff;
      out.p[i] = (w >>> 15) & 1;
      out.y[i] = w & 0x7fff;
      out.t[i] = timed ? this.unwrap32(view.getUint32(i * step + 4, true)) : arrival;
    }
    return undefined;
  }

  private readT64(view: DataView, n: number, out: EventBatch): void {
    for (let i = 0, o = 0; i < n; i++, o += 13) {
      // A u64 µs time beyond 2^53 cannot be held exactly; no camera clock gets there (285 years).
      out.t[i] = view.getUint32(o, true) + view.getUint32(o + 4, true) * TWO_32;
      out.x[i] = view.getUint16(o + 8, true);
      out.y[i] = view.getUint16(o + 10, true);
      out.p[i] = view.getUint8(o + 12) === 0 ? 0 : 1;
    }
  }

  private readT32(view: DataView, n: number, out: EventBatch): void {
    for (let i = 0, o = 0; i < n; i++, o += 8) {
      out.t[i] = this.unwrap32(view.getUint32(o, true));
      out.x[i] = view.getUint16(o + 4, true);
      const yOn = view.getUint16(o + 6, true);
      out.y[i] = yOn >>> 1;
      out.p[i] = yOn & 1;
    }
  }

  /** A 32-bit µs time on the stream's unwrapped clock: a step back of more than 2^31 is a wrap. */
  private unwrap32(t32: number): number {
    if (this.last32 >= 0 && t32 < this.last32 && this.last32 - t32 > HALF_32) this.epoch += TWO_32;
    this.last32 = t32;
    return this.epoch + t32;
  }

  /** Drops a datagram that starts back in time, cuts at a step back inside, removes events outside the sensor (compacting in place). */
  private keep(out: EventBatch, n: number): DatagramResult {
    if (this.lastT >= 0 && out.t[0] < this.lastT) return { batch: sliceByIndex(out, 0, 0), outOfBounds: 0, timeBackwards: n };
    let end = n;
    for (let i = 1; i < n; i++) {
      if (out.t[i] < out.t[i - 1]) {
        end = i;
        break;
      }
    }
    const { width, height } = this.geometry;
    let k = 0;
    for (let i = 0; i < end; i++) {
      if (out.x[i] >= width || out.y[i] >= height) continue;
      if (k !== i) {
        out.x[k] = out.x[i];
        out.y[k] = out.y[i];
        out.p[k] = out.p[i];
        out.t[k] = out.t[i];
      }
      k++;
    }
    if (end > 0) this.lastT = out.t[end - 1];
    return { batch: sliceByIndex(out, 0, k), outOfBounds: end - k, timeBackwards: n - end };
  }
}

function refused(why: string): DatagramResult {
  return { batch: allocBatch(0), refused: why, outOfBounds: 0, timeBackwards: 0 };
}
