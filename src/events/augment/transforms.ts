/**
 * Event-domain augmentations: pure functions EventBatch → new EventBatch on typed arrays, named
 * as Tonic names its transforms (tonic.transforms: RandomFlipPolarity, RandomFlipLR, SpatialJitter,
 * TimeSkew, DropEvent, DropEventByTime, DropEventByArea, UniformNoise). Tonic has no shift, scale
 * or rotation transform; `spatialAffine` does the three in one pass (SpatialShift / SpatialScale /
 * SpatialRotation in our spec names).
 *
 * Randomness is passed in (a seeded `Rng`), so the same seed gives the same events. Events that a
 * geometric transform moves off the sensor are dropped and counted in `stats.offSensor` (Tonic's
 * `clip_outliers`); what the drop transforms remove on purpose is counted in `stats.dropped`.
 * Times stay non-decreasing: every transform keeps the event order or merges in order.
 */
import type { Geometry } from '../geometry';
import { allocBatch, sliceByIndex, type EventBatch } from '../event-batch';

/**
 * The random numbers the transforms draw (src/prng.ts's seeded `Rng` is one; events import no
 * generator of their own, so the caller owns the seed).
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  uniform(lo: number, hi: number): number;
  /** Standard normal. */
  normal(): number;
}

/** What the transforms removed (accumulated over calls). */
export interface AugmentStats {
  /** Moved off the sensor by a geometric transform. */
  offSensor: number;
  /** Removed by a drop transform. */
  dropped: number;
  /** Added by uniform noise. */
  added: number;
}

export function augmentStats(): AugmentStats {
  return { offSensor: 0, dropped: 0, added: 0 };
}

/** Keeps the events where `keep[i]` is 1 (a new, compact batch). */
function compact(b: EventBatch, keep: Uint8Array, kept: number): EventBatch {
  const out = allocBatch(kept);
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    if (!keep[i]) continue;
    out.x[m] = b.x[i];
    out.y[m] = b.y[i];
    out.p[m] = b.p[i];
    out.t[m] = b.t[i];
    m++;
  }
  return out;
}

function copy(b: EventBatch): EventBatch {
  return { x: b.x.slice(0, b.length), y: b.y.slice(0, b.length), p: b.p.slice(0, b.length), t: b.t.slice(0, b.length), length: b.length };
}

/** RandomFlipPolarity (applied): ON ↔ OFF, what a scene with the opposite contrast gives. */
export function flipPolarity(b: EventBatch): EventBatch {
  const out = copy(b);
  for (let i = 0; i < out.length; i++) out.p[i] = out.p[i] ? 0 : 1;
  return out;
}

/** RandomFlipLR (applied): x → width − 1 − x. Mirrors left and right, and so the sense of a rotation. */
export function flipLR(b: EventBatch, geometry: Geometry): EventBatch {
  const out = copy(b);
  const w1 = geometry.width - 1;
  for (let i = 0; i < out.length; i++) out.x[i] = w1 - out.x[i];
  return out;
}

/** The parameters of one affine placement: about (cx, cy), scale, then rotate (radians), then shift (px). */
export interface AffineParams {
  readonly dx: number;
  readonly dy: number;
  readonly scale: number;
  readonly angleRad: number;
  /** Centre of scale and rotation (default the sensor's centre). */
  readonly cx?: number;
  readonly cy?: number;
}

/** SpatialShift / SpatialScale / SpatialRotation in one pass; events moved off the sensor are dropped and counted. */
export function spatialAffine(b: EventBatch, geometry: Geometry, a: AffineParams, stats?: AugmentStats): EventBatch {
  const cx = a.cx ?? (geometry.width - 1) / 2;
  const cy = a.cy ?? (geometry.height - 1) / 2;
  const c = Math.cos(a.angleRad) * a.scale;
  const s = Math.sin(a.angleRad) * a.scale;
  return mapXY(b, geometry, stats, (x, y, out) => {
    const ux = x - cx;
    const uy = y - cy;
    out[0] = cx + ux * c - uy * s + a.dx;
    out[1] = cy + ux * s + uy * c + a.dy;
  });
}

/** SpatialJitter: x and y each moved by N(0, σ²) px, rounded; events off the sensor dropped and counted. */
export function spatialJitter(b: EventBatch, geometry: Geometry, sigma: number, rng: Rng, stats?: AugmentStats): EventBatch {
  return mapXY(b, geometry, stats, (x, y, out) => {
    out[0] = x + sigma * rng.normal();
    out[1] = y + sigma * rng.normal();
  });
}

/** Applies a coordinate map (rounded to the nearest pixel) and drops what leaves the sensor. */
function mapXY(b: EventBatch, geometry: Geometry, stats: AugmentStats | undefined, map: (x: number, y: number, out: Float64Array) => void): EventBatch {
  const out = allocBatch(b.length);
  const xy = new Float64Array(2);
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    map(b.x[i], b.y[i], xy);
    const x = Math.round(xy[0]);
    const y = Math.round(xy[1]);
    if (x < 0 || y < 0 || x >= geometry.width || y >= geometry.height) continue;
    out.x[m] = x;
    out.y[m] = y;
    out.p[m] = b.p[i];
    out.t[m] = b.t[i];
    m++;
  }
  if (stats) stats.offSensor += b.length - m;
  return m === b.length ? out : sliceByIndex(out, 0, m);
}

/** TimeSkew: t → origin + (t − origin)·coefficient + offset (coefficient > 0; > 1 slows the motion down). */
export function timeSkew(b: EventBatch, coefficient: number, origin = 0, offset = 0): EventBatch {
  if (!(coefficient > 0)) throw new RangeError(`timeSkew: coefficient must be > 0 (got ${coefficient})`);
  const out = copy(b);
  for (let i = 0; i < out.length; i++) out.t[i] = Math.round(origin + (out.t[i] - origin) * coefficient + offset);
  return out;
}

/** DropEvent: each event removed with probability `ratio`. */
export function dropEvent(b: EventBatch, ratio: number, rng: Rng, stats?: AugmentStats): EventBatch {
  const keep = new Uint8Array(b.length);
  let kept = 0;
  for (let i = 0; i < b.length; i++) if (rng.next() >= ratio) kept += keep[i] = 1;
  if (stats) stats.dropped += b.length - kept;
  return compact(b, keep, kept);
}

/** DropEventByTime: the events of one random interval of `ratio` of [tStart, tEnd) are removed. */
export function dropEventByTime(b: EventBatch, ratio: number, rng: Rng, tStart: number, tEnd: number, stats?: AugmentStats): EventBatch {
  const span = (tEnd - tStart) * ratio;
  const from = tStart + rng.next() * (tEnd - tStart - span);
  const keep = new Uint8Array(b.length);
  let kept = 0;
  for (let i = 0; i < b.length; i++) if (b.t[i] < from || b.t[i] >= from + span) kept += keep[i] = 1;
  if (stats) stats.dropped += b.length - kept;
  return compact(b, keep, kept);
}

/** DropEventByArea: the events of one random box covering `ratio` of the sensor (same aspect) are removed. */
export function dropEventByArea(b: EventBatch, geometry: Geometry, ratio: number, rng: Rng, stats?: AugmentStats): EventBatch {
  const side = Math.sqrt(ratio);
  const bw = Math.round(geometry.width * side);
  const bh = Math.round(geometry.height * side);
  const x0 = rng.int(Math.max(1, geometry.width - bw + 1));
  const y0 = rng.int(Math.max(1, geometry.height - bh + 1));
  const keep = new Uint8Array(b.length);
  let kept = 0;
  for (let i = 0; i < b.length; i++) {
    const inside = b.x[i] >= x0 && b.x[i] < x0 + bw && b.y[i] >= y0 && b.y[i] < y0 + bh;
    if (!inside) kept += keep[i] = 1;
  }
  if (stats) stats.dropped += b.length - kept;
  return compact(b, keep, kept);
}

/** UniformNoise: `count` events at uniform pixels, polarities and times in [tStart, tEnd), merged in time order. */
export function uniformNoise(b: EventBatch, geometry: Geometry, count: number, rng: Rng, tStart: number, tEnd: number, stats?: AugmentStats): EventBatch {
  const n = Math.max(0, Math.round(count));
  const nt = new Float64Array(n);
  for (let k = 0; k < n; k++) nt[k] = Math.floor(tStart + rng.next() * (tEnd - tStart));
  nt.sort();
  const out = allocBatch(b.length + n);
  let i = 0;
  let k = 0;
  for (let m = 0; m < out.length; m++) {
    if (k < n && (i >= b.length || nt[k] < b.t[i])) {
      out.x[m] = rng.int(geometry.width);
      out.y[m] = rng.int(geometry.height);
      out.p[m] = rng.next() < 0.5 ? 1 : 0;
      out.t[m] = nt[k++];
    } else {
      out.x[m] = b.x[i];
      out.y[m] = b.y[i];
      out.p[m] = b.p[i];
      out.t[m] = b.t[i++];
    }
  }
  if (stats) stats.added += n;
  return out;
}
