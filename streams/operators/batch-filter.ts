import { Observable, type OperatorFunction } from 'rxjs';
import { allocBatch, emptyBatch, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';

/**
 * Counters a filter increments as batches pass: `in` events seen, `out` events kept.
 * Geometric filters also count events whose coordinates lie outside the sensor in
 * `outOfBounds` (they are dropped, and included in `in - out`).
 */
export interface FilterStats {
  in: number;
  out: number;
  outOfBounds?: number;
}

export function filterStats(): FilterStats {
  return { in: 0, out: 0, outOfBounds: 0 };
}

/** Adds to the counters of an optional stats object. */
export function countFiltered(stats: FilterStats | undefined, seen: number, kept: number, outOfBounds = 0): void {
  if (stats === undefined) return;
  stats.in += seen;
  stats.out += kept;
  if (outOfBounds > 0 || stats.outOfBounds !== undefined) stats.outOfBounds = (stats.outOfBounds ?? 0) + outOfBounds;
}

/**
 * The events whose `keep[i]` is non-zero, as a compact new batch (`kept` is their count).
 * Returns `batch` itself when every event is kept (no copy) and an empty batch when none is.
 */
export function gatherKept(batch: EventBatch, keep: Uint8Array, kept: number): EventBatch {
  const n = batch.length;
  if (kept === n) return batch;
  if (kept === 0) return emptyBatch();
  const out = allocBatch(kept);
  const { x, y, p, t } = batch;
  let o = 0;
  for (let i = 0; i < n; i++) {
    if (keep[i] === 0) continue;
    out.x[o] = x[i];
    out.y[o] = y[i];
    out.p[o] = p[i];
    out.t[o] = t[i];
    o++;
  }
  return out;
}

/** Each event's row-major pixel index in `geometry`, −1 for an event outside it (counted in `outOfBounds`). */
export function pixelIndices(batch: EventBatch, geometry: Geometry): { readonly index: Int32Array; readonly outOfBounds: number } {
  const n = batch.length;
  const { width, height } = geometry;
  const { x, y } = batch;
  const index = new Int32Array(n);
  let outOfBounds = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    if (xi >= width || yi >= height) {
      index[i] = -1;
      outOfBounds++;
    } else index[i] = yi * width + xi;
  }
  return { index, outOfBounds };
}

/** Throws unless `g` is a positive integer sensor size. */
export function checkGeometry(g: Geometry, who: string): void {
  if (!Number.isInteger(g.width) || !Number.isInteger(g.height) || g.width <= 0 || g.height <= 0) {
    throw new RangeError(`${who}: geometry must have positive integer width and height, got ${g.width}×${g.height}`);
  }
}

/**
 * The operator shape shared by the filters: `make()` is called once per subscription (so
 * stateful filters get fresh state per subscriber) and returns the batch function applied to
 * every batch. Empty results are not emitted.
 */
export function batchFilter(make: () => (batch: EventBatch) => EventBatch): OperatorFunction<EventBatch, EventBatch> {
  return (source) =>
    new Observable<EventBatch>((subscriber) => {
      const apply = make();
      const sub = source.subscribe({
        next: (batch) => {
          if (subscriber.closed) return;
          const out = apply(batch);
          if (out.length > 0) subscriber.next(out);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
      return () => sub.unsubscribe();
    });
}
