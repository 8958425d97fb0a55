/**
 * Calibration of a saved model for Dynamic Confidence, on a validation frames dataset:
 *
 *  1. τ — the ANN's logits on the validation frames (input: the mean of each sample's T frames,
 *     as training validates) → fitTemperature; NLL and ECE before/after are reported.
 *  2. For each conversion mode (qcfs, qffs): the converted SNN runs T steps over every validation
 *     sample (batched runner), O_t is recorded; α = alphaFor(mode, T, bits) ('auto'), the
 *     least-squares fit of O_T against the ANN logits ('fit'), or a given number; the confidence
 *     trace softmax(O_t/(α·τ)) gives the exact accuracy/mean-steps curve for every θ, and θ is the
 *     lowest-latency point whose validation accuracy is ≥ the full-T SNN's accuracy − ε.
 *  3. The result is merged into the model's spikestream.json (weights untouched, atomic rename):
 *       calibration.modes[mode] = { alpha, tau, theta, accFullT, accAtTheta, meanSteps, latencySavingPct, … }
 *     and, for the model's default mode (meta.conversion.mode), the same alpha/tau/theta at the top
 *     level of `calibration` with `calibration.mode` naming it (see streams/classifier-model.ts).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  alphaFor,
  calibrate as fitCalibration,
  chooseTheta,
  curvePoint,
  EXTENDED_THETA_GRID,
  gridCurve,
  evaluateThreshold,
  fitAlpha,
  fullTAccuracy,
  latencySaving,
  thresholdCurve,
  traceFromOutputs,
  type SnnMode,
} from '../confidence';
import type { NamedWeight } from '../snn/ann';
import { convertWeights, type ConversionMode } from '../snn/convert';
import type { FrameDataset } from '../snn/dataset';
import type { ModelMeta } from '../snn/model-file';
import type { ResolvedSpec } from '../snn/spec';
import { accuracyOf, annLogits, finalOutputs, recordSnn, type SnnRecording } from './run-snn';

export type ThetaSearch = 'exact' | 'grid';

export const CONVERSION_MODES: readonly ConversionMode[] = ['qcfs', 'qffs'];

/** 'qcfs' | 'qffs' | 'both' → the list of modes. */
export function parseModes(v: string | undefined): ConversionMode[] {
  const s = (v ?? 'both').trim().toLowerCase();
  if (s === 'both') return [...CONVERSION_MODES];
  if (s === 'qcfs' || s === 'qffs') return [s];
  throw new RangeError(`mode must be qcfs, qffs or both (got '${v}')`);
}

export function snnMode(mode: ConversionMode): SnnMode {
  return mode === 'qffs' ? 'QFFS' : 'QCFS';
}

export type AlphaChoice = 'auto' | 'fit' | number;

/** 'auto' | 'fit' | a positive number. */
export function parseAlpha(v: string | undefined): AlphaChoice {
  const s = (v ?? 'auto').trim().toLowerCase();
  if (s === 'auto' || s === 'fit') return s;
  const n = Number(s);
  if (!Number.isFinite(n) || !(n > 0)) throw new RangeError(`alpha must be auto, fit or a positive number (got '${v}')`);
  return n;
}

/** Progress of a named phase ('ann', 'snn qcfs', …) in samples. */
export type PhaseProgressFn = (phase: string, done: number, total: number) => void;

export interface TemperatureReport {
  readonly tau: number;
  readonly nllBefore: number;
  readonly nllAfter: number;
  readonly eceBefore: number;
  readonly eceAfter: number;
  readonly atBound: 'min' | 'max' | null;
}

export interface ModeCalibration {
  readonly mode: ConversionMode;
  readonly alpha: number;
  readonly alphaSource: 'auto' | 'fit' | 'given';
  /** alphaFor(mode, T, bits) and the least-squares fit (both reported whatever the choice). */
  readonly alphaAuto: number;
  readonly alphaFit: number;
  readonly tau: number;
  readonly theta: number;
  /** Every θ in [thetaMin, thetaMax) gives the same validation result (null = ∓∞). */
  readonly thetaMin: number | null;
  readonly thetaMax: number | null;
  readonly epsilon: number;
  /** How θ was searched: every distinct θ ('exact') or the paper's 0.1 grid plus 0.95, 0.99 ('grid'). */
  readonly search: ThetaSearch;
  readonly T: number;
  readonly n: number;
  /** SNN accuracy at T on the validation split. */
  readonly accFullT: number;
  /** SNN accuracy with Dynamic Confidence at θ (validation). */
  readonly accAtTheta: number;
  readonly meanSteps: number;
  readonly earlyFraction: number;
  readonly latencySavingPct: number;
  readonly spikesPerNeuronFullT: number;
}

export interface CalibrationReport {
  readonly model: string;
  readonly validation: string;
  readonly n: number;
  readonly T: number;
  readonly classes: number;
  readonly bits: number;
  readonly defaultMode: ConversionMode;
  readonly annAccuracy: number;
  readonly temperature: TemperatureReport;
  readonly modes: Partial<Record<ConversionMode, ModeCalibration>>;
  readonly notes: string[];
  /** spikestream.json written (absent with write: false). */
  readonly written?: string;
}

export interface CalibrateOptions {
  readonly modes?: readonly ConversionMode[];
  readonly epsilon?: number;
  /** θ search: 'exact' (default) or 'grid'. */
  readonly search?: ThetaSearch;
  readonly alpha?: AlphaChoice;
  /** ANN batch size (default 32). */
  readonly batchSize?: number;
  /** SNN runner slots (default 64). */
  readonly slots?: number;
  /** Name of the validation data recorded in the file (default 'validation'). */
  readonly validationName?: string;
  /** Write spikestream.json (default true). */
  readonly write?: boolean;
  readonly onProgress?: PhaseProgressFn;
}

/** What calibration needs from a loaded model. */
export interface LoadedModel {
  readonly dir: string;
  readonly meta: ModelMeta;
  readonly weights: NamedWeight[];
  readonly spec: ResolvedSpec;
}

/** The model's T: binning.T, else conversion.T. */
export function modelSteps(meta: ModelMeta): number {
  const T = meta.binning?.T ?? meta.conversion?.T;
  if (!Number.isInteger(T) || (T as number) < 1) throw new Error('spikestream.json: neither binning.T nor conversion.T is a positive integer');
  return T as number;
}

/** Checks that a frames dataset fits the model; returns the T to run. */
export function checkData(model: LoadedModel, ds: FrameDataset, what: string): number {
  const { spec } = model;
  if (ds.height !== spec.input.height || ds.width !== spec.input.width) {
    throw new Error(`${what}: frames are ${ds.height}×${ds.width}, the model expects ${spec.input.height}×${spec.input.width}`);
  }
  const C = spec.classes.length;
  for (let i = 0; i < ds.n; i++) {
    if (!(ds.labels[i] >= 0 && ds.labels[i] < C)) throw new Error(`${what}: label ${ds.labels[i]} of sample ${i} outside the model's ${C} classes`);
  }
  const T = modelSteps(model.meta);
  if (ds.T < T) throw new Error(`${what}: ${ds.T} frames per sample, the model runs T = ${T} steps`);
  return T;
}

/** Computes α for one mode from the choice, the recording and the ANN logits. */
export function chooseAlpha(
  choice: AlphaChoice,
  mode: ConversionMode,
  T: number,
  bits: number,
  rec: SnnRecording,
  logits: Float32Array,
): { alpha: number; source: 'auto' | 'fit' | 'given'; alphaAuto: number; alphaFit: number; note?: string } {
  const alphaAuto = alphaFor(snnMode(mode), T, bits);
  const alphaFit = fitAlpha(finalOutputs(rec), logits, rec.classes);
  if (typeof choice === 'number') return { alpha: choice, source: 'given', alphaAuto, alphaFit };
  if (choice === 'fit') {
    if (alphaFit > 0 && Number.isFinite(alphaFit)) return { alpha: alphaFit, source: 'fit', alphaAuto, alphaFit };
    return {
      alpha: alphaAuto,
      source: 'auto',
      alphaAuto,
      alphaFit,
      note: `${mode}: fitted α = ${alphaFit} is not positive; used alphaFor = ${alphaAuto}`,
    };
  }
  return { alpha: alphaAuto, source: 'auto', alphaAuto, alphaFit };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** Calibrates one mode from its validation recording. */
export function calibrateMode(
  mode: ConversionMode,
  rec: SnnRecording,
  alpha: ReturnType<typeof chooseAlpha>,
  tau: number,
  epsilon: number,
  search: ThetaSearch = 'exact',
): ModeCalibration {
  const { T } = rec;
  const trace = traceFromOutputs(rec.outputs, rec.labels, T, rec.classes, alpha.alpha, tau);
  const curve = thresholdCurve(trace);
  const accFullT = fullTAccuracy(trace);
  // 'grid' picks among the paper's θ grid (0.0, 0.1, …, 0.9, 0.95, 0.99): coarser, but a chosen θ
  // is then never a narrow interval that happens to suit the validation samples.
  const chosen = (search === 'grid' ? chooseTheta(gridCurve(trace, EXTENDED_THETA_GRID), accFullT, epsilon) : chooseTheta(curve, accFullT, epsilon)) ?? curvePoint(curve, 0);
  // The decision rule applied directly at the stored θ (the curve's representative of its interval).
  const check = evaluateThreshold(trace, chosen.theta);
  let spikes = 0;
  for (let i = 0; i < rec.spikes.length; i++) spikes += rec.spikes[i];
  return {
    mode,
    alpha: alpha.alpha,
    alphaSource: alpha.source,
    alphaAuto: alpha.alphaAuto,
    alphaFit: alpha.alphaFit,
    tau,
    theta: chosen.theta,
    thetaMin: finiteOrNull(chosen.thetaMin),
    thetaMax: finiteOrNull(chosen.thetaMax),
    epsilon,
    search,
    T,
    n: rec.n,
    accFullT,
    accAtTheta: check.accuracy,
    meanSteps: check.meanSteps,
    earlyFraction: check.earlyFraction,
    latencySavingPct: latencySaving(check.meanSteps, T),
    spikesPerNeuronFullT: rec.n > 0 ? spikes / rec.n / rec.neurons : NaN,
  };
}

/** Runs the whole calibration (see the file comment). The tfjs backend must be initialised. */
export async function calibrateModel(model: LoadedModel, val: FrameDataset, opts: CalibrateOptions = {}): Promise<CalibrationReport> {
  const modes = opts.modes ?? CONVERSION_MODES;
  if (modes.length === 0) throw new RangeError('calibrate: no modes');
  const epsilon = opts.epsilon ?? 0;
  if (!(epsilon >= 0 && epsilon < 1)) throw new RangeError(`calibrate: epsilon must be in [0, 1) (got ${epsilon})`);
  const alphaChoice = opts.alpha ?? 'auto';
  const T = checkData(model, val, opts.validationName ?? 'validation data');
  const { spec, weights, meta } = model;
  const C = spec.classes.length;
  const notes: string[] = [];
  if (val.n < 1) throw new Error('calibrate: the validation set is empty');

  const logits = await annLogits(spec, weights, val, {
    T,
    batchSize: opts.batchSize,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!('ann', d, t) : undefined,
  });
  const annAccuracy = accuracyOf(logits, val.labels, C);
  const fit = fitCalibration(logits, val.labels, C);
  if (fit.atBound) notes.push(`τ hit its search bound (${fit.atBound}): the ANN's validation logits are ${fit.atBound === 'min' ? 'separable' : 'uninformative'}`);
  const temperature: TemperatureReport = {
    tau: fit.tau,
    nllBefore: fit.nllBefore,
    nllAfter: fit.nllAfter,
    eceBefore: fit.eceBefore,
    eceAfter: fit.eceAfter,
    atBound: fit.atBound,
  };

  const out: Partial<Record<ConversionMode, ModeCalibration>> = {};
  for (const mode of modes) {
    const net = convertWeights(spec, weights, mode);
    const rec = await recordSnn(net, val, {
      T,
      slots: opts.slots,
      onProgress: opts.onProgress ? (d, t) => opts.onProgress!(`snn ${mode}`, d, t) : undefined,
    });
    const alpha = chooseAlpha(alphaChoice, mode, T, spec.bits, rec, logits);
    if (alpha.note) notes.push(alpha.note);
    out[mode] = calibrateMode(mode, rec, alpha, fit.tau, epsilon, opts.search ?? 'exact');
  }

  const report: CalibrationReport = {
    model: model.dir,
    validation: opts.validationName ?? 'validation',
    n: val.n,
    T,
    classes: C,
    bits: spec.bits,
    defaultMode: meta.conversion.mode,
    annAccuracy,
    temperature,
    modes: out,
    notes,
  };
  if (opts.write === false) return report;
  const written = writeCalibration(model.dir, report);
  return { ...report, written };
}

/** JSON with non-finite numbers as null. */
function clean<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}

/**
 * Merges a calibration report into DIR/spikestream.json (re-read just before writing; other keys and
 * other modes' entries kept) and replaces the file atomically. Returns its path.
 */
export function writeCalibration(dir: string, report: CalibrationReport): string {
  const file = path.join(dir, 'spikestream.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelMeta;
  if (meta.format !== 'spikestream-model') throw new Error(`${file} is not a spikestream model`);
  const prev = (meta.calibration ?? { alpha: null, tau: null }) as ModelMeta['calibration'];
  const prevModes = (prev.modes && typeof prev.modes === 'object' ? prev.modes : {}) as Record<string, unknown>;
  const modes: Record<string, unknown> = { ...prevModes };
  for (const [mode, c] of Object.entries(report.modes)) {
    if (!c) continue;
    modes[mode] = {
      alpha: c.alpha,
      tau: c.tau,
      theta: c.theta,
      accFullT: c.accFullT,
      accAtTheta: c.accAtTheta,
      meanSteps: c.meanSteps,
      latencySavingPct: c.latencySavingPct,
      earlyFraction: c.earlyFraction,
      thetaInterval: [c.thetaMin, c.thetaMax],
      epsilon: c.epsilon,
      alphaSource: c.alphaSource,
      alphaAuto: c.alphaAuto,
      alphaFit: c.alphaFit,
      spikesPerNeuronFullT: c.spikesPerNeuronFullT,
      T: c.T,
      n: c.n,
    };
  }
  const next: Record<string, unknown> = { ...prev, modes };
  const def = report.modes[report.defaultMode];
  if (def) {
    Object.assign(next, {
      mode: report.defaultMode,
      alpha: def.alpha,
      tau: def.tau,
      theta: def.theta,
      accFullT: def.accFullT,
      accAtTheta: def.accAtTheta,
      meanSteps: def.meanSteps,
      latencySavingPct: def.latencySavingPct,
    });
  }
  next.temperature = { ...report.temperature };
  next.ann = { accuracy: report.annAccuracy, input: 'mean of the T frames' };
  next.validation = { data: report.validation, n: report.n, T: report.T };
  next.calibratedAt = new Date().toISOString();
  meta.calibration = clean(next) as ModelMeta['calibration'];
  const tmp = path.join(dir, `.spikestream.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** The calibration stored for a mode, resolved as streams/classifier-model.ts does; undefined fields when absent. */
export function storedCalibration(meta: ModelMeta, mode: ConversionMode): { alpha?: number; tau?: number; theta?: number } {
  const cal = (meta.calibration ?? {}) as Record<string, unknown>;
  const calibratedFor = typeof cal.mode === 'string' ? cal.mode : meta.conversion.mode;
  const modes = (cal.modes && typeof cal.modes === 'object' ? cal.modes : {}) as Record<string, Record<string, unknown> | undefined>;
  const src = modes[mode] ?? (calibratedFor === mode ? cal : {});
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  return { alpha: num(src.alpha), tau: num(src.tau), theta: num(src.theta) };
}
