/** Event batches for tests. */
import { batchFromArrays, type EventBatch } from '../../src/events/event-batch';
import { mulberry32 } from '../../src/prng';

/**
 * n seeded random events in width×height with non-decreasing integer times from `t0`, each step
 * drawn in [0, 2·dt) (mean `dt` µs).
 */
export function randomEvents(n: number, width: number, height: number, seed: number, dt = 3, t0 = 0): EventBatch {
  const r = mulberry32(seed);
  const x: number[] = [];
  const y: number[] = [];
  const p: number[] = [];
  const t: number[] = [];
  let now = t0;
  for (let i = 0; i < n; i++) {
    now += Math.floor(r() * 2 * dt);
    x.push(Math.floor(r() * width));
    y.push(Math.floor(r() * height));
    p.push(r() < 0.5 ? 1 : 0);
    t.push(now);
  }
  return batchFromArrays({ x, y, p, t });
}
