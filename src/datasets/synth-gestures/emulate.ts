/** Emulation: a plan's scene through the DVS emulator at an adaptive frame rate. */
import type { EventBatch } from '../../events/event-batch';
import { DvsEmulator } from '../../emulator/dvs-emulator';
import type { Roi } from '../../emulator/dvs-emulator';
import { clampNum, SYNTH_HEIGHT, SYNTH_WIDTH, type RecordingPlan, type WorldParams } from './params';
import { GestureScene } from './scene';

export interface EmulateRecordingOptions {
  /** Largest joint motion per frame (px) the adaptive frame rate aims for. Default 0.5. */
  maxMotionPx?: number;
  /** Frame interval bounds in µs. Defaults 500 and 10 000. */
  minFrameUs?: number;
  maxFrameUs?: number;
}

export interface EmulateRecordingStats {
  frames: number;
  events: number;
  pixelUpdates: number;
}

/**
 * Emulates a whole recording, calling `sink` with time-ordered batches (one per frame; empty
 * frames are skipped). Returns counters.
 */
export function emulateRecording(plan: RecordingPlan, sink: (batch: EventBatch) => void, opts: EmulateRecordingOptions = {}): EmulateRecordingStats {
  const maxMotion = opts.maxMotionPx ?? 0.5;
  const minDt = opts.minFrameUs ?? 500;
  const light = plan.world ? new WorldLight(plan.world) : undefined;
  // Flicker is sampled at least 8 times per period.
  const maxDt = Math.min(opts.maxFrameUs ?? 10_000, plan.world?.flicker ? Math.floor(1e6 / (8 * plan.world.flicker.hz)) : Infinity);
  const scene = new GestureScene(plan);
  const emu = new DvsEmulator(plan.emulator);
  const frame = new Float32Array(SYNTH_WIDTH * SYNTH_HEIGHT);
  scene.render(0, frame);
  emu.reset(light ? light.apply(frame, 0, undefined) : frame, 0);
  let t = 0;
  let dt = minDt;
  let frames = 0;
  let events = 0;
  while (t < plan.tEnd) {
    const tn = Math.min(plan.tEnd, t + dt);
    let rois = scene.render(tn, frame);
    let input: Float32Array = frame;
    if (light) {
      input = light.apply(frame, tn, rois);
      rois = light.changedAll ? undefined : rois;
    }
    const b = emu.step(input, tn, rois);
    frames++;
    if (b.length > 0) {
      events += b.length;
      sink(b);
    }
    // Next interval from this one's motion (the motion is smooth, so it predicts the next).
    const m = scene.lastMotionPx;
    const want = m > 1e-9 ? (dt * maxMotion) / m : maxDt;
    dt = Math.round(clampNum(want, Math.max(minDt, dt * 0.5), Math.min(maxDt, dt * 2)));
    t = tn;
  }
  return { frames, events, pixelUpdates: emu.stats.pixelUpdates };
}

/**
 * The randomized world's light on the rendered scene: a static gradient map and a global gain
 * that flickers (mains, 100/120 Hz) and drifts slowly. When the gain changes, every pixel changed.
 */
class WorldLight {
  private readonly map: Float32Array;
  private readonly lit = new Float32Array(SYNTH_WIDTH * SYNTH_HEIGHT);
  private gainPrev = NaN;
  /** Whether the last `apply` changed every pixel (the emulator must then read them all). */
  changedAll = true;

  constructor(private readonly world: WorldParams) {
    this.map = new Float32Array(SYNTH_WIDTH * SYNTH_HEIGHT).fill(1);
    const g = world.gradient;
    if (g) {
      for (let y = 0; y < SYNTH_HEIGHT; y++) {
        for (let x = 0; x < SYNTH_WIDTH; x++) this.map[y * SYNTH_WIDTH + x] = Math.max(0.05, 1 + (g.gx * (x - 64)) / 64 + (g.gy * (y - 64)) / 64);
      }
    }
  }

  /** Global gain at t µs. */
  gainAt(t: number): number {
    const f = this.world.flicker;
    const d = this.world.drift;
    const flicker = f ? 1 + f.depth * Math.cos((2 * Math.PI * f.hz * t) / 1e6) : 1;
    const drift = d ? 1 + d.depth * Math.sin(2 * Math.PI * (t / 1e6 / d.periodS + d.phase)) : 1;
    return flicker * drift;
  }

  /** The lit frame at t: every pixel when the gain changed (or no region is given), else only `rois`. */
  apply(frame: Float32Array, t: number, rois: readonly Roi[] | undefined): Float32Array {
    const gain = this.gainAt(t);
    this.changedAll = rois === undefined || gain !== this.gainPrev;
    this.gainPrev = gain;
    const { map, lit } = this;
    if (this.changedAll) {
      for (let i = 0; i < lit.length; i++) lit[i] = frame[i] * map[i] * gain;
      return lit;
    }
    for (const r of rois ?? []) {
      for (let y = r.y0; y < r.y1; y++) for (let i = y * SYNTH_WIDTH + r.x0, end = y * SYNTH_WIDTH + r.x1; i < end; i++) lit[i] = frame[i] * map[i] * gain;
    }
    return lit;
  }
}
