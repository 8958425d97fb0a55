/** Emulation: a plan's scene through the DVS emulator at an adaptive frame rate. */
import type { EventBatch } from '../../events/event-batch';
import { DvsEmulator } from '../../emulator/dvs-emulator';
import { clampNum, SYNTH_HEIGHT, SYNTH_WIDTH, type RecordingPlan } from './params';
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
  const maxDt = opts.maxFrameUs ?? 10_000;
  const scene = new GestureScene(plan);
  const emu = new DvsEmulator(plan.emulator);
  const frame = new Float32Array(SYNTH_WIDTH * SYNTH_HEIGHT);
  scene.render(0, frame);
  emu.reset(frame, 0);
  let t = 0;
  let dt = minDt;
  let frames = 0;
  let events = 0;
  while (t < plan.tEnd) {
    const tn = Math.min(plan.tEnd, t + dt);
    const rois = scene.render(tn, frame);
    const b = emu.step(frame, tn, rois);
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
