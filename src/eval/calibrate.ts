/**
 * Calibration of a saved model for Dynamic Confidence, on a validation frames dataset.
 *
 *  1. The ANN on the mean of the first t frames of every validation sample, t = 1..T (the input the
 *     SNN has integrated at step t and the ANN's training input; see baselines.ts).
 *  2. For each conversion mode and each of its operating points' T (operating-points.ts: QCFS at the
 *     model's T; QFFS at T ∈ {L, 4, 6}): τ by temperature scaling of the ANN's logits on the same
 *     T-frame window; the converted SNN's O_t over T steps (one recording per mode, cut at each T:
 *     the SNN is causal); α = alphaFor(mode, T, bits) ('auto'), the least-squares fit of O_T against
 *     the ANN logits ('fit'), or a given number; the paper's confidence trace softmax(O_t/(α·τ)).
 *  3. The calibrated confidence (step-calibration.ts): step scales s_t fitted on the SNN's own O_t at
 *     every step of the windowed validation samples, and — with live-style samples — a second set for
 *     live streams; q_t = max softmax(O_t/s_t) is the probability that argmax O_t is right.
 *  4. θ of each stop rule — calibrated (q_t ≥ θ; the deployed one when fitted) and the paper's
 *     (c_t > θ), and live streams' (q_t with the live scales) — by the deployed θ rule
 *     (theta-rules.ts): the paper's (lowest mean steps with validation accuracy ≥ full-T − ε) over
 *     every distinct θ or over the paper's 0.1 grid (or that grid extended by 0.95 and 0.99), or the
 *     non-inferiority rule on the grid. The paper rule's alternatives for c_t are reported
 *     (`rules`), not stored.
 *  5. The result is merged into the model's spikestream.json (calibration-store.ts).
 */
import {
  alphaFor,
  chooseThetaByRule,
  thetaOutcome,
  calibrate as fitCalibration,
  chooseTheta,
  curvePoint,
  evaluateThreshold,
  fitAlpha,
  fullTAccuracy,
  latencySaving,
  perStepAccuracy,
  thresholdCurve,
  traceFromOutputs,
  type BootstrapOptions,
  type ConfidenceTrace,
  type StopRule,
  type Interval,
  type RuleChoice,
  type SnnMode,
  type ThetaRuleName,
} from '../confidence';
import type { NamedWeight } from '../snn/ann';
import { convertWeights, type ConversionMode } from '../snn/convert';
import type { FrameDataset } from '../snn/dataset';
import type { InputBinning, ModelMeta } from '../snn/model/model-file';
import type { ResolvedSpec } from '../snn/spec';
import { annPrefixLogits, logitsAtStep } from './baselines';
import { binningFor, candidateSteps, CONVERSION_MODES, defaultStoredSteps, modelSteps } from '../snn/model/operating-points';
import { snnMode, type AlphaChoice, type ThetaSearch } from './options';
import { accuracyOf, finalOutputs, recordSnn, truncateRecording, type SnnRecording } from './run-snn';
import { calibratedTrace, fitConfidence, recordLiveStyle, type ConfidenceCalibration, type LiveStyleRecording } from './confidence-fit';

export { CONVERSION_MODES, modelSteps } from '../snn/model/operating-points';
export { calibratedTrace, fitConfidence, recordLiveStyle, type ConfidenceCalibration, type LiveStyleRecording } from './confidence-fit';

export { parseAlpha, parseModes, parseThetaRule, parseThetaSearch, snnMode, type AlphaChoice, type ThetaSearch } from './options';

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

/** One θ rule's choice on validation, with its paired intervals against the full-T SNN. */
export interface RuleSummary {
  readonly rule: ThetaRuleName;
  readonly grid: 'exact' | 'paper' | 'extended';
  /** ε (paper) or δ (non-inferior). */
  readonly tolerance: number;
  readonly theta: number;
  readonly accuracy: number;
  readonly meanSteps: number;
  /** DC − full-T accuracy, paired bootstrap. */
  readonly accuracyDiff: Interval;
  readonly meanStepsInterval: Interval;
  readonly mcnemarP: number;
}

/** One stop rule's θ, chosen on validation, with its validation figures (the rule that chose θ named in `rule`/`grid`). */
export interface StopRuleSummary extends RuleSummary {
  readonly stopRule: StopRule;
  readonly earlyFraction: number;
  readonly thetaInterval: [number | null, number | null];
}

export interface ModeCalibration {
  readonly mode: ConversionMode;
  /** The deployed stop rule: 'calibrated' when the step calibration was fitted, else 'paper'. `theta` and the figures below are its. */
  readonly stopRule: StopRule;
  /** Each stop rule's θ with its validation figures; `calibratedLive` is θ of live streams, on their own calibrated probability. */
  readonly stopRules: { readonly calibrated?: StopRuleSummary; readonly calibratedLive?: StopRuleSummary; readonly paper: StopRuleSummary };
  /** The calibrated confidence of windowed samples (absent when not fitted). */
  readonly confidence?: ConfidenceCalibration;
  /** The calibrated confidence of live streams (fitted with live-style validation samples; absent without them). */
  readonly liveConfidence?: ConfidenceCalibration;
  readonly alpha: number;
  readonly alphaSource: 'auto' | 'fit' | 'given';
  /** alphaFor(mode, T, bits, L) and the least-squares fit (both reported whatever the choice). */
  readonly alphaAuto: number;
  readonly alphaFit: number;
  readonly tau: number;
  /** Temperature scaling of the ANN's logits on this operating point's T-frame window. */
  readonly temperature: TemperatureReport;
  /** The deployed θ (from `thetaRule`). */
  readonly theta: number;
  readonly thetaRule: ThetaRuleName;
  /** Every θ in [thetaMin, thetaMax) gives the same validation result (null = ∓∞); a grid θ is its own interval. */
  readonly thetaMin: number | null;
  readonly thetaMax: number | null;
  readonly epsilon: number;
  /** How the paper rule searched θ. */
  readonly search: ThetaSearch;
  /** The paper's c_t: each θ rule's choice with its validation intervals (the paper rule on every θ and on the grid, the non-inferior rule). Reported, not stored. */
  readonly rules: { readonly paperExact: RuleSummary; readonly paper: RuleSummary; readonly nonInferior: RuleSummary };
  /** Which of `rules` gives the paper stop rule's θ. */
  readonly deployedRule: 'paperExact' | 'paper' | 'nonInferior';
  readonly T: number;
  readonly binning: InputBinning;
  readonly n: number;
  /** The ANN on the mean of the first T frames (validation). */
  readonly annAccuracy: number;
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
  /** The model's T. */
  readonly T: number;
  readonly classes: number;
  readonly bits: number;
  readonly levels: number;
  readonly defaultMode: ConversionMode;
  /** The ANN on the mean of all T frames, and on the mean of the first t frames for t = 1..T. */
  readonly annAccuracy: number;
  readonly annAccuracyPerStep: number[];
  /** τ at the model's T (each operating point has its own in `modes`). */
  readonly temperature: TemperatureReport;
  /** The stored operating point of each mode. */
  readonly modes: Partial<Record<ConversionMode, ModeCalibration>>;
  /** Every calibrated T of each mode (ascending T). */
  readonly operatingPoints: Partial<Record<ConversionMode, ModeCalibration[]>>;
  readonly notes: string[];
  /** spikestream.json written (by `calibrateAndWrite`; absent from `calibrateModel`). */
  readonly written?: string;
}

export interface CalibrateOptions {
  readonly modes?: readonly ConversionMode[];
  readonly epsilon?: number;
  /** θ search of the paper rule: 'exact' (default), 'paper' or 'extended'. */
  readonly search?: ThetaSearch;
  /** Which rule's θ is deployed (default 'paper'). */
  readonly thetaRule?: ThetaRuleName;
  /** Non-inferiority margin δ (default 0.01). */
  readonly maxLoss?: number;
  /** Paired bootstrap settings (default 2000 resamples, seed 1). */
  readonly bootstrap?: BootstrapOptions;
  /** T of the stored QFFS operating point (default 4, the paper's setting; must be a candidate). */
  readonly qffsSteps?: number;
  readonly alpha?: AlphaChoice;
  /** ANN batch size (default 32). */
  readonly batchSize?: number;
  /** SNN runner slots (default 64). */
  readonly slots?: number;
  /** Name of the validation data recorded in the file (default 'validation'). */
  readonly validationName?: string;
  /** Fit the calibrated confidence and deploy its stop rule (default true; false keeps the paper's c_t rule). */
  readonly calibrateConfidence?: boolean;
  /** Live-style validation frames (with step labels) added to the confidence fit, and their name. */
  readonly liveStyle?: FrameDataset;
  readonly liveStyleName?: string;
  readonly onProgress?: PhaseProgressFn;
}

/** What calibration needs from a loaded model. */
export interface LoadedModel {
  readonly dir: string;
  readonly meta: ModelMeta;
  readonly weights: NamedWeight[];
  readonly spec: ResolvedSpec;
}

/** Checks that a frames dataset fits the model; returns the model's T. */
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
  /** The model's quantization levels L (the QFFS α). */
  levels: number,
  rec: SnnRecording,
  logits: Float32Array,
): { alpha: number; source: 'auto' | 'fit' | 'given'; alphaAuto: number; alphaFit: number; note?: string } {
  const alphaAuto = snnMode(mode) === 'QFFS' ? levels : alphaFor('QCFS', T);
  const alphaFit = fitAlpha(finalOutputs(rec), logits, rec.classes);
  if (typeof choice === 'number') return { alpha: choice, source: 'given', alphaAuto, alphaFit };
  if (choice === 'fit') {
    if (alphaFit > 0 && Number.isFinite(alphaFit)) return { alpha: alphaFit, source: 'fit', alphaAuto, alphaFit };
    return {
      alpha: alphaAuto,
      source: 'auto',
      alphaAuto,
      alphaFit,
      note: `${mode} T=${T}: fitted α = ${alphaFit} is not positive; used alphaFor = ${alphaAuto}`,
    };
  }
  return { alpha: alphaAuto, source: 'auto', alphaAuto, alphaFit };
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function summarizeRule(c: RuleChoice, grid: RuleSummary['grid']): RuleSummary {
  const v = c.validation;
  return {
    rule: c.rule,
    grid,
    tolerance: c.tolerance,
    theta: c.theta,
    accuracy: v.accuracy,
    meanSteps: v.meanSteps,
    accuracyDiff: v.comparison.accuracyDiff,
    meanStepsInterval: v.comparison.meanSteps,
    mcnemarP: v.comparison.mcnemar.p,
  };
}

/** Everything `calibrateMode` needs besides the recording. */
export interface ModeCalibrationInputs {
  readonly alpha: ReturnType<typeof chooseAlpha>;
  readonly temperature: TemperatureReport;
  readonly annAccuracy: number;
  readonly binning: InputBinning;
  readonly epsilon?: number;
  readonly search?: ThetaSearch;
  readonly thetaRule?: ThetaRuleName;
  readonly maxLoss?: number;
  readonly bootstrap?: BootstrapOptions;
  /** Fit the calibrated confidence and deploy its stop rule (default true). */
  readonly calibrateConfidence?: boolean;
  /** Live-style validation samples added to the confidence fit. */
  readonly liveStyle?: LiveStyleRecording;
}

/** θ of one stop rule on its validation trace, by the deployed θ rule and search, with the paper rule's alternatives. */
function thetaOnTrace(trace: ConfidenceTrace, stopRule: StopRule, inp: ModeCalibrationInputs) {
  const epsilon = inp.epsilon ?? 0;
  const search = inp.search ?? 'exact';
  const grid = search === 'extended' ? 'extended' : 'paper';
  const nonInferior = chooseThetaByRule(trace, 'non-inferior', { grid, maxLoss: inp.maxLoss, bootstrap: inp.bootstrap });
  // The paper rule on every distinct θ (each point carries its θ interval) and on the grid.
  const curve = thresholdCurve(trace);
  const exact = chooseTheta(curve, fullTAccuracy(trace), epsilon) ?? curvePoint(curve, 0);
  const paperExact: RuleChoice = { rule: 'paper', grid, tolerance: epsilon, theta: exact.theta, validation: thetaOutcome(trace, exact.theta, inp.bootstrap) };
  const paper = chooseThetaByRule(trace, 'paper', { grid, epsilon, bootstrap: inp.bootstrap });
  const deployedRule: ModeCalibration['deployedRule'] = (inp.thetaRule ?? 'paper') === 'non-inferior' ? 'nonInferior' : search === 'exact' ? 'paperExact' : 'paper';
  const deployed = deployedRule === 'nonInferior' ? nonInferior : deployedRule === 'paper' ? paper : paperExact;
  const interval = deployedRule === 'paperExact' ? [exact.thetaMin, exact.thetaMax] : [deployed.theta, deployed.theta];
  // The decision rule applied directly at the chosen θ.
  const check = evaluateThreshold(trace, deployed.theta);
  const summary: StopRuleSummary = {
    ...summarizeRule(deployed, deployedRule === 'paperExact' ? 'exact' : grid),
    stopRule,
    earlyFraction: check.earlyFraction,
    thetaInterval: [finiteOrNull(interval[0]), finiteOrNull(interval[1])],
  };
  return { summary, check, deployedRule, rules: { paperExact: summarizeRule(paperExact, 'exact'), paper: summarizeRule(paper, grid), nonInferior: summarizeRule(nonInferior, grid) } };
}

/** Calibrates one mode at one T from its validation recording. */
export function calibrateMode(mode: ConversionMode, rec: SnnRecording, inp: ModeCalibrationInputs): ModeCalibration {
  const { T } = rec;
  const tau = inp.temperature.tau;
  const trace = traceFromOutputs(rec.outputs, rec.labels, T, rec.classes, inp.alpha.alpha, tau);
  const accFullT = fullTAccuracy(trace);
  const paper = thetaOnTrace(trace, 'paper', inp);
  const fitted = inp.calibrateConfidence === false ? undefined : fitConfidence(rec, inp.alpha.alpha * tau, inp.liveStyle);
  const confidence = fitted?.windowed;
  const calibrated = confidence ? thetaOnTrace(calibratedTrace(rec, confidence.calibration), 'calibrated', inp) : undefined;
  // Live streams show their own calibrated probability; θ by the same rule on the same samples, scored with it.
  const live = fitted?.live ? thetaOnTrace(calibratedTrace(rec, fitted.live.calibration), 'calibrated', inp) : undefined;
  const deployed = calibrated ?? paper;
  let spikes = 0;
  for (let i = 0; i < rec.spikes.length; i++) spikes += rec.spikes[i];
  return {
    mode,
    stopRule: deployed.summary.stopRule,
    stopRules: { paper: paper.summary, ...(calibrated ? { calibrated: calibrated.summary } : {}), ...(live ? { calibratedLive: live.summary } : {}) },
    ...(confidence ? { confidence } : {}),
    ...(fitted?.live ? { liveConfidence: fitted.live } : {}),
    alpha: inp.alpha.alpha,
    alphaSource: inp.alpha.source,
    alphaAuto: inp.alpha.alphaAuto,
    alphaFit: inp.alpha.alphaFit,
    tau,
    temperature: inp.temperature,
    theta: deployed.summary.theta,
    thetaRule: deployed.summary.rule,
    thetaMin: deployed.summary.thetaInterval[0],
    thetaMax: deployed.summary.thetaInterval[1],
    epsilon: inp.epsilon ?? 0,
    search: inp.search ?? 'exact',
    rules: paper.rules,
    deployedRule: paper.deployedRule,
    T,
    binning: inp.binning,
    n: rec.n,
    annAccuracy: inp.annAccuracy,
    accFullT,
    accAtTheta: deployed.check.accuracy,
    meanSteps: deployed.check.meanSteps,
    earlyFraction: deployed.check.earlyFraction,
    latencySavingPct: latencySaving(deployed.check.meanSteps, T),
    spikesPerNeuronFullT: rec.n > 0 ? spikes / rec.n / rec.neurons : NaN,
  };
}

function temperatureAt(logits: Float32Array, labels: Int32Array, C: number): TemperatureReport {
  const fit = fitCalibration(logits, labels, C);
  return { tau: fit.tau, nllBefore: fit.nllBefore, nllAfter: fit.nllAfter, eceBefore: fit.eceBefore, eceAfter: fit.eceAfter, atBound: fit.atBound };
}

/** What calibrateModel shares with each mode's calibration: the data, the options, and the per-T ANN figures. */
interface ModeCalibrationContext {
  readonly model: LoadedModel;
  readonly val: FrameDataset;
  readonly opts: CalibrateOptions;
  readonly T: number;
  readonly epsilon: number;
  readonly alphaChoice: NonNullable<CalibrateOptions['alpha']>;
  readonly notes: string[];
  readonly logitsAt: (t: number) => Float32Array;
  readonly temperatureFor: (t: number) => TemperatureReport;
}

/**
 * One conversion mode at each of its candidate T: the SNN is recorded once at the largest T and cut
 * for the smaller ones (a prefix of the same run), so every T sees the same spikes. Returns the list
 * and the T stored as the mode's operating point.
 */
async function calibrateAtEachT(ctx: ModeCalibrationContext, mode: ConversionMode): Promise<{ list: ModeCalibration[]; storedT: number }> {
  const { model, val, opts, T, notes } = ctx;
  const { spec, weights, meta } = model;
  const C = spec.classes.length;
  const steps = candidateSteps(mode, T, spec.levels);
  const stored = mode === 'qffs' && opts.qffsSteps !== undefined ? opts.qffsSteps : defaultStoredSteps(mode, T, spec.levels);
  if (!steps.includes(stored)) throw new RangeError(`calibrate: ${mode} is calibrated at T ∈ {${steps.join(', ')}}, not ${stored}`);
  const net = convertWeights(spec, weights, mode);
  const full = await recordSnn(net, val, {
    T: steps[steps.length - 1],
    slots: opts.slots,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!(`snn ${mode}`, d, t) : undefined,
  });
  const liveStyle = opts.liveStyle && opts.calibrateConfidence !== false ? await recordLiveStyle(net, opts.liveStyle, steps[steps.length - 1], mode, { name: opts.liveStyleName, slots: opts.slots, onProgress: opts.onProgress }) : undefined;
  const list: ModeCalibration[] = [];
  for (const t of steps) {
    const rec = truncateRecording(full, t);
    const logits = ctx.logitsAt(t);
    const alpha = chooseAlpha(ctx.alphaChoice, mode, t, spec.levels, rec, logits);
    if (alpha.note) notes.push(alpha.note);
    list.push(
      calibrateMode(mode, rec, {
        alpha,
        temperature: ctx.temperatureFor(t),
        annAccuracy: accuracyOf(logits, val.labels, C),
        binning: binningFor(meta, t),
        epsilon: ctx.epsilon,
        search: opts.search,
        thetaRule: opts.thetaRule,
        maxLoss: opts.maxLoss,
        bootstrap: opts.bootstrap,
        calibrateConfidence: opts.calibrateConfidence,
        liveStyle,
      }),
    );
  }
  return { list, storedT: stored };
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
  const stepsOf = (mode: ConversionMode) => candidateSteps(mode, T, spec.levels);
  const Tmax = Math.max(T, ...modes.flatMap(stepsOf));

  const prefix = await annPrefixLogits(spec, weights, val, Tmax, {
    batchSize: opts.batchSize,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!('ann', d, t) : undefined,
  });
  const logitsAt = (t: number) => logitsAtStep(prefix, val.n, Tmax, C, t);
  const annAccuracyPerStep = Array.from(perStepAccuracy(traceFromOutputs(prefix, val.labels, Tmax, C, 1, 1))).slice(0, T);
  const temps = new Map<number, TemperatureReport>();
  const temperatureFor = (t: number): TemperatureReport => {
    if (!temps.has(t)) {
      const r = temperatureAt(logitsAt(t), val.labels, C);
      if (r.atBound) notes.push(`T=${t}: τ hit its search bound (${r.atBound}): the ANN's validation logits are ${r.atBound === 'min' ? 'separable' : 'uninformative'}`);
      temps.set(t, r);
    }
    return temps.get(t)!;
  };

  const out: Partial<Record<ConversionMode, ModeCalibration>> = {};
  const all: Partial<Record<ConversionMode, ModeCalibration[]>> = {};
  const ctx: ModeCalibrationContext = { model, val, opts, T, epsilon, alphaChoice, notes, logitsAt, temperatureFor };
  for (const mode of modes) {
    const { list, storedT } = await calibrateAtEachT(ctx, mode);
    all[mode] = list;
    out[mode] = list.find((c) => c.T === storedT)!;
  }

  const report: CalibrationReport = {
    model: model.dir,
    validation: opts.validationName ?? 'validation',
    n: val.n,
    T,
    classes: C,
    bits: spec.bits,
    levels: spec.levels,
    defaultMode: meta.conversion.mode,
    annAccuracy: annAccuracyPerStep[T - 1],
    annAccuracyPerStep,
    temperature: temperatureFor(T),
    modes: out,
    operatingPoints: all,
    notes,
  };
  return report;
}
