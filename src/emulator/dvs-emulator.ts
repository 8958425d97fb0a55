/**
 * A DVS pixel-array emulator in the spirit of v2e and ESIM: intensity frames (or a render
 * function of time) in, address events out.
 *
 * Per pixel it keeps the log intensity at the last frame (`logPrev`) and the memorised
 * reference level of its last event (`reference`). Between two frames the log intensity is
 * taken to vary linearly in time; every time it crosses `reference ± k·θ` the pixel emits an
 * event whose timestamp is the interpolated crossing time, so a change of several thresholds
 * within one frame interval gives several events with distinct, ordered timestamps.
 *
 * - log intensity: `L = ln(I + ε)` (I linear, any scale; ε guards the dark end).
 * - contrast thresholds: per-pixel ON and OFF thresholds drawn once from N(θ, σ²)
 *   (mismatch), clipped below at `minThreshold`.
 * - refractory period: after an event a pixel stays silent for `refractoryUs`; threshold
 *   crossings during that time are lost (the reference still moves, as a pixel held in reset
 *   forgets the change). Enforced on the final, time-sorted output, noise included.
 * - background activity: shot-noise events, Poisson in time at `noiseRateHz` per pixel
 *   (`noiseOnFraction` of them ON), at uniform random pixels and times. They do not move the
 *   reference.
 * - hot pixels: a `hotPixelFraction` of pixels fire at `hotPixelRateHz` each (Poisson), with
 *   a fixed polarity per hot pixel.
 *
 * Timestamps are integer microseconds (rounded); the events of one `step` lie in
 * [tPrev, t] and are sorted by time (ties in raster order, signal before noise), so a
 * stream of steps is globally non-decreasing in time. Everything random comes from one
 * seeded generator: the same options, seed and frames give the same events.
 */
import { allocBatch, concatBatches, emptyBatch, sliceByIndex, type EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { Rng } from '../prng';

export interface DvsEmulatorOptions {
  width: number;
  height: number;
  /** Seed of the emulator's own generator (mismatch, noise, hot pixels). Default 1. */
  seed?: number;
  /** Mean ON contrast threshold in ln units. Default 0.2. */
  thresholdOn?: number;
  /** Mean OFF contrast threshold in ln units. Default 0.2. */
  thresholdOff?: number;
  /** Standard deviation of the per-pixel threshold mismatch (ln units). Default 0.03. */
  thresholdSigma?: number;
  /** Lower clip for a pixel's threshold. Default 0.01. */
  minThreshold?: number;
  /** Refractory period in µs. Default 0 (none). */
  refractoryUs?: number;
  /** ε in ln(I + ε). Default 1e-3 (for intensities on a 0–1 scale). */
  logEpsilon?: number;
  /** Background-activity (shot noise) rate per pixel in Hz, both polarities together. Default 0. */
  noiseRateHz?: number;
  /** Fraction of noise events that are ON. Default 0.5. */
  noiseOnFraction?: number;
  /** Fraction of pixels that are hot. Default 0. */
  hotPixelFraction?: number;
  /** Event rate of each hot pixel in Hz. Default 100. */
  hotPixelRateHz?: number;
}

/** A rectangle of pixels [x0, x1) × [y0, y1). */
export interface Roi {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Counters since construction (or `resetStats`). */
export interface EmulatorStats {
  /** Pixel log-intensity updates done (ROI pixels per step). */
  pixelUpdates: number;
  /** Events emitted, by cause. */
  signalEvents: number;
  noiseEvents: number;
  hotEvents: number;
  /** Threshold crossings lost to the refractory period. */
  refractoryDropped: number;
}

const DEFAULTS = {
  seed: 1,
  thresholdOn: 0.2,
  thresholdOff: 0.2,
  thresholdSigma: 0.03,
  minThreshold: 0.01,
  refractoryUs: 0,
  logEpsilon: 1e-3,
  noiseRateHz: 0,
  noiseOnFraction: 0.5,
  hotPixelFraction: 0,
  hotPixelRateHz: 100,
};

/** Above this many µs per step the counting sort would need too many buckets; use a comparison sort. */
const MAX_BUCKETS = 1 << 20;

export class DvsEmulator {
  readonly geometry: Geometry;
  readonly options: Readonly<Required<DvsEmulatorOptions>>;
  /** Per-pixel ON / OFF thresholds (ln units), row-major. */
  readonly thresholdOn: Float32Array;
  readonly thresholdOff: Float32Array;
  /** Memorised ln-intensity of each pixel's last event (its reference level). */
  readonly reference: Float64Array;
  /** Hot pixels (indices) and their polarity. */
  readonly hotPixels: Uint32Array;
  readonly hotPolarity: Uint8Array;
  readonly stats: EmulatorStats = { pixelUpdates: 0, signalEvents: 0, noiseEvents: 0, hotEvents: 0, refractoryDropped: 0 };

  private readonly rng: Rng;
  private readonly logPrev: Float64Array;
  /** Time of each pixel's last emitted event (µs), −∞ initially. */
  private readonly lastEvent: Float64Array;
  private tPrev: number | undefined;

  // Scratch for one step's events before sorting (grown on demand).
  private sPix = new Int32Array(4096);
  private sT = new Float64Array(4096);
  private sP = new Uint8Array(4096);
  private sN = 0;
  private buckets = new Int32Array(0);

  constructor(opts: DvsEmulatorOptions) {
    const o = { ...DEFAULTS, ...stripUndefined(opts) } as Required<DvsEmulatorOptions>;
    if (!(Number.isInteger(o.width) && o.width > 0 && Number.isInteger(o.height) && o.height > 0)) {
      throw new RangeError(`DvsEmulator: bad geometry ${o.width}×${o.height}`);
    }
    if (o.width > 65535 || o.height > 65535) throw new RangeError('DvsEmulator: geometry exceeds 16-bit coordinates');
    for (const k of ['thresholdOn', 'thresholdOff', 'minThreshold'] as const) {
      if (!(o[k] > 0)) throw new RangeError(`DvsEmulator: ${k} must be > 0, got ${o[k]}`);
    }
    for (const k of ['thresholdSigma', 'refractoryUs', 'noiseRateHz', 'hotPixelRateHz', 'logEpsilon'] as const) {
      if (!(o[k] >= 0)) throw new RangeError(`DvsEmulator: ${k} must be ≥ 0, got ${o[k]}`);
    }
    if (!(o.noiseOnFraction >= 0 && o.noiseOnFraction <= 1)) throw new RangeError('DvsEmulator: noiseOnFraction must be in [0, 1]');
    if (!(o.hotPixelFraction >= 0 && o.hotPixelFraction <= 1)) throw new RangeError('DvsEmulator: hotPixelFraction must be in [0, 1]');
    this.options = Object.freeze(o);
    this.geometry = { width: o.width, height: o.height };
    const n = o.width * o.height;
    this.rng = new Rng(o.seed);
    this.thresholdOn = new Float32Array(n);
    this.thresholdOff = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      this.thresholdOn[i] = Math.max(o.minThreshold, o.thresholdOn + o.thresholdSigma * this.rng.normal());
      this.thresholdOff[i] = Math.max(o.minThreshold, o.thresholdOff + o.thresholdSigma * this.rng.normal());
    }
    const nHot = Math.round(o.hotPixelFraction * n);
    const chosen = new Set<number>();
    while (chosen.size < nHot) chosen.add(this.rng.int(n));
    this.hotPixels = Uint32Array.from([...chosen].sort((a, b) => a - b));
    this.hotPolarity = new Uint8Array(nHot);
    for (let i = 0; i < nHot; i++) this.hotPolarity[i] = this.rng.next() < 0.5 ? 1 : 0;
    this.reference = new Float64Array(n);
    this.logPrev = new Float64Array(n);
    this.lastEvent = new Float64Array(n).fill(-Infinity);
  }

  /** Time of the last frame seen, or undefined before `reset`. */
  get time(): number | undefined {
    return this.tPrev;
  }

  /** Starts (or restarts) at `t` µs with `frame` as every pixel's reference; emits nothing. */
  reset(frame: Float32Array, t: number): void {
    this.checkFrame(frame);
    const eps = this.options.logEpsilon;
    const n = this.reference.length;
    for (let i = 0; i < n; i++) {
      const l = Math.log(frame[i] + eps);
      this.logPrev[i] = l;
      this.reference[i] = l;
    }
    this.lastEvent.fill(-Infinity);
    this.tPrev = t;
  }

  /**
   * Advances to time `t` µs (> the previous frame's) with the new `frame` and returns the
   * events of the interval, sorted by time. With `roi`, only pixels inside it are read: the
   * caller promises every pixel outside it is unchanged since the last step that read it
   * (noise and hot pixels still cover the whole array). An empty ROI gives noise only.
   */
  step(frame: Float32Array, t: number, roi?: Roi | readonly Roi[]): EventBatch {
    if (this.tPrev === undefined) throw new Error('DvsEmulator.step: call reset(frame, t) first');
    this.checkFrame(frame);
    const tPrev = this.tPrev;
    if (!(t > tPrev)) throw new RangeError(`DvsEmulator.step: time must increase (${t} after ${tPrev})`);
    const W = this.geometry.width;
    const H = this.geometry.height;
    this.sN = 0;
    const dt = t - tPrev;
    if (roi === undefined) this.scanRegion(frame, tPrev, t, 0, 0, W, H);
    else if (Array.isArray(roi)) for (const r of roi as readonly Roi[]) this.scanRoi(frame, tPrev, t, r);
    else this.scanRoi(frame, tPrev, t, roi as Roi);
    const nSignal = this.sN;

    // Background activity: Poisson count over the whole array, uniform pixels and times.
    const o = this.options;
    const nPix = W * H;
    if (o.noiseRateHz > 0) {
      const count = this.rng.poisson((nPix * o.noiseRateHz * dt) / 1e6);
      for (let k = 0; k < count; k++) {
        const pix = this.rng.int(nPix);
        const te = Math.round(tPrev + this.rng.next() * dt);
        this.pushEvent(pix, te, this.rng.next() < o.noiseOnFraction ? 1 : 0);
      }
    }
    const nNoise = this.sN - nSignal;
    if (this.hotPixels.length > 0 && o.hotPixelRateHz > 0) {
      const mean = (o.hotPixelRateHz * dt) / 1e6;
      for (let h = 0; h < this.hotPixels.length; h++) {
        const count = this.rng.poisson(mean);
        for (let k = 0; k < count; k++) this.pushEvent(this.hotPixels[h], Math.round(tPrev + this.rng.next() * dt), this.hotPolarity[h]);
      }
    }
    this.tPrev = t;
    const out = this.sortAndFilter(Math.round(tPrev), Math.round(t), nSignal, nNoise);
    return out;
  }

  private scanRoi(frame: Float32Array, tPrev: number, t: number, roi: Roi): void {
    const W = this.geometry.width;
    const H = this.geometry.height;
    this.scanRegion(frame, tPrev, t, Math.max(0, Math.floor(roi.x0)), Math.max(0, Math.floor(roi.y0)), Math.min(W, Math.ceil(roi.x1)), Math.min(H, Math.ceil(roi.y1)));
  }

  /**
   * Threshold crossings of the pixels in [x0, x1) × [y0, y1) between the previous frame and
   * this one, pushed (unsorted) to the scratch list. Scanning a pixel twice with the same frame
   * is harmless: the second scan finds no crossing.
   */
  private scanRegion(frame: Float32Array, tPrev: number, t: number, x0: number, y0: number, x1: number, y1: number): void {
    if (!(x1 > x0 && y1 > y0)) return;
    const W = this.geometry.width;
    const dt = t - tPrev;
    const eps = this.options.logEpsilon;
    const refr = this.options.refractoryUs;
    const logPrev = this.logPrev;
    const ref = this.reference;
    const thOn = this.thresholdOn;
    const thOff = this.thresholdOff;
    const lastEv = this.lastEvent;
    let dropped = 0;
    for (let y = y0; y < y1; y++) {
      const row = y * W;
      for (let i = row + x0, end = row + x1; i < end; i++) {
        const l1 = Math.log(frame[i] + eps);
        const l0 = logPrev[i];
        logPrev[i] = l1;
        let r = ref[i];
        const d = l1 - r;
        const ton = thOn[i];
        const toff = thOff[i];
        if (d < ton && -d < toff) continue;
        const slope = l1 - l0;
        let last = lastEv[i];
        // One loop for both polarities: the crossings step up by ton (ON) or down by toff (OFF).
        const on = d >= ton;
        const step = on ? ton : -toff;
        const n = on ? Math.floor(d / ton) : Math.floor(-d / toff);
        // Interpolate only when the intensity moved towards the crossings (else at the frame's end).
        const towards = on ? slope > 0 : slope < 0;
        const polarity = on ? 1 : 0;
        for (let k = 1; k <= n; k++) {
          const level = r + k * step;
          let f = towards ? (level - l0) / slope : 1;
          if (f < 0) f = 0;
          else if (f > 1) f = 1;
          const te = Math.round(tPrev + f * dt);
          if (te - last < refr) {
            dropped++;
            continue;
          }
          last = te;
          this.pushEvent(i, te, polarity);
        }
        // r + n·(−toff) is r − n·toff to the bit: recordings stay byte-identical.
        r += n * step;
        ref[i] = r;
      }
    }
    this.stats.pixelUpdates += (x1 - x0) * (y1 - y0);
    this.stats.refractoryDropped += dropped;
  }

  /** Reads `frames` (each with its time in µs): the first resets, the rest step; returns all events. */
  emulateFrames(frames: Iterable<{ frame: Float32Array; t: number }>): EventBatch {
    const parts: EventBatch[] = [];
    for (const { frame, t } of frames) {
      if (this.tPrev === undefined) this.reset(frame, t);
      else parts.push(this.step(frame, t));
    }
    return concatBatches(parts);
  }

  resetStats(): void {
    this.stats.pixelUpdates = 0;
    this.stats.signalEvents = 0;
    this.stats.noiseEvents = 0;
    this.stats.hotEvents = 0;
    this.stats.refractoryDropped = 0;
  }

  private checkFrame(frame: Float32Array): void {
    if (frame.length < this.geometry.width * this.geometry.height) {
      throw new RangeError(`DvsEmulator: frame has ${frame.length} values, need ${this.geometry.width * this.geometry.height}`);
    }
  }

  private pushEvent(pix: number, t: number, p: number): void {
    if (this.sN === this.sPix.length) {
      const c = this.sPix.length * 2;
      const a = new Int32Array(c);
      a.set(this.sPix);
      this.sPix = a;
      const b = new Float64Array(c);
      b.set(this.sT);
      this.sT = b;
      const d = new Uint8Array(c);
      d.set(this.sP);
      this.sP = d;
    }
    const k = this.sN++;
    this.sPix[k] = pix;
    this.sT[k] = t;
    this.sP[k] = p;
  }

  /** Stable sort of the scratch events by time, refractory filter, and copy into a new batch. */
  private sortAndFilter(t0: number, t1: number, nSignal: number, nNoise: number): EventBatch {
    const n = this.sN;
    if (n === 0) return emptyBatch();
    const span = t1 - t0 + 1;
    let order: Int32Array;
    if (span <= MAX_BUCKETS) {
      // Counting sort on integer µs offsets: O(n + span), stable.
      if (this.buckets.length < span + 1) this.buckets = new Int32Array(Math.max(span + 1, this.buckets.length * 2));
      const b = this.buckets;
      b.fill(0, 0, span + 1);
      const sT = this.sT;
      for (let k = 0; k < n; k++) b[sT[k] - t0 + 1]++;
      for (let s = 1; s <= span; s++) b[s] += b[s - 1];
      order = new Int32Array(n);
      for (let k = 0; k < n; k++) order[b[sT[k] - t0]++] = k;
    } else {
      const idx = Array.from({ length: n }, (_, k) => k);
      const sT = this.sT;
      idx.sort((a, c) => sT[a] - sT[c] || a - c);
      order = Int32Array.from(idx);
    }
    const out = allocBatch(n);
    const W = this.geometry.width;
    const refr = this.options.refractoryUs;
    const lastEv = this.lastEvent;
    let m = 0;
    let sig = 0;
    let noise = 0;
    let hot = 0;
    for (let j = 0; j < n; j++) {
      const k = order[j];
      const pix = this.sPix[k];
      const te = this.sT[k];
      if (te - lastEv[pix] < refr) {
        this.stats.refractoryDropped++;
        continue;
      }
      lastEv[pix] = te;
      out.x[m] = pix % W;
      out.y[m] = (pix / W) | 0;
      out.p[m] = this.sP[k];
      out.t[m] = te;
      m++;
      if (k < nSignal) sig++;
      else if (k < nSignal + nNoise) noise++;
      else hot++;
    }
    this.stats.signalEvents += sig;
    this.stats.noiseEvents += noise;
    this.stats.hotEvents += hot;
    return m === n ? out : sliceByIndex(out, 0, m);
  }
}

/**
 * Emulates a render function of time: `render(t, out)` fills `out` (width×height, row-major)
 * with the intensity at time `t` µs and may return the region that changed since its previous
 * call (undefined = the whole frame). Frames are taken every `frameIntervalUs` from `tStart`
 * to `tEnd` inclusive. Returns all events.
 */
export function emulateRender(
  render: (t: number, out: Float32Array) => Roi | void,
  tStart: number,
  tEnd: number,
  frameIntervalUs: number,
  opts: DvsEmulatorOptions,
): EventBatch {
  if (!(frameIntervalUs > 0)) throw new RangeError('emulateRender: frameIntervalUs must be > 0');
  const emu = new DvsEmulator(opts);
  const frame = new Float32Array(opts.width * opts.height);
  render(tStart, frame);
  emu.reset(frame, tStart);
  const parts: EventBatch[] = [];
  for (let k = 1; ; k++) {
    const t = Math.min(tEnd, tStart + k * frameIntervalUs);
    const roi = render(t, frame);
    parts.push(emu.step(frame, t, roi ?? undefined));
    if (t >= tEnd) break;
  }
  return concatBatches(parts);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const r: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
