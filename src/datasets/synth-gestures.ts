/**
 * Synthetic hand/arm gestures in the DVS128 Gesture layout.
 *
 * A procedural scene (128×128 linear intensity) of a lit, person-like figure — textured
 * background, torso, neck, head, and two arms (upper arm, forearm, hand) drawn as soft-edged
 * capsules — whose wrists follow each class's trajectory; elbows come from two-link inverse
 * kinematics. The scene is fed through the DVS emulator (src/emulator) frame by frame at an
 * adaptive frame rate (the arms move at most ~0.5 px per frame, 0.5–10 ms per frame), and only
 * the pixels the arms covered in the previous or the current frame are re-rendered and
 * re-emulated (the rest of the scene is static; it contributes background noise only).
 *
 * One "user file" is one continuous recording: a lead-in at rest, then every class once (plus
 * a few repeats) in a shuffled order, each gesture ≥ 1.5 s between short pauses in which the
 * arms move from and back to rest. Labels are the gesture windows, in the recording's µs.
 *
 * Coordinates: the camera faces the subject; the subject's right arm is on the image's left
 * (small x); origin upper-left as in AEDAT 3.1. "Clockwise" is as seen by the camera.
 *
 * Per-class motion energy is normalised: each gesture instance is time-scaled so that the area
 * its limbs sweep per second (an estimate of its event rate) matches a per-subject target,
 * with a per-class gain measured on a pilot set for what the estimate misses (arms in front of
 * the torso show less contrast than against the background). Total event counts therefore
 * carry almost no class information; the motion itself does.
 */
import type { EventBatch } from '../events/event-batch';
import { DvsEmulator, type DvsEmulatorOptions, type Roi } from '../emulator/dvs-emulator';
import { Rng, deriveSeed } from '../emulator/prng';

export const SYNTH_WIDTH = 128;
export const SYNTH_HEIGHT = 128;

/** CSV class ids 1–11 (DVS128 Gesture numbering). */
export const SYNTH_CLASS_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as const;

/** Lighting names in the order `--lightings N` takes them (the real dataset's names). */
export const SYNTH_LIGHTINGS = ['fluorescent', 'led', 'natural', 'fluorescent_led', 'lab'] as const;

export interface LightingParams {
  name: string;
  /** Overall illumination (scales every intensity). */
  illumination: number;
  /** Exponent on the scene's contrast around mid-grey: 1 = nominal, > 1 = harder light. */
  contrast: number;
  /** Background-activity rate per pixel (Hz). */
  noiseRateHz: number;
  /** Fraction of hot pixels. */
  hotPixelFraction: number;
  /** Mean contrast threshold (ln units). */
  threshold: number;
}

export const LIGHTING_PARAMS: Readonly<Record<string, LightingParams>> = {
  fluorescent: { name: 'fluorescent', illumination: 0.8, contrast: 0.95, noiseRateHz: 0.15, hotPixelFraction: 2e-4, threshold: 0.19 },
  led: { name: 'led', illumination: 1.0, contrast: 1.0, noiseRateHz: 0.1, hotPixelFraction: 1e-4, threshold: 0.2 },
  natural: { name: 'natural', illumination: 1.4, contrast: 1.1, noiseRateHz: 0.05, hotPixelFraction: 0, threshold: 0.21 },
  fluorescent_led: { name: 'fluorescent_led', illumination: 0.9, contrast: 1.0, noiseRateHz: 0.12, hotPixelFraction: 2e-4, threshold: 0.2 },
  lab: { name: 'lab', illumination: 1.1, contrast: 1.05, noiseRateHz: 0.08, hotPixelFraction: 1e-4, threshold: 0.2 },
};

/** A subject's body and habits. Lengths in pixels. */
export interface SubjectParams {
  user: number;
  /** Arm length (shoulder to wrist) in px; other body sizes scale with it. */
  armLength: number;
  /** Neck base position. */
  cx: number;
  neckY: number;
  /** Speed factor (×) on every gesture's tempo and so its event rate. */
  speed: number;
  /** Amplitude factor (×) on every gesture. */
  amplitude: number;
  /** −1: right-handed (subject's right, image left), +1: left-handed. */
  dominantSide: number;
  /** Dominant arm moves `dominance`× larger, the other 1/dominance×. */
  dominance: number;
  /** Per-class amplitude and vertical-offset quirks (index classId − 1). */
  classAmplitude: number[];
  classOffsetY: number[];
  /** Idle sway of the arms at rest (arm lengths). */
  idleSway: number;
  shirt: number;
  sleeve: number;
  skin: number;
  hair: number;
}

export interface GestureSegment {
  classId: number;
  /** Label window (µs, recording time): start ≤ t < end. */
  tStart: number;
  tEnd: number;
  /** Transition times from rest before, and back to rest after, the window (µs). */
  fadeIn: number;
  fadeOut: number;
  /** Gesture-time scale (× real time) after motion-energy normalisation. */
  timeScale: number;
  /** Random phase (cycles) and amplitude jitter of this instance. */
  phase: number;
  amplitude: number;
  /** Class 11: random sinusoid parameters per arm [active, then 3× (fx, ax, px, fy, ay, py)] and a centre. */
  other?: Float64Array;
}

export interface RecordingPlan {
  seed: number;
  user: number;
  lighting: LightingParams;
  subject: SubjectParams;
  segments: GestureSegment[];
  /** Recording end (µs); the recording starts at 0. */
  tEnd: number;
  emulator: DvsEmulatorOptions;
}

export interface PlanOptions {
  seed: number;
  user: number;
  lighting: string;
  /** Gesture duration range in seconds (default 1.6–2.6; each ≥ 1.5). */
  minSeconds?: number;
  maxSeconds?: number;
  /** Extra gestures beyond one per class (default 2: two random classes appear twice). */
  repeats?: number;
}

// ---------------------------------------------------------------------------------------------
// Body proportions (in arm lengths L)

const SHOULDER_HALF = 0.36;
const SHOULDER_DROP = 0.07;
const UPPER = 0.5;
const FORE = 0.47;
const ARM_R = 0.07;
const HAND_R = 0.1;
const SOFT = 1.1; // px of edge softness

/** Nominal per-class frequency (Hz) before normalisation. */
const CLASS_FREQ = [2.0, 2.2, 2.2, 0.9, 0.9, 0.9, 0.9, 1.8, 2.4, 2.6, 1.0];

/**
 * Per-class gain on the energy target: what the swept-area estimate misses (contrast against
 * the torso vs the background, occlusion). Measured on a pilot set (see the calibration notes
 * in recordings/README.md: pilot set, mean class rate ÷ overall mean) so that the mean event rate per class is about equal.
 */
export const CLASS_RATE_GAIN = [1.553, 1.029, 0.97, 0.957, 0.973, 0.944, 0.885, 1.067, 0.831, 0.942, 1.101];

/** Target swept area per second (in L² per s) at speed factor 1. */
const TARGET_SWEEP = 2.0;

// ---------------------------------------------------------------------------------------------
// Planning

function clampNum(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function makeSubject(seed: number, user: number): SubjectParams {
  const r = new Rng(deriveSeed(seed, 'subject', user));
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

export function lightingParams(name: string): LightingParams {
  const l = LIGHTING_PARAMS[name];
  if (!l) throw new RangeError(`unknown lighting '${name}' (known: ${Object.keys(LIGHTING_PARAMS).join(', ')})`);
  return l;
}

/** Plans one user file: subject, lighting, gesture order and timing, emulator settings. */
export function planRecording(opts: PlanOptions): RecordingPlan {
  const minS = opts.minSeconds ?? 1.6;
  const maxS = opts.maxSeconds ?? 2.6;
  if (!(minS >= 1.5 && maxS >= minS)) throw new RangeError(`gesture durations must satisfy 1.5 ≤ min ≤ max (got ${minS}, ${maxS})`);
  const repeats = opts.repeats ?? 2;
  if (!(Number.isInteger(repeats) && repeats >= 0 && repeats <= 11)) throw new RangeError('repeats must be an integer in 0…11');
  const lighting = lightingParams(opts.lighting);
  const subject = makeSubject(opts.seed, opts.user);
  const r = new Rng(deriveSeed(opts.seed, 'plan', opts.user, lighting.name));
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
    // Motion-energy normalisation: time-scale so that the swept area per second hits the target.
    const e1 = sweepRate(skel, seg, subject);
    const target = TARGET_SWEEP * subject.speed * CLASS_RATE_GAIN[classId - 1] * r.uniform(0.92, 1.08);
    seg.timeScale = clampNum(target / Math.max(1e-6, e1), 0.35, 3);
    segments.push(seg);
    t = seg.tEnd + fadeOut + Math.round(r.uniform(0.15, 0.45) * 1e6);
  }
  const tEnd = t + Math.round(0.3e6);
  return {
    seed: opts.seed,
    user: opts.user,
    lighting,
    subject,
    segments,
    tEnd,
    emulator: {
      width: SYNTH_WIDTH,
      height: SYNTH_HEIGHT,
      seed: deriveSeed(opts.seed, 'emulator', opts.user, lighting.name),
      thresholdOn: lighting.threshold,
      thresholdOff: lighting.threshold * 1.05,
      thresholdSigma: 0.03,
      refractoryUs: 250,
      logEpsilon: 1e-3,
      noiseRateHz: lighting.noiseRateHz,
      hotPixelFraction: lighting.hotPixelFraction,
      hotPixelRateHz: 60,
    },
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

// ---------------------------------------------------------------------------------------------
// Trajectories

const TAU = 2 * Math.PI;

/**
 * Wrist targets in body units (arm lengths, relative to the neck base; x to the image's right,
 * y down) for class `classId` at gesture time `g` seconds. Writes [rx, ry, lx, ly].
 * The subject's right arm is on the image's left.
 */
export function gestureWrists(classId: number, g: number, seg: GestureSegment, subj: SubjectParams, out: Float64Array): void {
  const ci = classId - 1;
  const amp = seg.amplitude * subj.amplitude * subj.classAmplitude[ci];
  const ampR = amp * (subj.dominantSide < 0 ? subj.dominance : 1 / subj.dominance);
  const ampL = amp * (subj.dominantSide > 0 ? subj.dominance : 1 / subj.dominance);
  const dy = subj.classOffsetY[ci];
  const ph = TAU * (CLASS_FREQ[ci] * g + seg.phase);
  const restRx = -SHOULDER_HALF - 0.14;
  const restRy = SHOULDER_DROP + 0.92;
  const restLx = SHOULDER_HALF + 0.14;
  const restLy = restRy;
  // Default: both at rest with a slow sway.
  const sway = subj.idleSway * Math.sin(TAU * 0.35 * g + seg.phase * 7);
  out[0] = restRx + sway;
  out[1] = restRy;
  out[2] = restLx - sway;
  out[3] = restLy;
  switch (classId) {
    case 1: {
      // hand clapping: hands meet in front of the chest
      const open = 0.5 * (1 - Math.cos(ph));
      out[0] = -0.045 - 0.26 * ampR * open;
      out[1] = 0.5 + dy + 0.02 * Math.sin(ph);
      out[2] = 0.045 + 0.26 * ampL * open;
      out[3] = 0.5 + dy + 0.02 * Math.sin(ph);
      break;
    }
    case 2:
    case 3: {
      // hand wave: forearm up, hand swinging sideways above the shoulder
      const s = classId === 2 ? -1 : 1;
      const a = classId === 2 ? ampR : ampL;
      const x = s * (SHOULDER_HALF + 0.22) + 0.2 * a * Math.sin(ph);
      const y = -0.5 + dy + 0.05 * a * Math.cos(2 * ph);
      if (s < 0) {
        out[0] = x;
        out[1] = y;
      } else {
        out[2] = x;
        out[3] = y;
      }
      break;
    }
    case 4:
    case 5:
    case 6:
    case 7: {
      // big arm circles; image y points down so increasing angle is clockwise on screen
      const s = classId <= 5 ? -1 : 1;
      const dir = classId === 4 || classId === 6 ? 1 : -1;
      const a = s < 0 ? ampR : ampL;
      const rad = 0.4 * a;
      const cxb = s * (SHOULDER_HALF + 0.42);
      const cyb = 0.02 + dy;
      const th = dir * ph;
      const x = cxb + rad * Math.cos(th);
      const y = cyb + rad * Math.sin(th);
      if (s < 0) {
        out[0] = x;
        out[1] = y;
      } else {
        out[2] = x;
        out[3] = y;
      }
      break;
    }
    case 8: {
      // arm roll: forearms rolling around each other in front of the chest
      const rad = 0.13 * amp;
      const cy = 0.5 + dy;
      out[0] = -0.06 + rad * Math.cos(ph);
      out[1] = cy + rad * Math.sin(ph);
      out[2] = 0.06 + rad * Math.cos(ph + Math.PI);
      out[3] = cy + rad * Math.sin(ph + Math.PI);
      break;
    }
    case 9: {
      // air drums: alternating sharp down-strokes at waist height
      const stroke = (p: number) => {
        const c = Math.cos(p);
        return c * Math.abs(c); // quick turn at the bottom and top
      };
      out[0] = -0.34 + 0.03 * Math.sin(ph * 0.5);
      out[1] = 0.62 + dy + 0.16 * ampR * stroke(ph);
      out[2] = 0.34 - 0.03 * Math.sin(ph * 0.5);
      out[3] = 0.62 + dy + 0.16 * ampL * stroke(ph + Math.PI);
      break;
    }
    case 10: {
      // air guitar: strumming hand at the hip, fretting hand out on the neck
      out[0] = -0.1 + 0.03 * Math.sin(ph);
      out[1] = 0.72 + dy + 0.15 * ampR * Math.sin(ph);
      out[2] = 0.95 + 0.08 * ampL * Math.sin(TAU * 0.45 * g + seg.phase);
      out[3] = 0.2 + dy + 0.05 * ampL * Math.sin(TAU * 0.8 * g);
      break;
    }
    case 11: {
      const o = seg.other!;
      for (let arm = 0; arm < 2; arm++) {
        const base = arm * 21;
        if (o[base] === 0) continue;
        const s = arm === 0 ? -1 : 1;
        let x = (arm === 0 ? restRx : restLx) - s * o[base + 1];
        let y = (arm === 0 ? restRy : restLy) + o[base + 2] + dy;
        for (let k = 0; k < 3; k++) {
          const b = base + 3 + k * 6;
          x += amp * o[b + 1] * Math.sin(TAU * (o[b] * g + o[b + 2]));
          y += amp * o[b + 4] * Math.sin(TAU * (o[b + 3] * g + o[b + 5]));
        }
        out[arm * 2] = x;
        out[arm * 2 + 1] = y;
      }
      break;
    }
    default:
      throw new RangeError(`unknown gesture class ${classId}`);
  }
}

function rest(subj: SubjectParams, t: number, out: Float64Array): void {
  const sway = subj.idleSway * Math.sin(TAU * 0.35 * (t / 1e6));
  out[0] = -SHOULDER_HALF - 0.14 + sway;
  out[1] = SHOULDER_DROP + 0.92;
  out[2] = SHOULDER_HALF + 0.14 - sway;
  out[3] = SHOULDER_DROP + 0.92;
}

function smooth(u: number): number {
  const v = u < 0 ? 0 : u > 1 ? 1 : u;
  return v * v * (3 - 2 * v);
}

/** Wrist targets (body units) at recording time t (µs): rest, or blending into / out of / through a gesture. */
export function wristsAt(plan: { subject: SubjectParams; segments: GestureSegment[] }, t: number, out: Float64Array, tmp: Float64Array): void {
  rest(plan.subject, t, out);
  for (const seg of plan.segments) {
    if (t < seg.tStart - seg.fadeIn || t >= seg.tEnd + seg.fadeOut) continue;
    const tc = t < seg.tStart ? seg.tStart : t > seg.tEnd ? seg.tEnd : t;
    const g = ((tc - seg.tStart) / 1e6) * seg.timeScale;
    gestureWrists(seg.classId, g, seg, plan.subject, tmp);
    let w = 1;
    if (t < seg.tStart) w = smooth(1 - (seg.tStart - t) / seg.fadeIn);
    else if (t > seg.tEnd) w = smooth(1 - (t - seg.tEnd) / seg.fadeOut);
    for (let k = 0; k < 4; k++) out[k] = out[k] + (tmp[k] - out[k]) * w;
    break;
  }
}

// ---------------------------------------------------------------------------------------------
// Skeleton: wrist targets → joint positions in pixels (two-link IK with hysteresis)

/** Joint positions in px: per arm S(x,y) E(x,y) W(x,y) H(x,y) → 8 values, right arm then left. */
export class Skeleton {
  readonly joints = new Float64Array(16);
  private bend = [1, -1];
  constructor(readonly subj: SubjectParams) {}

  reset(): void {
    this.bend = [1, -1];
  }

  /** Solves both arms for wrist targets `w` (body units). */
  solve(w: Float64Array): void {
    const L = this.subj.armLength;
    const a = UPPER * L;
    const b = FORE * L;
    for (let arm = 0; arm < 2; arm++) {
      const side = arm === 0 ? -1 : 1;
      const sx = this.subj.cx + side * SHOULDER_HALF * L;
      const sy = this.subj.neckY + SHOULDER_DROP * L;
      let dx = this.subj.cx + w[arm * 2] * L - sx;
      let dy = this.subj.neckY + w[arm * 2 + 1] * L - sy;
      let d = Math.hypot(dx, dy);
      const dMax = (a + b) * 0.995;
      const dMin = Math.abs(a - b) + 0.05 * L;
      if (d < 1e-9) {
        dx = 0;
        dy = 1;
        d = 1;
      }
      const ux = dx / d;
      const uy = dy / d;
      const dd = clampNum(d, dMin, dMax);
      const cosA = clampNum((a * a + dd * dd - b * b) / (2 * a * dd), -1, 1);
      const sinA = Math.sqrt(1 - cosA * cosA);
      // Candidates: rotate u by ±alpha (image coords).
      const e1x = sx + a * (ux * cosA - uy * sinA);
      const e1y = sy + a * (ux * sinA + uy * cosA);
      const e2x = sx + a * (ux * cosA + uy * sinA);
      const e2y = sy + a * (-ux * sinA + uy * cosA);
      // Prefer elbows low and outside; switch only with a clear margin (no flicker).
      const score1 = e1y - sy + 0.6 * side * (e1x - sx);
      const score2 = e2y - sy + 0.6 * side * (e2x - sx);
      let bend = this.bend[arm];
      if (bend === 1 && score2 > score1 + 0.35 * a) bend = -1;
      else if (bend === -1 && score1 > score2 + 0.35 * a) bend = 1;
      this.bend[arm] = bend;
      const ex = bend === 1 ? e1x : e2x;
      const ey = bend === 1 ? e1y : e2y;
      const wx = sx + ux * dd;
      const wy = sy + uy * dd;
      // Hand centre a little beyond the wrist along the forearm.
      const fx = (wx - ex) / b;
      const fy = (wy - ey) / b;
      const j = arm * 8;
      this.joints[j] = sx;
      this.joints[j + 1] = sy;
      this.joints[j + 2] = ex;
      this.joints[j + 3] = ey;
      this.joints[j + 4] = wx;
      this.joints[j + 5] = wy;
      this.joints[j + 6] = wx + fx * HAND_R * L * 0.8;
      this.joints[j + 7] = wy + fy * HAND_R * L * 0.8;
    }
  }
}

/** Estimated swept area per second (in L²/s) of one gesture instance at time scale 1. */
function sweepRate(skel: Skeleton, seg: GestureSegment, subj: SubjectParams): number {
  skel.reset();
  const w = new Float64Array(4);
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

// ---------------------------------------------------------------------------------------------
// Rendering

/** Renders a plan's scene: a static layer (background + torso + head) and the moving arms. */
export class GestureScene {
  readonly width = SYNTH_WIDTH;
  readonly height = SYNTH_HEIGHT;
  /** Static layer (linear intensity, lighting applied). */
  readonly staticLayer: Float32Array;
  readonly skeleton: Skeleton;
  private readonly wrists = new Float64Array(4);
  private readonly tmp = new Float64Array(4);
  private readonly sleeve: number;
  private readonly skin: number;
  /** Bounding boxes of each arm at the previous render: [x0,y0,x1,y1] × 2. */
  private prevBox = new Float64Array([0, 0, 0, 0, 0, 0, 0, 0]);
  private hasPrev = false;
  /** Largest joint displacement (px) between the last two renders. */
  lastMotionPx = 0;

  constructor(readonly plan: RecordingPlan) {
    this.skeleton = new Skeleton(plan.subject);
    const lit = plan.lighting;
    const tone = (v: number) => lit.illumination * 0.3 * Math.pow(v / 0.3, lit.contrast);
    this.sleeve = tone(plan.subject.sleeve);
    this.skin = tone(plan.subject.skin);
    this.staticLayer = renderStatic(plan, tone);
  }

  /**
   * Renders time t (µs) into `frame`. The first call fills the whole frame and returns
   * undefined; later calls repaint only the arms' old and new boxes and return them (the
   * region that can have changed).
   */
  render(t: number, frame: Float32Array): Roi[] | undefined {
    wristsAt(this.plan, t, this.wrists, this.tmp);
    const prevJoints = this.hasPrev ? Float64Array.from(this.skeleton.joints) : undefined;
    this.skeleton.solve(this.wrists);
    const j = this.skeleton.joints;
    const L = this.plan.subject.armLength;
    const ar = ARM_R * L;
    const hr = HAND_R * L;
    const box = new Float64Array(8);
    for (let arm = 0; arm < 2; arm++) {
      const o = arm * 8;
      const m = Math.max(ar, hr) + SOFT + 1.5;
      let x0 = Infinity;
      let y0 = Infinity;
      let x1 = -Infinity;
      let y1 = -Infinity;
      for (let k = 0; k < 4; k++) {
        x0 = Math.min(x0, j[o + 2 * k]);
        x1 = Math.max(x1, j[o + 2 * k]);
        y0 = Math.min(y0, j[o + 2 * k + 1]);
        y1 = Math.max(y1, j[o + 2 * k + 1]);
      }
      box[arm * 4] = Math.max(0, Math.floor(x0 - m));
      box[arm * 4 + 1] = Math.max(0, Math.floor(y0 - m));
      box[arm * 4 + 2] = Math.min(this.width, Math.ceil(x1 + m));
      box[arm * 4 + 3] = Math.min(this.height, Math.ceil(y1 + m));
    }
    let rois: Roi[] | undefined;
    if (!this.hasPrev || !prevJoints) {
      frame.set(this.staticLayer);
      this.lastMotionPx = 0;
    } else {
      let motion = 0;
      for (let k = 0; k < 16; k++) motion = Math.max(motion, Math.abs(j[k] - prevJoints[k]));
      this.lastMotionPx = motion;
      if (motion === 0) {
        this.prevBox = box;
        return [];
      }
      rois = [];
      for (let arm = 0; arm < 2; arm++) {
        const p = this.prevBox;
        const r: Roi = {
          x0: Math.min(p[arm * 4], box[arm * 4]),
          y0: Math.min(p[arm * 4 + 1], box[arm * 4 + 1]),
          x1: Math.max(p[arm * 4 + 2], box[arm * 4 + 2]),
          y1: Math.max(p[arm * 4 + 3], box[arm * 4 + 3]),
        };
        rois.push(r);
        copyRect(this.staticLayer, frame, this.width, r);
      }
    }
    for (let arm = 0; arm < 2; arm++) {
      const o = arm * 8;
      const clip: Roi = { x0: box[arm * 4], y0: box[arm * 4 + 1], x1: box[arm * 4 + 2], y1: box[arm * 4 + 3] };
      drawCapsule(frame, this.width, clip, j[o], j[o + 1], j[o + 2], j[o + 3], ar * 1.08, this.sleeve);
      drawCapsule(frame, this.width, clip, j[o + 2], j[o + 3], j[o + 4], j[o + 5], ar, this.sleeve);
      drawCapsule(frame, this.width, clip, j[o + 4], j[o + 5], j[o + 6], j[o + 7], hr, this.skin);
    }
    this.prevBox = box;
    this.hasPrev = true;
    return rois;
  }
}

function copyRect(src: Float32Array, dst: Float32Array, W: number, r: Roi): void {
  for (let y = r.y0; y < r.y1; y++) {
    const row = y * W;
    dst.set(src.subarray(row + r.x0, row + r.x1), row + r.x0);
  }
}

/** Soft-edged capsule (segment A–B, radius rad) composited over `frame` inside `clip`. */
function drawCapsule(frame: Float32Array, W: number, clip: Roi, ax: number, ay: number, bx: number, by: number, rad: number, value: number): void {
  const m = rad + SOFT;
  const x0 = Math.max(clip.x0, Math.floor(Math.min(ax, bx) - m));
  const x1 = Math.min(clip.x1, Math.ceil(Math.max(ax, bx) + m));
  const y0 = Math.max(clip.y0, Math.floor(Math.min(ay, by) - m));
  const y1 = Math.min(clip.y1, Math.ceil(Math.max(ay, by) + m));
  const vx = bx - ax;
  const vy = by - ay;
  const vv = vx * vx + vy * vy;
  const inv = vv > 1e-12 ? 1 / vv : 0;
  const invSoft = 1 / SOFT;
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5 - ay;
    const row = y * W;
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5 - ax;
      let u = (px * vx + py * vy) * inv;
      u = u < 0 ? 0 : u > 1 ? 1 : u;
      const qx = px - u * vx;
      const qy = py - u * vy;
      const d = Math.sqrt(qx * qx + qy * qy);
      let c = 0.5 + (rad - d) * invSoft;
      if (c <= 0) continue;
      if (c > 1) c = 1;
      const i = row + x;
      frame[i] += (value - frame[i]) * c;
    }
  }
}

/** Background texture, torso, neck and head. */
function renderStatic(plan: RecordingPlan, tone: (v: number) => number): Float32Array {
  const W = SYNTH_WIDTH;
  const H = SYNTH_HEIGHT;
  const r = new Rng(deriveSeed(plan.seed, 'background', plan.user, plan.lighting.name));
  const base = new Float32Array(W * H);
  // Value noise at two scales + a few soft-edged rectangles (furniture, door frames).
  const grid = (n: number) => {
    const g = new Float32Array((n + 1) * (n + 1));
    for (let i = 0; i < g.length; i++) g[i] = r.next() * 2 - 1;
    return g;
  };
  const g1 = grid(4);
  const g2 = grid(12);
  const sample = (g: Float32Array, n: number, x: number, y: number) => {
    const fx = (x / W) * n;
    const fy = (y / H) * n;
    const ix = Math.min(n - 1, Math.floor(fx));
    const iy = Math.min(n - 1, Math.floor(fy));
    const ux = smooth(fx - ix);
    const uy = smooth(fy - iy);
    const a = g[iy * (n + 1) + ix];
    const b = g[iy * (n + 1) + ix + 1];
    const c = g[(iy + 1) * (n + 1) + ix];
    const d = g[(iy + 1) * (n + 1) + ix + 1];
    return a + (b - a) * ux + (c - a) * uy + (a - b - c + d) * ux * uy;
  };
  const level = r.uniform(0.22, 0.38);
  const rects: number[][] = [];
  const nRect = 2 + r.int(4);
  for (let k = 0; k < nRect; k++) {
    const x0 = r.uniform(-10, 120);
    const y0 = r.uniform(-10, 120);
    rects.push([x0, y0, x0 + r.uniform(8, 50), y0 + r.uniform(8, 60), r.uniform(0.6, 1.6)]);
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = level * (1 + 0.3 * sample(g1, 4, x, y) + 0.12 * sample(g2, 12, x, y));
      for (const q of rects) {
        const cov = clampNum(Math.min(x + 0.5 - q[0], q[2] - x - 0.5, y + 0.5 - q[1], q[3] - y - 0.5) + 0.5, 0, 1);
        if (cov > 0) v *= 1 + (q[4] - 1) * cov;
      }
      base[y * W + x] = v;
    }
  }
  const s = plan.subject;
  const L = s.armLength;
  const full: Roi = { x0: 0, y0: 0, x1: W, y1: H };
  // Torso: shoulders capsule + a tapered box down to the bottom edge.
  drawCapsule(base, W, full, s.cx - SHOULDER_HALF * L, s.neckY + SHOULDER_DROP * L + 0.05 * L, s.cx + SHOULDER_HALF * L, s.neckY + SHOULDER_DROP * L + 0.05 * L, 0.13 * L, s.shirt);
  const top = s.neckY + SHOULDER_DROP * L;
  for (let y = Math.max(0, Math.floor(top)); y < H; y++) {
    const half = (SHOULDER_HALF + 0.1 - 0.1 * ((y - top) / (1.6 * L))) * L;
    for (let x = 0; x < W; x++) {
      const cov = clampNum(half - Math.abs(x + 0.5 - s.cx) + 0.5, 0, 1);
      if (cov > 0) base[y * W + x] += (s.shirt * (1 - 0.15 * ((y - top) / H)) - base[y * W + x]) * cov;
    }
  }
  // Neck and head (skin), hair on top.
  drawCapsule(base, W, full, s.cx, s.neckY - 0.18 * L, s.cx, s.neckY + 0.04 * L, 0.08 * L, s.skin * 0.9);
  const hy = s.neckY - 0.38 * L;
  drawCapsule(base, W, full, s.cx, hy - 0.04 * L, s.cx, hy + 0.06 * L, 0.17 * L, s.skin);
  drawCapsule(base, W, full, s.cx - 0.06 * L, hy - 0.12 * L, s.cx + 0.06 * L, hy - 0.12 * L, 0.13 * L, s.hair);
  for (let i = 0; i < base.length; i++) base[i] = tone(Math.max(0.01, base[i]));
  return base;
}

// ---------------------------------------------------------------------------------------------
// Emulation

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
