import type { OperatorFunction } from 'rxjs';
import { allocBatch, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { batchFilter, checkGeometry, countFiltered, type FilterStats } from './batch-filter';
import { downsampledGeometry } from './downsample';
import type { Roi } from './roi';
import { mapSource, type EventSource } from '../core/event-source';
import type { Sample } from '../types';

/**
 * How a sensor of another size is brought to the size a model takes:
 * - `crop`: the centre target-sized window (where the sensor is smaller, it is centred and padded);
 * - `scale`: integer downsampling by the smallest factor that makes it fit (aspect kept), then centred;
 *   a sensor already no larger than the target is only centred (events are never duplicated);
 * - `pad`: centred in the target unchanged; refused when the sensor is larger.
 */
export const FIT_MODES = ['crop', 'scale', 'pad'] as const;
export type FitMode = (typeof FIT_MODES)[number];

export interface FitOptions {
  /** The stream's sensor size (its events' x < width, y < height). */
  readonly sensor: Geometry;
  /** The sensor size the model takes: its input width/height × its downsample factor (`modelSensorGeometry`). */
  readonly target: Geometry;
  /** Needed when the sensor (or its ROI) differs from the target; without it that is a `FitError`. */
  readonly fit?: FitMode;
  /** A rectangle of the sensor to keep first (sensor pixels); the fit then applies to it. */
  readonly roi?: Roi;
  /** Counters to add to (default: fresh ones, returned as `stats`). */
  readonly stats?: FitStats;
}

/** How a stream is fitted to a model, as a user or a URL gives it: every transport and command takes this. */
export type FitSettings = Pick<FitOptions, 'fit' | 'roi'>;

/** What the fit saw and dropped; every dropped event is in exactly one of the three drop counters. */
export interface FitStats extends FilterStats {
  /** Events with x ≥ sensor width or y ≥ sensor height. */
  outOfBounds: number;
  /** Events outside the ROI. */
  outsideRoi: number;
  /** Events cut off by the centre crop. */
  cropped: number;
}

export function fitStats(): FitStats {
  return { in: 0, out: 0, outOfBounds: 0, outsideRoi: 0, cropped: 0 };
}

/** The coordinate map: x' = floor((x − roi.x) / factor) − offsetX (a negative offset pads), likewise y. */
export interface FitPlan {
  readonly sensor: Geometry;
  readonly target: Geometry;
  readonly fit: FitMode | undefined;
  /** The region kept first (the whole sensor when no ROI was given). */
  readonly roi: Roi;
  readonly factor: number;
  /** The region's size after downsampling by `factor`. */
  readonly scaled: Geometry;
  readonly offsetX: number;
  readonly offsetY: number;
  /** True when events pass unchanged (same size, no ROI offset). */
  readonly identity: boolean;
}

/** A sensor, ROI or fit that cannot give the model's input size; the message names the fix. */
export class FitError extends Error {
  override readonly name = 'FitError';
}

export interface Fit {
  /** The output sensor size: always the target. */
  readonly geometry: Geometry;
  readonly plan: FitPlan;
  readonly stats: FitStats;
  /** Maps one batch (pure; the input is never modified; the batch itself when the plan is the identity). */
  apply(batch: EventBatch): EventBatch;
}

/** The sensor size a model takes: its input frame size times its spatial downsample factor. */
export function modelSensorGeometry(model: { readonly net: { readonly inputWidth: number; readonly inputHeight: number }; readonly downsample: number }): Geometry {
  return { width: model.net.inputWidth * model.downsample, height: model.net.inputHeight * model.downsample };
}

export function formatGeometry(g: Geometry): string {
  return `${g.width}×${g.height}`;
}

function checkRoi(roi: Roi, sensor: Geometry): void {
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (!Number.isInteger(roi[k]) || roi[k] < 0) throw new FitError(`ROI ${k} must be a non-negative integer, got ${roi[k]}`);
  }
  if (roi.width < 1 || roi.height < 1) throw new FitError(`ROI ${roi.width}×${roi.height} is empty`);
  if (roi.x + roi.width > sensor.width || roi.y + roi.height > sensor.height) {
    throw new FitError(`ROI ${roi.x},${roi.y},${roi.width},${roi.height} reaches outside the ${formatGeometry(sensor)} sensor`);
  }
}

/** The coordinate map for a sensor, target, fit and ROI; throws `FitError` when they cannot work together. */
export function planFit(o: Omit<FitOptions, 'stats'>): FitPlan {
  const { sensor, target, fit } = o;
  checkGeometry(sensor, 'fit sensor');
  checkGeometry(target, 'fit target');
  if (fit !== undefined && !(FIT_MODES as readonly string[]).includes(fit)) throw new FitError(`unknown fit '${String(fit)}' (crop, scale or pad)`);
  if (o.roi) checkRoi(o.roi, sensor);
  const roi: Roi = o.roi ?? { x: 0, y: 0, width: sensor.width, height: sensor.height };
  const region: Geometry = { width: roi.width, height: roi.height };
  const same = region.width === target.width && region.height === target.height;
  const what = o.roi ? `the ${formatGeometry(region)} ROI of the ${formatGeometry(sensor)} sensor` : `a ${formatGeometry(sensor)} sensor`;
  if (!same && fit === undefined) {
    const larger = region.width > target.width || region.height > target.height;
    throw new FitError(`${what} does not match the model's ${formatGeometry(target)} input: add --fit ${larger ? 'scale or --fit crop' : 'pad'} (or --roi x,y,w,h)`);
  }
  if (fit === 'pad' && (region.width > target.width || region.height > target.height)) {
    throw new FitError(`--fit pad cannot fit ${what} into ${formatGeometry(target)} (it is larger): use --fit scale or --fit crop`);
  }
  const factor = same || fit !== 'scale' ? 1 : Math.max(1, Math.ceil(Math.max(region.width / target.width, region.height / target.height)));
  const scaled = downsampledGeometry(region, factor);
  const offsetX = Math.floor((scaled.width - target.width) / 2);
  const offsetY = Math.floor((scaled.height - target.height) / 2);
  const identity = same && roi.x === 0 && roi.y === 0;
  return { sensor, target, fit: same ? undefined : fit, roi, factor, scaled, offsetX, offsetY, identity };
}

/** One line: what the plan does to the sensor's pixels. */
export function describeFitPlan(p: FitPlan): string {
  const parts: string[] = [];
  if (p.roi.width !== p.sensor.width || p.roi.height !== p.sensor.height) parts.push(`ROI ${p.roi.x},${p.roi.y},${p.roi.width},${p.roi.height}`);
  if (p.factor > 1) parts.push(`scale 1/${p.factor} → ${formatGeometry(p.scaled)}`);
  if (p.offsetX > 0 || p.offsetY > 0) parts.push(`centre crop ${formatGeometry(p.target)}`);
  if (p.offsetX < 0 || p.offsetY < 0) parts.push(`padded to ${formatGeometry(p.target)}`);
  return parts.length === 0 ? `${formatGeometry(p.sensor)} as is` : `${formatGeometry(p.sensor)}: ${parts.join(', ')}`;
}

/** Builds the batch function for a plan (see `planFit`); events are counted in `stats`. */
export function makeFit(o: FitOptions): Fit {
  const plan = planFit(o);
  const stats = o.stats ?? fitStats();
  const { sensor, target, roi, factor, offsetX, offsetY } = plan;
  const apply = (batch: EventBatch): EventBatch => {
    const n = batch.length;
    if (plan.identity) {
      countFiltered(stats, n, n);
      return batch;
    }
    const { x, y, p, t } = batch;
    const out = allocBatch(n);
    let m = 0;
    let oob = 0;
    let outside = 0;
    let cropped = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i];
      const yi = y[i];
      if (xi >= sensor.width || yi >= sensor.height) {
        oob++;
        continue;
      }
      const xr = xi - roi.x;
      const yr = yi - roi.y;
      if (xr < 0 || yr < 0 || xr >= roi.width || yr >= roi.height) {
        outside++;
        continue;
      }
      const xo = (factor === 1 ? xr : Math.floor(xr / factor)) - offsetX;
      const yo = (factor === 1 ? yr : Math.floor(yr / factor)) - offsetY;
      if (xo < 0 || yo < 0 || xo >= target.width || yo >= target.height) {
        cropped++;
        continue;
      }
      out.x[m] = xo;
      out.y[m] = yo;
      out.p[m] = p[i];
      out.t[m] = t[i];
      m++;
    }
    countFiltered(stats, n, m, oob);
    stats.outsideRoi += outside;
    stats.cropped += cropped;
    return sliceByIndex(out, 0, m);
  };
  return { geometry: { width: target.width, height: target.height }, plan, stats, apply };
}

/**
 * The fit as an operator: batches of the sensor's size in, batches of the target's size out.
 * The plan is checked when the operator is made (a `FitError` then, not on the first event).
 */
export function fitToModel(o: FitOptions): OperatorFunction<EventBatch, EventBatch> {
  const f = makeFit(o);
  return batchFilter(() => f.apply);
}

/**
 * A stream's pulled source through the fit. For a live stream, fit the stream's source before it
 * is segmented (the segmenter then sees the target geometry), not each sample's.
 */
export function fitSource(source: EventSource, fit: Fit): EventSource {
  return fit.plan.identity ? source : mapSource(source, () => fit.apply);
}

/** A sample (a dataset sample, a label window) whose events go through the fit: same window, the target geometry. */
export function fitSample(sample: Sample, fit: Fit): Sample {
  return fit.plan.identity ? sample : { ...sample, geometry: fit.geometry, events: fitSource(sample.events, fit) };
}

/** Batches through the fit, pulled one at a time (e.g. a recording fed to a server as a sensor of the target size). */
export async function* fitBatches(batches: AsyncIterable<EventBatch>, fit: Fit): AsyncGenerator<EventBatch, void, undefined> {
  for await (const b of batches) {
    const out = fit.apply(b);
    if (out.length > 0) yield out;
  }
}

/** `x,y,w,h` in sensor pixels (integers, w and h ≥ 1); a `FitError` otherwise. */
export function parseRoiSpec(text: string): Roi {
  const parts = text.split(',').map((v) => v.trim());
  const nums = parts.map(Number);
  if (parts.length !== 4 || nums.some((n) => !Number.isInteger(n) || n < 0) || nums[2] < 1 || nums[3] < 1) {
    throw new FitError(`roi must be x,y,w,h (integers, w and h ≥ 1), got '${text}'`);
  }
  return { x: nums[0], y: nums[1], width: nums[2], height: nums[3] };
}

/**
 * A stream's own `fit` and `roi` (e.g. the query of a sensor's ingest URL), over `defaults`; a
 * `FitError` names a bad value.
 */
export function fitFromParams(params: URLSearchParams, defaults: { readonly fit?: FitMode; readonly roi?: Roi } = {}): { fit?: FitMode; roi?: Roi } {
  const fit = params.get('fit');
  const roi = params.get('roi');
  if (fit !== null && !(FIT_MODES as readonly string[]).includes(fit)) throw new FitError(`fit must be one of ${FIT_MODES.join(', ')}, got '${fit}'`);
  return { fit: fit !== null ? (fit as FitMode) : defaults.fit, roi: roi !== null ? parseRoiSpec(roi) : defaults.roi };
}
