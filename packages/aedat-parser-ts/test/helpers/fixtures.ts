/** Hand-made inputs for the decoder tests: byte buffers, seeded events, raw AEDAT 3.1 packets. */
import { type EventBatch, EventBatchBuilder, batchFromArrays } from 'aedat-parser-ts';
import { mulberry32 } from './prng';

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

/** A raw packet: 28-byte header and the given body (little-endian). */
export function rawPacket(h: { type: number; size: number; tsOffset?: number; overflow?: number; capacity: number; number?: number; valid?: number }, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(28 + body.length);
  const dv = new DataView(out.buffer);
  dv.setInt16(0, h.type, true);
  dv.setInt16(2, 1, true);
  dv.setInt32(4, h.size, true);
  dv.setInt32(8, h.tsOffset ?? 4, true);
  dv.setInt32(12, h.overflow ?? 0, true);
  dv.setInt32(16, h.capacity, true);
  dv.setInt32(20, h.number ?? h.capacity, true);
  dv.setInt32(24, h.valid ?? h.number ?? h.capacity, true);
  out.set(body, 28);
  return out;
}

/** 8-byte events: [data, timestamp] pairs. */
export function eventWords(pairs: [number, number][]): Uint8Array {
  const out = new Uint8Array(pairs.length * 8);
  const dv = new DataView(out.buffer);
  pairs.forEach(([d, ts], i) => {
    dv.setUint32(i * 8, d >>> 0, true);
    dv.setInt32(i * 8 + 4, ts, true);
  });
  return out;
}
