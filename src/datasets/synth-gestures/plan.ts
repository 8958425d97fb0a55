/**
 * Planning one user file: the subject's body and habits, the gesture order and timing, and the
 * per-instance time scale that normalises motion energy (so event counts carry almost no class
 * information), and the emulator settings for the lighting.
 */
import { keyedSeed, Rng } from '../../prng';
import { gestureWrists, Skeleton } from './motion';
import { drawWorld, makeRandomizedSubject, pauseDistractors, randomizedEmulator, styleInstance } from './world';
import {
  bodyOf,
  clampNum,
  lightingParams,
  SYNTH_CLASS_IDS,
  SYNTH_HEIGHT,
  SYNTH_WIDTH,
  type GestureSegment,
  type LightingParams,
  type PlanOptions,
  type RecordingPlan,
  type SubjectParams,
} from './params';

/**
 * Per-class gain on the energy target: what the swept-area estimate misses (contrast against
 * the torso vs the background, occlusion). Measured on a pilot set (see the calibration notes
 * in recordings/README.md: pilot set, mean class rate ÷ overall mean) so that the mean event rate per class is about equal.
 */
export const CLASS_RATE_GAIN = [1.553, 1.029, 0.97, 0.957, 0.973, 0.944, 0.885, 1.067, 0.831, 0.942, 1.101];

/** Target swept area per second (in L² per s) at speed factor 1. */
const TARGET_SWEEP = 2.0;

export function makeSubject(seed: number, user: number): SubjectParams {
  const r = new Rng(keyedSeed(seed, 'subject', user));
  const classAmplitude: number[] = [];
  const classOffsetY: number[] = [];
  for (let c = 0; c < 11; c++) {
    classAmplitude.push(r.uniform(0.88, 1.12));
    classOffsetY.push(r.uniform(-0.06, 0.06));
  }
  const shirt = r.uniform(0.12, 0.45);
  return {
    user,
    armLength: r.uniform(38, 47),
    cx: 64 + r.uniform(-7, 7),
    neckY: 46 + r.uniform(-6, 6),
    speed: r.uniform(0.85, 1.2),
    amplitude: r.uniform(0.88, 1.12),
    dominantSide: r.next() < 0.85 ? -1 : 1,
    dominance: r.uniform(1.0, 1.15),
    classAmplitude,
    classOffsetY,
    idleSway: r.uniform(0.005, 0.025),
    shirt,
    sleeve: shirt * r.uniform(1.3, 2.0),
    skin: r.uniform(0.55, 0.85),
    hair: r.uniform(0.05, 0.35),
  };
}

/** Plans one user file: subject, lighting, gesture order and timing, emulator settings. */
export function planRecording(opts: PlanOptions): RecordingPlan {
  const minS = opts.minSeconds ?? 1.6;
  const maxS = opts.maxSeconds ?? 2.6;
  if (!(minS >= 1.5 && maxS >= minS)) throw new RangeError(`gesture durations must satisfy 1.5 ≤ min ≤ max (got ${minS}, ${maxS})`);
  const repeats = opts.repeats ?? 2;
  if (!(Number.isInteger(repeats) && repeats >= 0 && repeats <= 11)) throw new RangeError('repeats must be an integer in 0…11');
  const named = lightingParams(opts.lighting);
  const randomized = opts.world === 'randomized';
  const world = randomized ? drawWorld(opts.seed, opts.user, named.name) : undefined;
  const lighting = world ? { ...named, illumination: named.illumination * world.illumination } : named;
  const subject = world ? makeRandomizedSubject(opts.seed, opts.user, world.background!.level, named.name) : makeSubject(opts.seed, opts.user);
  const r = new Rng(keyedSeed(opts.seed, 'plan', opts.user, lighting.name));
  // The randomized world's own draws come from their own stream, so the classic ones stay as they were.
  const rs = new Rng(keyedSeed(opts.seed, 'world-instances', opts.user, lighting.name));
  const classes: number[] = [...SYNTH_CLASS_IDS];
  const extra = r.shuffle([...SYNTH_CLASS_IDS]).slice(0, repeats);
  classes.push(...extra);
  r.shuffle(classes);
  const segments: GestureSegment[] = [];
  let t = Math.round(r.uniform(0.6, 1.0) * 1e6);
  const skel = new Skeleton(subject);
  for (const classId of classes) {
    const fadeIn = Math.round(r.uniform(0.25, 0.4) * 1e6);
    const fadeOut = Math.round(r.uniform(0.25, 0.4) * 1e6);
    const dur = Math.round(r.uniform(minS, maxS) * 1e6);
    const tStart = t + fadeIn;
    const seg: GestureSegment = {
      classId,
      tStart,
      tEnd: tStart + dur,
      fadeIn,
      fadeOut,
      timeScale: 1,
      phase: r.next(),
      amplitude: r.uniform(0.93, 1.07),
    };
    if (classId === 11) seg.other = randomOther(r);
    // Motion-energy normalisation: time-scale so that the swept area per second hits the target
    // (in the randomized world, of the classic way of doing the gesture, then × the instance's speed).
    const e1 = sweepRate(skel, seg, subject);
    const target = TARGET_SWEEP * subject.speed * CLASS_RATE_GAIN[classId - 1] * r.uniform(0.92, 1.08);
    seg.timeScale = clampNum(target / Math.max(1e-6, e1), 0.35, 3);
    if (randomized) {
      const inst = styleInstance(rs, classId);
      seg.style = inst.style;
      seg.jitter = inst.jitter;
      seg.amplitude *= inst.amplitude;
      seg.timeScale *= inst.speed;
    }
    segments.push(seg);
    t = seg.tEnd + fadeOut + Math.round(r.uniform(0.15, 0.45) * 1e6);
  }
  const tEnd = t + Math.round(0.3e6);
  const plan = { seed: opts.seed, user: opts.user, lighting, subject, segments, tEnd };
  if (world) {
    const { illumination: _, ...rest } = world;
    // The emulator is drawn before the distractors: the order of the draws keeps recordings reproducible.
    const emulator = randomizedEmulator(opts.seed, opts.user, named);
    return { ...plan, emulator, world: { ...rest, distractors: pauseDistractors(rs, segments, world.background!.level) } };
  }
  return { ...plan, emulator: classicEmulator(opts.seed, opts.user, lighting) };
}

/** The classic world's sensor: thresholds and noise from the lighting, its seed keyed by user and lighting. */
function classicEmulator(seed: number, user: number, lighting: LightingParams): RecordingPlan['emulator'] {
  return {
    width: SYNTH_WIDTH,
    height: SYNTH_HEIGHT,
    seed: keyedSeed(seed, 'emulator', user, lighting.name),
    thresholdOn: lighting.threshold,
    thresholdOff: lighting.threshold * 1.05,
    thresholdSigma: 0.03,
    refractoryUs: 250,
    logEpsilon: 1e-3,
    noiseRateHz: lighting.noiseRateHz,
    hotPixelFraction: lighting.hotPixelFraction,
    hotPixelRateHz: 60,
  };
}

function randomOther(r: Rng): Float64Array {
  // Per arm: active flag, centre (x, y) offset from rest, 3 components × (fx, ax, px, fy, ay, py).
  const o = new Float64Array(2 * 21);
  const first = r.int(3); // 0: right only, 1: left only, 2: both
  for (let arm = 0; arm < 2; arm++) {
    const base = arm * 21;
    o[base] = first === 2 || first === arm ? 1 : 0;
    o[base + 1] = r.uniform(-0.15, 0.45); // inward
    o[base + 2] = r.uniform(-0.75, -0.2); // up from rest
    for (let k = 0; k < 3; k++) {
      const b = base + 3 + k * 6;
      o[b] = r.uniform(0.3, 1.6);
      o[b + 1] = r.uniform(0.04, 0.22);
      o[b + 2] = r.next();
      o[b + 3] = r.uniform(0.3, 1.6);
      o[b + 4] = r.uniform(0.04, 0.22);
      o[b + 5] = r.next();
    }
  }
  return o;
}

/** Estimated swept area per second (in L²/s) of one gesture instance at time scale 1. */
function sweepRate(skel: Skeleton, seg: GestureSegment, subj: SubjectParams): number {
  skel.reset();
  const { upper: UPPER, fore: FORE, handR: HAND_R } = bodyOf(subj);
  const w = new Float64Array(6);
  const prev = new Float64Array(16);
  const L = subj.armLength;
  const dt = 0.005;
  const dur = (seg.tEnd - seg.tStart) / 1e6;
  const steps = Math.max(2, Math.round(dur / dt));
  let area = 0;
  for (let k = 0; k <= steps; k++) {
    gestureWrists(seg.classId, k * dt, seg, subj, w);
    skel.solve(w);
    const j = skel.joints;
    if (k > 0) {
      for (let arm = 0; arm < 2; arm++) {
        const o = arm * 8;
        const mE = Math.hypot(j[o + 2] - prev[o + 2], j[o + 3] - prev[o + 3]);
        const mW = Math.hypot(j[o + 4] - prev[o + 4], j[o + 5] - prev[o + 5]);
        const mH = Math.hypot(j[o + 6] - prev[o + 6], j[o + 7] - prev[o + 7]);
        area += UPPER * L * (mE / 2) + FORE * L * ((mE + mW) / 2) + 2 * HAND_R * L * mH;
      }
    }
    prev.set(j);
  }
  return area / (L * L) / (steps * dt);
}
