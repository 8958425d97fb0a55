import type { OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { batchFilter, checkGeometry, countFiltered, gatherKept, pixelIndices, type FilterStats } from './batch-filter';

/** Per-pixel time of the last event (kept or not), row-major, -Infinity where none yet. */
export interface BackgroundActivityState {
  readonly geometry: Geometry;
  readonly lastEvent: Float64Array;
}

export function createBackgroundActivityState(geometry: Geometry): BackgroundActivityState {
  checkGeometry(geometry, 'backgroundActivityFilter');
  return { geometry, lastEvent: new Float64Array(geometry.width * geometry.height).fill(-Infinity) };
}

/**
 * Background-activity filter (pure given `state`, which it updates): an event is kept when at
 * least one of its 8 neighbours (not the pixel itself; neighbours outside the sensor do not
 * exist) had an event — kept or dropped — at most `windowUs` before it (t - tNeighbour <= windowUs).
 * Every in-bounds event then becomes its pixel's latest time. Events outside the geometry are
 * dropped and counted in `outOfBounds`.
 */
export function backgroundActivityBatch(
  batch: EventBatch,
  state: BackgroundActivityState,
  windowUs: number,
  stats?: FilterStats,
): EventBatch {
  const n = batch.length;
  const { width, height } = state.geometry;
  const last = state.lastEvent;
  const { index, outOfBounds } = pixelIndices(batch, state.geometry);
  const { x, y, t } = batch;
  const keep = new Uint8Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const k = index[i];
    if (k < 0) continue;
    const xi = x[i];
    const yi = y[i];
    const ti = t[i];
    const since = ti - windowUs;
    const xa = xi > 0 ? xi - 1 : 0;
    const xb = xi + 1 < width ? xi + 1 : xi;
    const ya = yi > 0 ? yi - 1 : 0;
    const yb = yi + 1 < height ? yi + 1 : yi;
    let support = false;
    for (let yy = ya; yy <= yb && !support; yy++) {
      const row = yy * width;
      for (let xx = xa; xx <= xb; xx++) {
        if (xx === xi && yy === yi) continue;
        if (last[row + xx] >= since) {
          support = true;
          break;
        }
      }
    }
    if (support) {
      keep[i] = 1;
      kept++;
    }
    last[k] = ti;
  }
  countFiltered(stats, n, kept, outOfBounds);
  return gatherKept(batch, keep, kept);
}

/** The classic BA noise filter: keeps events supported by a neighbour's event within `windowUs`. */
export function backgroundActivityFilter(
  windowUs: number,
  geometry: Geometry,
  stats?: FilterStats,
): OperatorFunction<EventBatch, EventBatch> {
  if (!(windowUs >= 0) || !Number.isFinite(windowUs)) throw new RangeError(`backgroundActivityFilter: windowUs must be a finite number >= 0, got ${windowUs}`);
  checkGeometry(geometry, 'backgroundActivityFilter');
  return batchFilter(() => {
    const state = createBackgroundActivityState(geometry);
    return (batch) => backgroundActivityBatch(batch, state, windowUs, stats);
  });
}
