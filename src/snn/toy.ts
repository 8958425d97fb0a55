/**
 * Synthetic DVS-like toy task for tests and benchmarks: a bar of one of four orientations
 * (horizontal, vertical, diagonal, anti-diagonal) drifting across the field; each frame holds sparse
 * ON events on its leading edge and OFF events on its trailing edge (each pixel fires with
 * probability `density` per frame), plus background noise events.
 */
import type { FrameDataset } from './dataset';
import { mulberry32, randInt } from '../prng';

export const TOY_CLASSES = ['horizontal', 'vertical', 'diagonal', 'antidiagonal'];

export function makeToyBars(opts: { n: number; T: number; height: number; width: number; seed?: number; density?: number; noise?: number }): FrameDataset {
  const { n, T, height: H, width: W } = opts;
  const rng = mulberry32(opts.seed ?? 1);
  const density = opts.density ?? 0.5, noise = opts.noise ?? 0.01;
  const size = H * W * 2;
  const frames = new Float32Array(n * T * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    // bar: points p with |d(p) − pos| < 1, where d is the coordinate across the bar
    let pos = randInt(rng, 2, Math.max(3, Math.min(H, W) - 3));
    const speed = (rng() < 0.5 ? -1 : 1) * (0.3 + 0.4 * rng());
    const off = randInt(rng, -3, 3);
    for (let t = 0; t < T; t++) {
      const base = (i * T + t) * size;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const d = c === 0 ? y : c === 1 ? x : c === 2 ? (x + y) / 2 + off : (x - y + H) / 2 + off;
        const rel = d - pos;
        let ch = -1;
        if (Math.abs(rel - Math.sign(speed) * 0.5) < 0.8) ch = 1; // leading edge: ON
        else if (Math.abs(rel + Math.sign(speed) * 1.0) < 0.6) ch = 0; // trailing edge: OFF
        if (ch >= 0 && rng() < density) frames[base + (y * W + x) * 2 + ch] += 1;
        if (rng() < noise) frames[base + (y * W + x) * 2 + (rng() < 0.5 ? 0 : 1)] += 1;
      }
      pos += speed;
      if (pos < 1 || pos > Math.min(H, W) - 2) pos = Math.min(Math.max(pos, 1), Math.min(H, W) - 2);
    }
  }
  return { frames, labels, n, T, height: H, width: W, classes: [...TOY_CLASSES] };
}
