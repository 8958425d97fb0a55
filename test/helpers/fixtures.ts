import { type EventBatch, EventBatchBuilder } from '../../src/events/event-batch';
import { mulberry32 } from '../../src/prng';

/** The parts one after another in a new buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Deterministic pseudo-random events (mulberry32 from `seed`, default 1) in a width×height
 * sensor (default 128×128) with non-decreasing integer t starting at t0 (mean gap `meanGap`).
 */
export function seededEvents(n: number, opts: { t0?: number; meanGap?: number; seed?: number; width?: number; height?: number } = {}): EventBatch {
  const rnd = mulberry32(opts.seed ?? 1);
  const w = opts.width ?? 128;
  const h = opts.height ?? 128;
  const gap = opts.meanGap ?? 3;
  const b = new EventBatchBuilder(n);
  let t = opts.t0 ?? 0;
  for (let i = 0; i < n; i++) {
    t += Math.floor(rnd() * 2 * gap);
    b.push(Math.floor(rnd() * w), Math.floor(rnd() * h), rnd() < 0.5 ? 1 : 0, t);
  }
  return b.take();
}
