/**
 * One conversion mode at one T (steps 2–4 of calibrate.ts's file comment): α, the paper's trace, the
 * calibrated confidence and each stop rule's θ by the deployed θ rule, from one SNN recording.
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
  thresholdCurve,
  traceFromOutputs,
  type BootstrapOptions,
  type ConfidenceTrace,
  type StopRule,
  type RuleChoice,
  type ThetaRuleName,
} from '../confidence';
import type { ConversionMode } from '../snn/convert';
import type { FrameDataset } from '../snn/dataset';
import type { InputBinning } from '../snn/model/model-file';
import { modelSteps } from '../snn/model/operating-points';
import { snnMode, type AlphaChoice, type ThetaSearch } from './options';
import { finalOutputs, type SnnRecording } from './run-snn';
import { calibratedTrace, fitConfidence, type LiveStyleRecording } from './confidence-fit';
import type { LoadedModel, ModeCalibration, RuleSummary, StopRuleSummary, TemperatureReport } from './calibration-types';

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

export function temperatureAt(logits: Float32Array, labels: Int32Array, C: number): TemperatureReport {
  const fit = fitCalibration(logits, labels, C);
  return { tau: fit.tau, nllBefore: fit.nllBefore, nllAfter: fit.nllAfter, eceBefore: fit.eceBefore, eceAfter: fit.eceAfter, atBound: fit.atBound };
}
