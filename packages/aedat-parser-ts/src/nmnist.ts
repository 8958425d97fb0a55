/**
 * N-MNIST / N-Caltech101 `.bin` (Orchard et al.): no header, 5 bytes per event.
 *
 *   byte 0: x   byte 1: y   byte 2: bit 7 polarity (1 = ON), bits 6–0 timestamp bits 22–16
 *   byte 3: timestamp bits 15–8   byte 4: timestamp bits 7–0
 *
 * A record with y = 240 is an overflow marker, not an event: every following event gets 2^13 µs
 * more added to its time (this is what the dataset's reference reader does, so we do the same).
 *
 * Coordinates are the raw bytes, 0-based (the reference MATLAB reader adds 1), origin upper-left
 * (ATIS sensor convention). Geometry is reported as 34×34 (N-MNIST) unless the decoder is given
 * a `geometry` option — N-Caltech101 files use the same encoding with coordinates up to ~240×180,
 * and the file itself cannot tell the two apart.
 */
import type { EventBatch } from './event-batch.js';
import type { Geometry } from './geometry.js';
import { ChunkCarry, type EventDecoder, type FormatName, wholeRecords } from './decoder.js';
import { FormatError } from './format-error.js';
import { NO_EVENTS, trimBatch } from './header-lines.js';

export const NMNIST_GEOMETRY: Geometry = { width: 34, height: 34 };
/** y value that marks a timestamp overflow record. */
export const NMNIST_OVERFLOW_Y = 240;
/** Time added to all following events by one overflow marker (µs). */
export const NMNIST_OVERFLOW_US = 1 << 13;
/** The timestamp field is 23 bits wide. */
export const NMNIST_TIME_BITS = 23;

export interface NmnistOptions {
  /** Sensor size to report (default 34×34; use e.g. 240×180 for N-Caltech101). */
  readonly geometry?: Geometry;
}

/**
 * Weak sniffing: the format has no magic. True when the head holds at least two records, every
 * y is < 240 or an overflow marker (y = 240), and the timestamps never go backwards except
 * across overflow markers. Callers should also require a `.bin` name and a size that is a
 * multiple of 5 (detect.ts does).
 */
export function looksLikeNmnist(head: Uint8Array): boolean {
  const n = Math.floor(head.length / 5);
  if (n < 2) return false;
  let prev = -1;
  let offset = 0;
  for (let k = 0; k < n; k++) {
    const i = k * 5;
    const y = head[i + 1];
    if (y === NMNIST_OVERFLOW_Y) {
      offset += NMNIST_OVERFLOW_US;
      continue;
    }
    if (y > NMNIST_OVERFLOW_Y) return false;
    const t = offset + (((head[i + 2] & 0x7f) << 16) | (head[i + 3] << 8) | head[i + 4]);
    if (t < prev) return false;
    prev = t;
  }
  return true;
}

export class NmnistDecoder implements EventDecoder {
  readonly format: FormatName = 'nmnist';
  readonly geometry: Geometry | undefined;
  /** Overflow markers seen. */
  overflowMarkers = 0;
  private consumed = 0;
  private offset = 0;
  private readonly carry = new ChunkCarry();

  constructor(options: NmnistOptions = {}) {
    this.geometry = options.geometry ?? NMNIST_GEOMETRY;
  }

  get bytesConsumed(): number {
    return this.consumed;
  }

  push(chunk: Uint8Array): EventBatch {
    if (chunk.length === 0) return NO_EVENTS;
    const b = this.carry.take(chunk);
    const records = wholeRecords(this.carry, b, 0, 5);
    if (!records) return NO_EVENTS;
    const { out, stop } = records;
    const { x: xs, y: ys, p: ps, t: ts } = out;
    let n = 0;
    let offset = this.offset;
    let markers = 0;
    for (let i = 0; i < stop; i += 5) {
      const y = b[i + 1];
      if (y === NMNIST_OVERFLOW_Y) {
        offset += NMNIST_OVERFLOW_US;
        markers++;
        continue;
      }
      const b2 = b[i + 2];
      xs[n] = b[i];
      ys[n] = y;
      ps[n] = b2 >>> 7;
      ts[n] = offset + (((b2 & 0x7f) << 16) | (b[i + 3] << 8) | b[i + 4]);
      n++;
    }
    this.offset = offset;
    this.overflowMarkers += markers;
    this.consumed += stop;
    this.carry.keep(b, stop);
    return trimBatch(out, n);
  }

  end(): EventBatch {
    if (this.carry.pending > 0) {
      throw new FormatError('nmnist', this.consumed, `input ended inside a 5-byte record (${this.carry.pending} trailing bytes)`);
    }
    return NO_EVENTS;
  }
}
