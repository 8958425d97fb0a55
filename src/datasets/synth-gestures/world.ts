/**
 * The randomized world (`dataset synth-gestures --world randomized`): what the classic world keeps
 * fixed, drawn per subject, per recording and per gesture instance from the documented ranges
 * below, all from keyed seeds (the same seed, user and lighting give the same world).
 *
 * Why: a model trained on one rendering learns its accidents. In the classic world limbs are always
 * brighter than the background, so "which polarity leads a moving edge" gives away the rotation
 * sense; a person in dark sleeves or in front of a bright wall reverses it. Here every part of the
 * figure is drawn darker *or* brighter than the background, independently.
 *
 * Ranges (linear intensity before the lighting's tone curve; L = arm length in px):
 * - background: level log-uniform 0.06–0.8; value-noise amplitude 0–2× the classic one; stripes
 *   (p = 0.5; period 5–28 px, depth 0.1–0.5, any angle); 2–12 rectangles × 0.3–3 (static edges).
 * - tones per part (shirt, sleeves, skin, hair): darker (× 0.2–0.7 of the background level) or
 *   brighter (× 1.4–3.5, at most 1.2), each with p = ½; sleeveless arms (sleeve = skin) p = 0.2;
 *   striped sleeves p = 0.3 (period 3–8 px, depth 0.3–0.6).
 * - body: L 32–52 px, neck base x 64 ± 15, y 46 ± 10; shoulder half-width 0.3–0.42 L, upper arm
 *   0.45–0.55 L, forearm 0.42–0.52 L, arm radius 0.055–0.09 L, hand radius 0.08–0.13 L; camera roll ±8°.
 * - gestures: subject speed 0.75–1.3 × instance 0.8–1.25 (0.6–1.6× overall), amplitude 0.8–1.2 ×
 *   instance 0.85–1.15; circles whole-arm / forearm / classic (0.4 / 0.3 / 0.3), waves from the elbow
 *   / the wrist / classic (0.4 / 0.2 / 0.4); hand-path jitter 0–0.035 L at 0.5–3 Hz per coordinate.
 * - lighting: illumination × 0.5–1.8; gradient ±0.35 across the image; flicker p = 0.3 at 100 or
 *   120 Hz, depth 0.01–0.06; slow drift p = 0.5, depth 0.03–0.15, period 4–20 s.
 * - distractors: in each pause between gestures with p = 0.5, a disc (radius 3–9 px, darker or
 *   brighter) crossing 20–80 px of the background at 20–120 px/s.
 * - sensor: ON threshold 0.15–0.3 (ln), OFF/ON 0.85–1.2, mismatch σ 0.02–0.06, refractory
 *   0–1.5 ms, shot noise 0.02–0.6 Hz per pixel, hot pixels 0–6·10⁻⁴ at 20–200 Hz.
 */
import type { DvsEmulatorOptions } from '../../emulator/dvs-emulator';
import { keyedSeed, Rng } from '../../prng';
import {
  clampNum,
  SYNTH_HEIGHT,
  SYNTH_WIDTH,
  type Distractor,
  type GestureSegment,
  type GestureStyle,
  type LightingParams,
  type SubjectParams,
  type WorldParams,
} from './params';

const DEG = Math.PI / 180;

/** A tone darker or brighter than `ref` (p = ½ each), within 0.015–1.2. */
function toneAround(r: Rng, ref: number): number {
  const brighter = r.next() < 0.5;
  const v = brighter ? ref * r.uniform(1.4, 3.5) : ref * r.uniform(0.2, 0.7);
  if (brighter && v > 1.2) return ref * 1.4 <= 1.2 ? 1.2 : ref * r.uniform(0.2, 0.7);
  return Math.max(0.015, v);
}

/** A subject of the randomized world against a background of mean level `backgroundLevel`. */
export function makeRandomizedSubject(seed: number, user: number, backgroundLevel: number, lighting: string): SubjectParams {
  const r = new Rng(keyedSeed(seed, 'world-subject', user, lighting));
  const classAmplitude: number[] = [];
  const classOffsetY: number[] = [];
  for (let c = 0; c < 11; c++) {
    classAmplitude.push(r.uniform(0.8, 1.2));
    classOffsetY.push(r.uniform(-0.08, 0.08));
  }
  const skin = toneAround(r, backgroundLevel);
  const sleeveless = r.next() < 0.2;
  const sleeve = sleeveless ? skin : toneAround(r, backgroundLevel);
  const striped = !sleeveless && r.next() < 0.3;
  return {
    user,
    armLength: r.uniform(32, 52),
    cx: 64 + r.uniform(-15, 15),
    neckY: 46 + r.uniform(-10, 10),
    speed: r.uniform(0.75, 1.3),
    amplitude: r.uniform(0.8, 1.2),
    dominantSide: r.next() < 0.8 ? -1 : 1,
    dominance: r.uniform(1.0, 1.2),
    classAmplitude,
    classOffsetY,
    idleSway: r.uniform(0.005, 0.04),
    shirt: toneAround(r, backgroundLevel),
    sleeve,
    skin,
    hair: toneAround(r, backgroundLevel),
    body: {
      shoulderHalf: r.uniform(0.3, 0.42),
      shoulderDrop: r.uniform(0.04, 0.1),
      upper: r.uniform(0.45, 0.55),
      fore: r.uniform(0.42, 0.52),
      armR: r.uniform(0.055, 0.09),
      handR: r.uniform(0.08, 0.13),
    },
    ...(striped ? { sleeveStripes: { period: r.uniform(3, 8), depth: r.uniform(0.3, 0.6) } } : {}),
  };
}

/** The static part of a recording's world: background, gradient, flicker, drift, roll (distractors come with the plan's pauses). */
export function drawWorld(seed: number, user: number, lighting: string): WorldParams & { illumination: number } {
  const r = new Rng(keyedSeed(seed, 'world', user, lighting));
  const level = Math.exp(r.uniform(Math.log(0.06), Math.log(0.8)));
  const rects: number[][] = [];
  const nRect = 2 + r.int(11);
  for (let k = 0; k < nRect; k++) {
    const x0 = r.uniform(-10, 120);
    const y0 = r.uniform(-10, 120);
    rects.push([x0, y0, x0 + r.uniform(4, 50), y0 + r.uniform(4, 60), Math.exp(r.uniform(Math.log(0.3), Math.log(3)))]);
  }
  const world: WorldParams & { illumination: number } = {
    illumination: r.uniform(0.5, 1.8),
    background: { level, noise: r.uniform(0, 2), rects },
    gradient: { gx: r.uniform(-0.35, 0.35), gy: r.uniform(-0.35, 0.35) },
    rollRad: r.uniform(-8, 8) * DEG,
  };
  if (r.next() < 0.5) world.background!.stripes = { period: r.uniform(5, 28), depth: r.uniform(0.1, 0.5), angle: r.uniform(0, Math.PI) };
  if (r.next() < 0.3) world.flicker = { hz: r.next() < 0.5 ? 100 : 120, depth: r.uniform(0.01, 0.06) };
  if (r.next() < 0.5) world.drift = { depth: r.uniform(0.03, 0.15), periodS: r.uniform(4, 20), phase: r.next() };
  return world;
}

/** How one gesture instance is performed: style, speed factor, amplitude and hand-path jitter. */
export function styleInstance(r: Rng, classId: number): { style: GestureStyle; speed: number; amplitude: number; jitter: Float64Array } {
  let style: GestureStyle = 'classic';
  const u = r.next();
  if (classId >= 4 && classId <= 7) style = u < 0.4 ? 'whole-arm' : u < 0.7 ? 'forearm' : 'classic';
  else if (classId === 2 || classId === 3) style = u < 0.4 ? 'elbow' : u < 0.6 ? 'wrist' : 'classic';
  const jitter = new Float64Array(12);
  const amp = r.uniform(0, 0.035);
  for (let k = 0; k < 4; k++) {
    jitter[k * 3] = r.uniform(0.5, 3);
    jitter[k * 3 + 1] = amp * r.uniform(0.3, 1);
    jitter[k * 3 + 2] = r.next();
  }
  return { style, speed: r.uniform(0.8, 1.25), amplitude: r.uniform(0.85, 1.15), jitter };
}

/** Distractors crossing the background in the pauses between gestures (p = ½ per pause). */
export function pauseDistractors(r: Rng, segments: readonly GestureSegment[], backgroundLevel: number): Distractor[] {
  const out: Distractor[] = [];
  for (let k = 0; k + 1 < segments.length; k++) {
    const from = segments[k].tEnd + segments[k].fadeOut;
    const to = segments[k + 1].tStart - segments[k + 1].fadeIn;
    if (to - from < 100_000 || r.next() >= 0.5) continue;
    const dist = r.uniform(20, 80);
    const speed = r.uniform(20, 120);
    const dur = Math.min(to - from, (dist / speed) * 1e6);
    const angle = r.uniform(0, 2 * Math.PI);
    const x0 = r.uniform(8, SYNTH_WIDTH - 8);
    const y0 = r.uniform(8, SYNTH_HEIGHT * 0.6);
    out.push({
      t0: from,
      t1: from + dur,
      x0,
      y0,
      x1: clampNum(x0 + dist * Math.cos(angle), -10, SYNTH_WIDTH + 10),
      y1: clampNum(y0 + dist * Math.sin(angle), -10, SYNTH_HEIGHT + 10),
      radius: r.uniform(3, 9),
      value: toneAround(r, backgroundLevel),
    });
  }
  return out;
}

/** The sensor of a randomized recording (the lighting sets nothing here but the name in the seed). */
export function randomizedEmulator(seed: number, user: number, lighting: LightingParams): DvsEmulatorOptions {
  const r = new Rng(keyedSeed(seed, 'world-sensor', user, lighting.name));
  const thresholdOn = r.uniform(0.15, 0.3);
  return {
    width: SYNTH_WIDTH,
    height: SYNTH_HEIGHT,
    seed: keyedSeed(seed, 'emulator', user, lighting.name),
    thresholdOn,
    thresholdOff: thresholdOn * r.uniform(0.85, 1.2),
    thresholdSigma: r.uniform(0.02, 0.06),
    refractoryUs: Math.round(r.uniform(0, 1500)),
    logEpsilon: 1e-3,
    noiseRateHz: Math.exp(r.uniform(Math.log(0.02), Math.log(0.6))),
    hotPixelFraction: r.uniform(0, 6e-4),
    hotPixelRateHz: r.uniform(20, 200),
  };
}
