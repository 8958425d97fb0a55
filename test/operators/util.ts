import { concatBatches, sliceByIndex, batchFromArrays, type EventBatch } from '../../src/events/event-batch';
import { mulberry32 as rng } from '../../src/prng';

export { randomEvents } from '../helpers/events';

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
