/**
 * Writes events in the N-MNIST / N-Caltech101 `.bin` layout (see nmnist.ts), so that
 * `NmnistDecoder` reads back exactly the same events.
 *
 * - x and y must be integers in 0…255, and y must not be 240 (that value marks an overflow).
 * - Polarity: any non-zero p is written as ON.
 * - Times must be finite, ≥ 0 and non-decreasing. Fractional µs are truncated (floor), since the
 *   format stores whole µs.
 * - The timestamp field is 23 bits. For t ≥ 2^23 overflow markers (x 0, y 240, all else 0) are
 *   inserted; each one adds 2^13 µs to every following event, so the stored field of an event
 *   is t minus 2^13 × (markers written before it), kept below 2^23.
 */
import type { EventBatch } from './event-batch.js';
import { NMNIST_OVERFLOW_US, NMNIST_OVERFLOW_Y, NMNIST_TIME_BITS } from './nmnist.js';

const MAX_FIELD = (1 << NMNIST_TIME_BITS) - 1;
/** Refuse to build files larger than this (a guard against absurd timestamps). */
const MAX_OUTPUT_BYTES = 1 << 30;

function markersFor(t: number): number {
  return t <= MAX_FIELD ? 0 : Math.ceil((t - MAX_FIELD) / NMNIST_OVERFLOW_US);
}

export function encodeNmnist(batch: EventBatch): Uint8Array {
  const n = batch.length;
  const { x, y, p, t } = batch;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    const ti = t[i];
    if (xi > 255 || yi > 255) throw new RangeError(`encodeNmnist: event ${i} has coordinates (${xi}, ${yi}); N-MNIST stores 0…255`);
    if (yi === NMNIST_OVERFLOW_Y) throw new RangeError(`encodeNmnist: event ${i} has y = 240, which N-MNIST reserves for overflow markers`);
    if (!Number.isFinite(ti) || ti < 0) throw new RangeError(`encodeNmnist: event ${i} has time ${ti}; times must be finite and >= 0`);
    if (ti < prev) throw new RangeError(`encodeNmnist: time decreases at event ${i} (${ti} after ${prev})`);
    prev = ti;
  }
  const totalMarkers = n === 0 ? 0 : markersFor(Math.floor(t[n - 1]));
  const size = 5 * (n + totalMarkers);
  if (size > MAX_OUTPUT_BYTES) throw new RangeError(`encodeNmnist: output would be ${size} bytes (times up to ${t[n - 1]} µs need ${totalMarkers} overflow markers)`);
  const out = new Uint8Array(size);
  let o = 0;
  let markers = 0;
  for (let i = 0; i < n; i++) {
    const ti = Math.floor(t[i]);
    const need = markersFor(ti);
    while (markers < need) {
      // x 0, y 240, polarity/time 0
      out[o + 1] = NMNIST_OVERFLOW_Y;
      o += 5;
      markers++;
    }
    const field = ti - markers * NMNIST_OVERFLOW_US;
    out[o] = x[i];
    out[o + 1] = y[i];
    out[o + 2] = (p[i] !== 0 ? 0x80 : 0) | ((field >>> 16) & 0x7f);
    out[o + 3] = (field >>> 8) & 0xff;
    out[o + 4] = field & 0xff;
    o += 5;
  }
  return out;
}
