import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { parseInputEncoding, type InputEncoding } from '../../src/snn/input-encoding';
import type { Frame, FrameCloseReason } from '../types';

/** Counters `binFrames`/`binEvents` increment. */
export interface BinStats {
  /** Frames whose data array was allocated (every emitted frame; never one past a cancellation). */
  framesBuilt: number;
  /** Events with x >= width or y >= height of the sensor geometry. */
  outOfBounds: number;
  /** Events before the sample's tStart or at/after its tEnd. */
  outOfWindow: number;
}

export function binStats(): BinStats {
  return { framesBuilt: 0, outOfBounds: 0, outOfWindow: 0 };
}

/**
 * Options for binning ONE sample's events into frames. Give exactly one of `binUs` (time bins,
 * Tonic's `time_window`) or `eventsPerBin` (Tonic's `event_count`).
 */
export interface BinOptions {
  /** Sensor geometry of the incoming events (before downsampling). */
  readonly geometry: Geometry;
  readonly sampleId?: string;
  readonly streamId?: string;
  /** Bin origin: time bins are [tStart + k·binUs, tStart + (k+1)·binUs). Default: the first event's time. */
  readonly tStart?: number;
  /** Window end (exclusive); Infinity (default) when open-ended. */
  readonly tEnd?: number;
  /** Time bin width in µs. */
  readonly binUs?: number;
  /** Events per bin. */
  readonly eventsPerBin?: number;
  /** Integer spatial downsample factor f (default 1); frames are ceil(H/f) × ceil(W/f). */
  readonly downsample?: number;
  /** At most this many frames (default Infinity); the operator completes after frame maxSteps-1. */
  readonly maxSteps?: number;
  /** What the two channels count (default 'polarity': OFF, ON; see input-encoding.ts). */
  readonly encoding?: InputEncoding;
  /** time-ramp: the steps over which the ramp goes from 0 to 1 (the model's, whatever maxSteps is). */
  readonly rampSteps?: number;
  readonly stats?: BinStats;
}

/** Frame size for a sensor and a downsample factor: ceil(height / f) × ceil(width / f). */
export function frameGeometry(geometry: Geometry, downsample = 1): Geometry {
  return { width: Math.ceil(geometry.width / downsample), height: Math.ceil(geometry.height / downsample) };
}

export function checkBinOptions(o: BinOptions): void {
  const hasTime = o.binUs !== undefined;
  const hasCount = o.eventsPerBin !== undefined;
  if (hasTime === hasCount) throw new RangeError('binFrames: give exactly one of binUs and eventsPerBin');
  if (hasTime && !(Number.isFinite(o.binUs) && (o.binUs as number) > 0)) throw new RangeError(`binFrames: binUs must be a finite number > 0, got ${o.binUs}`);
  if (hasCount && !(Number.isInteger(o.eventsPerBin) && (o.eventsPerBin as number) > 0)) {
    throw new RangeError(`binFrames: eventsPerBin must be a positive integer, got ${o.eventsPerBin}`);
  }
  const f = o.downsample ?? 1;
  if (!Number.isInteger(f) || f < 1) throw new RangeError(`binFrames: downsample must be a positive integer, got ${f}`);
  const m = o.maxSteps ?? Infinity;
  if (!(m === Infinity || (Number.isInteger(m) && m > 0))) throw new RangeError(`binFrames: maxSteps must be a positive integer or Infinity, got ${m}`);
  const g = o.geometry;
  if (!Number.isInteger(g.width) || !Number.isInteger(g.height) || g.width <= 0 || g.height <= 0) {
    throw new RangeError(`binFrames: geometry must have positive integer width and height, got ${g.width}×${g.height}`);
  }
  if (parseInputEncoding(o.encoding, 'binFrames: encoding') === 'time-ramp' && !(Number.isInteger(o.rampSteps) && (o.rampSteps as number) > 0)) {
    throw new RangeError(`binFrames: the time-ramp encoding needs rampSteps, a positive integer (the model's binning.rampSteps or T), got ${o.rampSteps}`);
  }
  if (o.tStart !== undefined && !Number.isFinite(o.tStart)) throw new RangeError(`binFrames: tStart must be finite, got ${o.tStart}`);
  if (o.tEnd !== undefined && o.tStart !== undefined && !(o.tEnd > o.tStart)) throw new RangeError(`binFrames: tEnd (${o.tEnd}) must be > tStart (${o.tStart})`);
}

/**
 * Receives a frame and says what the binner does next: go on, stop for good (the consumer is
 * gone), or pause (a pulled consumer wants this frame's result before the next one is built).
 */
export type EmitResult = 'continue' | 'pause' | 'stop';
export type Emit = (frame: Frame) => EmitResult;

/** Where `push` stopped: the batch is used up, binning is over, or it paused before event `at`. */
export type PushResult = { readonly kind: 'consumed' } | { readonly kind: 'finished' } | { readonly kind: 'paused'; readonly at: number };
const CONSUMED: PushResult = { kind: 'consumed' };
const FINISHED: PushResult = { kind: 'finished' };

/**
 * The binning state machine shared by `binFrames` and `binEvents` (so both give the same
 * frames). A frame's data array is allocated when its first event arrives or when it is emitted
 * empty — never ahead — so a consumer that stops after frame k costs no frame k+1.
 */
export class FrameBinner {
  private readonly sensorW: number;
  private readonly sensorH: number;
  private readonly f: number;
  private readonly outW: number;
  private readonly outH: number;
  private readonly tEnd: number;
  private readonly maxSteps: number;
  private readonly sampleId: string;
  private readonly streamId: string;
  private readonly encoding: InputEncoding;
  /** time-ramp: µs (time bins) or events (count bins) from the sample's start to a weight of 1. */
  private readonly rampSpan: number;
  /** A step's length: binUs (time bins) or eventsPerBin (count bins). */
  private readonly unit: number;
  private origin: number | null;
  private step = 0;
  private data: Float32Array | null = null;
  private count = 0;
  private firstT = 0;
  private lastT = 0;
  private done = false;
  /** An event at/after tEnd arrived: the remaining bins are being emitted. */
  private closing = false;

  constructor(private readonly o: BinOptions) {
    checkBinOptions(o);
    this.sensorW = o.geometry.width;
    this.sensorH = o.geometry.height;
    this.f = o.downsample ?? 1;
    const g = frameGeometry(o.geometry, this.f);
    this.outW = g.width;
    this.outH = g.height;
    this.tEnd = o.tEnd ?? Infinity;
    this.maxSteps = o.maxSteps ?? Infinity;
    this.sampleId = o.sampleId ?? '';
    this.streamId = o.streamId ?? '';
    this.origin = o.tStart ?? null;
    this.encoding = parseInputEncoding(o.encoding);
    this.unit = o.binUs ?? o.eventsPerBin ?? 1;
    this.rampSpan = (o.rampSteps ?? 1) * this.unit;
  }

  get finished(): boolean {
    return this.done;
  }

  private alloc(): Float32Array {
    if (this.o.stats) this.o.stats.framesBuilt++;
    return new Float32Array(this.outH * this.outW * 2);
  }

  /** Emits the open bin; 'stop' when binning must end (consumer gone or maxSteps reached). */
  private emitCurrent(closedBy: FrameCloseReason, tStart: number, tEnd: number, emit: Emit): EmitResult {
    const data = this.data ?? this.alloc();
    const frame: Frame = {
      sampleId: this.sampleId,
      streamId: this.streamId,
      step: this.step,
      tStart,
      tEnd,
      eventCount: this.count,
      closedBy,
      height: this.outH,
      width: this.outW,
      data,
    };
    this.data = null;
    this.count = 0;
    this.step++;
    const next = emit(frame);
    if (next === 'stop' || this.step >= this.maxSteps) {
      this.done = true;
      return 'stop';
    }
    return next;
  }

  /** Time mode: emits bins step.. until `upTo` (exclusive step index). */
  private emitTimeBinsBefore(upTo: number, emit: Emit): EmitResult {
    const binUs = this.o.binUs as number;
    const origin = this.origin as number;
    while (this.step < upTo) {
      const s = origin + this.step * binUs;
      const e = Math.min(origin + (this.step + 1) * binUs, this.tEnd);
      const reason: FrameCloseReason = e >= this.tEnd ? 'window-end' : 'time';
      const r = this.emitCurrent(reason, s, e, emit);
      if (r !== 'continue') return r;
    }
    return 'continue';
  }

  /** Time mode: emits every remaining bin of a finite window (capped by maxSteps); resumable after a pause. */
  private closeWindow(emit: Emit): EmitResult {
    const binUs = this.o.binUs as number;
    const origin = this.origin as number;
    const last = Math.min(Math.ceil((this.tEnd - origin) / binUs), this.maxSteps);
    const r = this.emitTimeBinsBefore(last, emit);
    if (r === 'pause' && this.step < last) return 'pause';
    this.done = true;
    return 'stop';
  }

  /**
   * Bins one event into the open frame. `at` is how far into the sample it came, in the steps' unit
   * (µs for time bins, events for count bins): the time encodings read it, polarity does not.
   */
  private add(xi: number, yi: number, pi: number, at: number): void {
    if (this.data === null) this.data = this.alloc();
    const f = this.f;
    const cx = f === 1 ? xi : Math.floor(xi / f);
    const cy = f === 1 ? yi : Math.floor(yi / f);
    const cell = (cy * this.outW + cx) * 2;
    if (this.encoding === 'polarity') this.data[cell + (pi !== 0 ? 1 : 0)] += 1;
    // The second half of step k starts at (k + ½)·unit.
    else if (this.encoding === 'time-split') this.data[cell + (2 * (at - this.step * this.unit) >= this.unit ? 1 : 0)] += 1;
    else {
      this.data[cell] += 1;
      this.data[cell + 1] += Math.min(1, at / this.rampSpan);
    }
    this.count++;
  }

  /**
   * Feeds events [from, n) of one batch. Returns 'finished' once binning is over (window end,
   * maxSteps, consumer gone), or where it paused: call again from `at` with the same batch.
   */
  push(batch: EventBatch, emit: Emit, from = 0): PushResult {
    if (this.done) return FINISHED;
    const n = batch.length;
    const { x, y, p, t } = batch;
    const stats = this.o.stats;
    const timeMode = this.o.binUs !== undefined;
    const binUs = this.o.binUs ?? 0;
    const perBin = this.o.eventsPerBin ?? 0;
    for (let i = from; i < n; i++) {
      const xi = x[i];
      const yi = y[i];
      if (xi >= this.sensorW || yi >= this.sensorH) {
        if (stats) stats.outOfBounds++;
        continue;
      }
      const ti = t[i];
      if (this.origin === null) this.origin = ti;
      if (ti < this.origin) {
        if (stats) stats.outOfWindow++;
        continue;
      }
      if (ti >= this.tEnd) {
        if (timeMode) {
          // Resuming after a pause meets this event again: count it once.
          if (!this.closing && stats) stats.outOfWindow += 1;
          this.closing = true;
          if (this.closeWindow(emit) === 'pause') return { kind: 'paused', at: i };
        } else {
          if (stats) stats.outOfWindow += 1;
          if (this.count > 0) this.emitCurrent('window-end', this.firstT, this.lastT, emit);
          this.done = true;
        }
        return FINISHED;
      }
      if (timeMode) {
        this.lastT = ti;
        const k = Math.floor((ti - this.origin) / binUs);
        if (k > this.step) {
          const r = this.emitTimeBinsBefore(Math.min(k, this.maxSteps), emit);
          if (r === 'stop') return FINISHED;
          // The event is not added yet: resuming at i emits any further empty bins first.
          if (r === 'pause') return { kind: 'paused', at: i };
        }
        this.add(xi, yi, p[i], ti - this.origin);
      } else {
        if (this.count === 0) this.firstT = ti;
        this.lastT = ti;
        this.add(xi, yi, p[i], this.step * perBin + this.count);
        if (this.count === perBin) {
          const r = this.emitCurrent('count', this.firstT, this.lastT, emit);
          if (r === 'stop') return FINISHED;
          if (r === 'pause') return { kind: 'paused', at: i + 1 };
        }
      }
    }
    return CONSUMED;
  }

  /** The input ended: emits what remains (see `binFrames` for the rules); 'pause' means call again. */
  finish(emit: Emit): 'pause' | 'stop' {
    if (this.done) return 'stop';
    if (this.o.binUs !== undefined) {
      if (this.origin === null) {
        this.done = true; // no event and no tStart: nothing to bin
        return 'stop';
      }
      if (this.tEnd !== Infinity) return this.closeWindow(emit) === 'pause' ? 'pause' : 'stop';
      this.done = true;
      if (this.count > 0) {
        // The input ended inside this bin: it ends just after its last event, not at the nominal bin end.
        const s = this.origin + this.step * this.o.binUs;
        this.emitCurrent('stream-end', s, Math.min(s + this.o.binUs, this.lastT + 1), emit);
      }
      return 'stop';
    }
    this.done = true;
    if (this.count > 0) this.emitCurrent(this.tEnd !== Infinity ? 'window-end' : 'stream-end', this.firstT, this.lastT, emit);
    return 'stop';
  }
}

/** Offline binning (training data preparation): the frames `binFrames` emits for these events. */
export function binEvents(batch: EventBatch | readonly EventBatch[], options: BinOptions): Frame[] {
  const binner = new FrameBinner(options);
  const frames: Frame[] = [];
  const emit: Emit = (f) => {
    frames.push(f);
    return 'continue';
  };
  const batches = Array.isArray(batch) ? (batch as readonly EventBatch[]) : [batch as EventBatch];
  for (const b of batches) if (binner.push(b, emit).kind === 'finished') break;
  binner.finish(emit);
  return frames;
}

