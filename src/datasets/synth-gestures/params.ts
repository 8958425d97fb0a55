/**
 * What every part of the synthetic gestures shares: the sensor size, class ids, lighting
 * conditions, the subject / segment / plan types, and the body proportions.
 */
import type { DvsEmulatorOptions } from '../../emulator/dvs-emulator';

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
  /** Randomized world only (world.ts): body proportions (absent: CLASSIC_BODY). */
  body?: BodyProportions;
  /** Randomized world only: stripes along the sleeves (period px, depth ×). */
  sleeveStripes?: { period: number; depth: number };
}

/** Body proportions in arm lengths L (classic: the constants below). */
export interface BodyProportions {
  shoulderHalf: number;
  shoulderDrop: number;
  upper: number;
  fore: number;
  armR: number;
  handR: number;
}

/**
 * How a gesture instance is performed (randomized world; absent: the classic motion).
 * Circles: 'whole-arm' (wrist around the shoulder, a windmill) or 'forearm' (wrist around a point
 * near the elbow); waves: 'elbow' (forearm swinging about a still elbow) or 'wrist' (forearm
 * still, the hand turning about the wrist).
 */
export type GestureStyle = 'classic' | 'whole-arm' | 'forearm' | 'elbow' | 'wrist';

/**
 * The randomized world around a recording (world.ts draws it; absent fields keep the classic
 * scene). Intensities are linear, before the lighting's tone curve.
 */
export interface WorldParams {
  /** Background: mean level, value-noise amplitude, stripes and cluttered rectangles (static edges). */
  background?: {
    level: number;
    noise: number;
    stripes?: { period: number; depth: number; angle: number };
    /** Rectangles [x0, y0, x1, y1, factor] multiplying the background. */
    rects: number[][];
  };
  /** Multiplicative lighting gradient across the image: 1 + gx·(x−64)/64 + gy·(y−64)/64. */
  gradient?: { gx: number; gy: number };
  /** Mains flicker of the light: frequency (Hz, 100 or 120) and depth of the intensity modulation. */
  flicker?: { hz: number; depth: number };
  /** Slow drift of the illumination: relative depth, period (s) and phase (cycles). */
  drift?: { depth: number; periodS: number; phase: number };
  /** Camera roll (radians) about the subject's neck base. */
  rollRad?: number;
  /** Objects moving across the background between gestures. */
  distractors?: Distractor[];
}

/** A soft disc moving in a straight line from (x0, y0) at t0 to (x1, y1) at t1 (µs). */
export interface Distractor {
  t0: number;
  t1: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  radius: number;
  /** Linear intensity before the tone curve. */
  value: number;
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
  /** Randomized world: how it is performed, and hand-path jitter (per coordinate of [rx, ry, lx, ly]: f, a, phase). */
  style?: GestureStyle;
  jitter?: Float64Array;
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
  /** The randomized world (absent: the classic scene). */
  world?: WorldParams;
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
  /** 'classic' (default: the scene the first bundled models were trained on) or 'randomized' (world.ts). */
  world?: SynthWorld;
}

export type SynthWorld = 'classic' | 'randomized';
export const SYNTH_WORLDS: readonly SynthWorld[] = ['classic', 'randomized'];

// Body proportions (in arm lengths L)

export const SHOULDER_HALF = 0.36;
export const SHOULDER_DROP = 0.07;
export const UPPER = 0.5;
export const FORE = 0.47;
export const ARM_R = 0.07;
export const HAND_R = 0.1;
export const SOFT = 1.1; // px of edge softness

export const CLASSIC_BODY: Readonly<BodyProportions> = Object.freeze({
  shoulderHalf: SHOULDER_HALF,
  shoulderDrop: SHOULDER_DROP,
  upper: UPPER,
  fore: FORE,
  armR: ARM_R,
  handR: HAND_R,
});

export function bodyOf(subj: SubjectParams): Readonly<BodyProportions> {
  return subj.body ?? CLASSIC_BODY;
}

export function clampNum(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

export function lightingParams(name: string): LightingParams {
  const l = LIGHTING_PARAMS[name];
  if (!l) throw new RangeError(`unknown lighting '${name}' (known: ${Object.keys(LIGHTING_PARAMS).join(', ')})`);
  return l;
}
