import type { OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { batchFilter, checkGeometry, countFiltered, gatherKept, pixelIndices, type FilterStats } from './batch-filter';

/** Per-pixel time of the last kept event (µs), row-major, -Infinity where none yet. */
export interface RefractoryState {
  readonly geometry: Geometry;
  readonly lastKept: Float64Array;
}

export function createRefractoryState(geometry: Geometry): RefractoryState {
  checkGeometry(geometry, 'refractoryFilter');
  return { geometry, lastKept: new Float64Array(geometry.width * geometry.height).fill(-Infinity) };
}

/**
 * Refractory period (pure given `state`, which it updates): an event is dropped when the same
 * pixel (either polarity) emitted a kept event less than `periodUs` before it
 * (t - tLastKept < periodUs); it is kept when at least `periodUs` has passed. Dropped events do
 * not extend the period. Events outside the geometry are dropped and counted in `outOfBounds`.
 */
export function refractoryBatch(batch: EventBatch, state: RefractoryState, periodUs: number, stats?: FilterStats): EventBatch {
  const n = batch.length;
  const last = state.lastKept;
  const { index, outOfBounds } = pixelIndices(batch, state.geometry);
  const t = batch.t;
  const keep = new Uint8Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const k = index[i];
    if (k < 0) continue;
    const ti = t[i];
    if (ti - last[k] >= periodUs) {
      last[k] = ti;
      keep[i] = 1;
      kept++;
    }
  }
  countFiltered(stats, n, kept, outOfBounds);
  return gatherKept(batch, keep, kept);
}

/** Drops events within `periodUs` of the pixel's previous kept event; state is carried across batches. */
export function refractoryFilter(periodUs: number, geometry: Geometry, stats?: FilterStats): OperatorFunction<EventBatch, EventBatch> {
  if (!(periodUs >= 0) || !Number.isFinite(periodUs)) throw new RangeError(`refractoryFilter: periodUs must be a finite number >= 0, got ${periodUs}`);
  checkGeometry(geometry, 'refractoryFilter');
  return batchFilter(() => {
    const state = createRefractoryState(geometry);
    return (batch) => refractoryBatch(batch, state, periodUs, stats);
  });
}
