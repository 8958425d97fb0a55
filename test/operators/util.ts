import { concatBatches, sliceByIndex, batchFromArrays, type EventBatch } from '../../src/events/event-batch';
import { mulberry32 as rng } from '../../src/prng';

/** n random events in width×height with non-decreasing integer times (mean step `dt`). */
export function randomEvents(n: number, width: number, height: number, seed: number, dt = 3): EventBatch {
  const r = rng(seed);
  const x: number[] = [];
  const y: number[] = [];
  const p: number[] = [];
  const t: number[] = [];
  let now = 0;
  for (let i = 0; i < n; i++) {
    now += Math.floor(r() * 2 * dt);
    x.push(Math.floor(r() * width));
    y.push(Math.floor(r() * height));
    p.push(r() < 0.5 ? 1 : 0);
    t.push(now);
  }
  return batchFromArrays({ x, y, p, t });
}

/** The batch cut at random boundaries (empty pieces included). */
export function splitRandom(batch: EventBatch, seed: number, maxPiece = 50): EventBatch[] {
  const r = rng(seed);
  const out: EventBatch[] = [];
  let at = 0;
  while (at < batch.length) {
    const len = Math.floor(r() * maxPiece);
    out.push(sliceByIndex(batch, at, at + len));
    at += len;
  }
  return out;
}

export function toPlain(b: EventBatch): { x: number[]; y: number[]; p: number[]; t: number[] } {
  return { x: Array.from(b.x.subarray(0, b.length)), y: Array.from(b.y.subarray(0, b.length)), p: Array.from(b.p.subarray(0, b.length)), t: Array.from(b.t.subarray(0, b.length)) };
}

export function joined(bs: readonly EventBatch[]): ReturnType<typeof toPlain> {
  return toPlain(concatBatches(bs));
}
