import type { OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { batchFilter, checkGeometry, countFiltered, type FilterStats } from './batch-filter';

function checkFactor(factor: number, who: string): void {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`${who}: factor must be a positive integer, got ${factor}`);
}

/** Sensor size after downsampling by `factor`: ceil(width / factor) × ceil(height / factor). */
export function downsampledGeometry(geometry: Geometry, factor: number): Geometry {
  checkFactor(factor, 'downsampledGeometry');
  return { width: Math.ceil(geometry.width / factor), height: Math.ceil(geometry.height / factor) };
}

/**
 * Maps coordinates to (floor(x / factor), floor(y / factor)) (pure). Every in-bounds event is
 * kept (events are not merged); events outside `geometry` are dropped and counted in
 * `outOfBounds`. Polarity and time columns are shared with the input when nothing is dropped.
 */
export function downsampleBatch(batch: EventBatch, factor: number, geometry: Geometry, stats?: FilterStats): EventBatch {
  const n = batch.length;
  const { width, height } = geometry;
  const { x, y, p, t } = batch;
  let oob = 0;
  for (let i = 0; i < n; i++) if (x[i] >= width || y[i] >= height) oob++;
  const m = n - oob;
  const xs = new Uint16Array(m);
  const ys = new Uint16Array(m);
  let ps: Uint8Array;
  let ts: Float64Array;
  if (oob === 0) {
    for (let i = 0; i < n; i++) {
      xs[i] = Math.floor(x[i] / factor);
      ys[i] = Math.floor(y[i] / factor);
    }
    ps = p.subarray(0, n);
    ts = t.subarray(0, n);
  } else {
    ps = new Uint8Array(m);
    ts = new Float64Array(m);
    let o = 0;
    for (let i = 0; i < n; i++) {
      if (x[i] >= width || y[i] >= height) continue;
      xs[o] = Math.floor(x[i] / factor);
      ys[o] = Math.floor(y[i] / factor);
      ps[o] = p[i];
      ts[o] = t[i];
      o++;
    }
  }
  countFiltered(stats, n, m, oob);
  return { x: xs, y: ys, p: ps, t: ts, length: m };
}

/** Spatial downsampling by integer division of coordinates; see `downsampledGeometry` for the output size. */
export function spatialDownsample(factor: number, geometry: Geometry, stats?: FilterStats): OperatorFunction<EventBatch, EventBatch> {
  checkFactor(factor, 'spatialDownsample');
  checkGeometry(geometry, 'spatialDownsample');
  return batchFilter(() => (batch) => downsampleBatch(batch, factor, geometry, stats));
}
