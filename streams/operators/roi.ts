import type { OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { batchFilter, countFiltered, gatherKept, type FilterStats } from './batch-filter';

/** A rectangle in sensor pixels: x in [x, x + width), y in [y, y + height). */
export interface Roi {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface CropOptions {
  /** Shift kept coordinates so the ROI's corner becomes (0, 0) (default false: keep sensor coordinates). */
  readonly reorigin?: boolean;
  readonly stats?: FilterStats;
}

function checkRoi(roi: Roi): void {
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isInteger(roi[k]) || roi[k] < 0) throw new RangeError(`cropRoi: roi.${k} must be a non-negative integer, got ${roi[k]}`);
  }
}

/** The events inside `roi` (pure; a batch whose events are all inside is returned as is unless re-origined). */
export function cropBatch(batch: EventBatch, roi: Roi, options: CropOptions = {}): EventBatch {
  const n = batch.length;
  const x0 = roi.x;
  const y0 = roi.y;
  const x1 = roi.x + roi.width;
  const y1 = roi.y + roi.height;
  const { x, y } = batch;
  const keep = new Uint8Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    if (xi >= x0 && xi < x1 && yi >= y0 && yi < y1) {
      keep[i] = 1;
      kept++;
    }
  }
  countFiltered(options.stats, n, kept);
  let out = gatherKept(batch, keep, kept);
  if (options.reorigin === true && out.length > 0 && (x0 !== 0 || y0 !== 0)) {
    const xs = new Uint16Array(out.length);
    const ys = new Uint16Array(out.length);
    for (let i = 0; i < out.length; i++) {
      xs[i] = out.x[i] - x0;
      ys[i] = out.y[i] - y0;
    }
    out = { x: xs, y: ys, p: out.p, t: out.t, length: out.length };
  }
  return out;
}

/** Keeps the events inside a rectangular region of interest (dv-processing's region filter). */
export function cropRoi(roi: Roi, options: CropOptions = {}): OperatorFunction<EventBatch, EventBatch> {
  checkRoi(roi);
  return batchFilter(() => (batch) => cropBatch(batch, roi, options));
}
