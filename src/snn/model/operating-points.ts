/**
 * Operating points: the T, binning, α, τ and θ a model runs with, per conversion mode.
 *
 * QCFS is a rate code: its error shrinks with T, so it runs at the model's T (the paper: QCFS
 * long). QFFS caps each neuron's net spike count at L = 2^b − 1 while the output bias is added
 * every step, so it follows the ANN for T ≈ L and drifts for T ≫ L; the paper runs it at 4–6 steps
 * (α = 2^b − 1). So QFFS is calibrated and evaluated at T ∈ {L, 4, 6} (those ≤ the frames
 * available), each with its own baseline, θ and saving against its own T, and one of them (T = 4,
 * the paper's setting, unless chosen otherwise) is stored as the mode's operating point.
 *
 * Binning: an operating point keeps the model's bin width (binUs or eventsPerBin) and downsample —
 * the ANN was trained on per-bin counts of that width — and has its own T, so QFFS at T = 4
 * decides within the first 4 bins of a sample. Wider bins would change the counts per bin, i.e.
 * the input scale the network was trained for.
 *
 * Storage (spikestream.json): calibration.modes[mode] = { alpha, tau, theta, T, binning, …,
 * operatingPoints: [{ T, alpha, tau, theta, … } per candidate T] }. `storedOperatingPoint` resolves
 * what a runner should use for a mode: modes[mode] first, else the top level when it was
 * calibrated for that mode; T and binning default to the model's.
 */
import type { StepCalibration } from '../../confidence/step-calibration';
import type { StopRule } from '../../confidence/decide';
import type { ConversionMode } from '../convert';
import type { InputBinning, ModelMeta } from './model-file';

export const CONVERSION_MODES: readonly ConversionMode[] = ['qcfs', 'qffs'];

/** The model's T: binning.T, else conversion.T. */
export function modelSteps(meta: ModelMeta): number {
  const T = meta.binning?.T ?? meta.conversion?.T;
  if (!Number.isInteger(T) || (T as number) < 1) throw new Error('spikestream.json: neither binning.T nor conversion.T is a positive integer');
  return T as number;
}

/** The T values a mode is calibrated and evaluated at (ascending, each ≤ maxT). */
export function candidateSteps(mode: ConversionMode, modelT: number, L: number, maxT = modelT): number[] {
  if (mode === 'qcfs') return [Math.min(modelT, maxT)];
  const ts = [...new Set([L, 4, 6])].filter((t) => t >= 1 && t <= maxT).sort((a, b) => a - b);
  return ts.length > 0 ? ts : [Math.min(modelT, maxT)];
}

/** The T stored as a mode's operating point: the model's T for QCFS; 4 (else the nearest candidate) for QFFS. */
export function defaultStoredSteps(mode: ConversionMode, modelT: number, L: number, maxT = modelT): number {
  const cands = candidateSteps(mode, modelT, L, maxT);
  if (mode === 'qcfs') return cands[0];
  return cands.reduce((best, t) => (Math.abs(t - 4) < Math.abs(best - 4) ? t : best), cands[0]);
}

/** The model's binning with another T (the bin width and downsample stay). */
export function binningFor(meta: ModelMeta, T: number): InputBinning {
  return { ...(meta.binning ?? {}), T };
}

/** What a runner needs for one mode; undefined fields when not calibrated. */
export interface StoredOperatingPoint {
  readonly mode: ConversionMode;
  readonly T: number;
  readonly binning: InputBinning;
  readonly alpha?: number;
  readonly tau?: number;
  /** θ of the stored stop rule (`stopRule`). */
  readonly theta?: number;
  /** The deployed stop rule: 'calibrated' when a step calibration is stored and deployed, else 'paper'. */
  readonly stopRule: StopRule;
  /** The calibrated confidence's step scales (absent for a model calibrated before it existed). */
  readonly confidence?: StepCalibration;
  /** θ of each stop rule, as stored (stopRules.*.theta; the deployed θ for the deployed rule). */
  readonly thetas: Partial<Record<StopRule, number>>;
  /** How each stored θ was chosen, in words (see `thetaChoiceText`). */
  readonly thetaChosenBy: Partial<Record<StopRule, string>>;
  /** The calibrated confidence and θ of live streams (absent when not fitted), and how that θ was chosen. */
  readonly live?: { readonly calibration: StepCalibration; readonly theta: number; readonly thetaChosenBy: string };
  /** The stored entry as written (rules, validation figures…). */
  readonly entry: Readonly<Record<string, unknown>>;
}

/** The step calibration stored in an entry, checked (scales all finite and positive). */
export function storedConfidence(e: Readonly<Record<string, unknown>>, key: 'confidence' | 'liveConfidence' = 'confidence'): StepCalibration | undefined {
  const c = e[key] as Partial<StepCalibration> | undefined;
  if (!c || c.method !== 'step-temperature' || !Array.isArray(c.scales) || c.scales.length === 0) return undefined;
  if (!c.scales.every((v) => typeof v === 'number' && v > 0 && Number.isFinite(v))) return undefined;
  const power = c.power && typeof c.power.a === 'number' && typeof c.power.b === 'number' ? { a: c.power.a, b: c.power.b } : undefined;
  return { method: 'step-temperature', form: c.form === 'power' ? 'power' : 'per-step', scales: c.scales, ...(power ? { power } : {}) };
}

/**
 * How a stored θ was chosen, in words, from the rule stored beside it (stopRules[key]: rule and
 * tolerance ε), e.g. "the paper's no-loss rule on validation, ε = 0". Every printed θ names its rule.
 */
export function thetaChoiceText(e: Readonly<Record<string, unknown>>, key: StopRule | 'calibratedLive'): string {
  if (key === 'calibratedLive' && e.liveThetaRule === 'live') return 'the live rule on validation recordings streamed whole';
  const rules = (e.stopRules && typeof e.stopRules === 'object' ? e.stopRules : {}) as Record<string, { rule?: unknown; tolerance?: unknown } | undefined>;
  const stored = rules[key] ?? (key === 'calibratedLive' ? undefined : { rule: e.thetaRule, tolerance: e.epsilon });
  const eps = num(stored?.tolerance) ?? 0;
  const on = key === 'calibratedLive' ? 'on validation, scored with the live calibration' : 'on validation';
  if (stored?.rule === 'paper') return `the paper's no-loss rule ${on}, ε = ${eps}`;
  if (stored?.rule === 'non-inferior') return `the non-inferior rule ${on}, ε = ${eps}`;
  return 'the stored calibration (rule not recorded)';
}

/** The stop-rule fields of a stored entry. */
function stopRuleFields(e: Readonly<Record<string, unknown>>): Pick<StoredOperatingPoint, 'stopRule' | 'confidence' | 'thetas' | 'thetaChosenBy' | 'live'> {
  const confidence = storedConfidence(e);
  const stopRule: StopRule = e.stopRule === 'calibrated' && confidence ? 'calibrated' : 'paper';
  const rules = (e.stopRules && typeof e.stopRules === 'object' ? e.stopRules : {}) as Record<string, { theta?: unknown } | undefined>;
  const thetas: Partial<Record<StopRule, number>> = {};
  const thetaChosenBy: Partial<Record<StopRule, string>> = {};
  for (const r of ['calibrated', 'paper'] as const) {
    const t = num(rules[r]?.theta);
    if (t !== undefined) thetas[r] = t;
    if (t !== undefined || r === stopRule) thetaChosenBy[r] = thetaChoiceText(e, r);
  }
  const deployed = num(e.theta);
  if (deployed !== undefined) thetas[stopRule] = deployed;
  const liveCalibration = storedConfidence(e, 'liveConfidence');
  const liveTheta = num(e.liveTheta);
  const live = liveCalibration && liveTheta !== undefined
    ? { calibration: liveCalibration, theta: liveTheta, thetaChosenBy: thetaChoiceText(e, 'calibratedLive') }
    : undefined;
  return { stopRule, ...(confidence ? { confidence } : {}), thetas, thetaChosenBy, ...(live ? { live } : {}) };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The stored calibration entry of a mode at one T (a candidate), or the mode's operating point. */
function entryFor(meta: ModelMeta, mode: ConversionMode): Record<string, unknown> {
  const cal = (meta.calibration ?? {}) as Record<string, unknown>;
  const calibratedFor = typeof cal.mode === 'string' ? cal.mode : meta.conversion.mode;
  const modes = (cal.modes && typeof cal.modes === 'object' ? cal.modes : {}) as Record<string, Record<string, unknown> | undefined>;
  return modes[mode] ?? (calibratedFor === mode ? cal : {});
}

/** The operating point stored for a mode (see the file comment). */
export function storedOperatingPoint(meta: ModelMeta, mode: ConversionMode): StoredOperatingPoint {
  const e = entryFor(meta, mode);
  const T = num(e.T) ?? modelSteps(meta);
  const b = e.binning && typeof e.binning === 'object' ? (e.binning as InputBinning) : binningFor(meta, T);
  return { mode, T, binning: { ...b, T }, alpha: num(e.alpha), tau: num(e.tau), theta: num(e.theta), ...stopRuleFields(e), entry: e };
}

/** Stored calibration of a mode at a given T: the operating point when T matches, else its candidate entry. */
export function storedAtSteps(meta: ModelMeta, mode: ConversionMode, T: number): StoredOperatingPoint | undefined {
  const op = storedOperatingPoint(meta, mode);
  if (op.T === T && op.theta !== undefined) return op;
  const list = entryFor(meta, mode).operatingPoints;
  if (!Array.isArray(list)) return undefined;
  for (const c of list as Record<string, unknown>[]) {
    if (num(c.T) === T && num(c.theta) !== undefined) {
      return { mode, T, binning: binningFor(meta, T), alpha: num(c.alpha), tau: num(c.tau), theta: num(c.theta), ...stopRuleFields(c), entry: c };
    }
  }
  return undefined;
}

/** The Ts a mode was calibrated at (its candidates; the operating point's T when no list is stored). */
export function storedSteps(meta: ModelMeta, mode: ConversionMode): number[] {
  const list = entryFor(meta, mode).operatingPoints;
  const ts = Array.isArray(list) ? (list as Record<string, unknown>[]).map((c) => num(c.T)).filter((t): t is number => t !== undefined) : [];
  const op = storedOperatingPoint(meta, mode);
  if (op.theta !== undefined && !ts.includes(op.T)) ts.push(op.T);
  return ts.sort((a, b) => a - b);
}
