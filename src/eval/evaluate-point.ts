/**
 * Evaluation of one operating point (a mode at one T with its stored α, τ, θ) on a test split: the
 * paper's tables, the matched baselines, the conversion check, intervals, the θ rules' transfer.
 */
import {
  analyzeTrace,
  confidence,
  decisionLatencies,
  downsampleCurve,
  latencyStats,
  noLossStatement,
  percentile,
  perStepAccuracy,
  spikesPerNeuron,
  thetaOutcome,
  traceFromOutputs,
  traceWithStepScales,
  wilson,
  type BootstrapOptions,
  type ConfidenceTrace,
  type EvaluationResult,
  type Interval,
  type ThetaRuleOutcome,
} from '../confidence';
import type { NamedWeight } from '../snn/ann';
import type { ConversionMode, SnnNetwork } from '../snn/convert';
import { frameOf, type FrameDataset } from '../snn/dataset';
import type { InputBinning } from '../snn/model/model-file';
import { SnnRunner } from '../snn/runner';
import type { ResolvedSpec } from '../snn/spec';
import { conversionCheck, logitsAtStep, type MatchedAnnTraces } from './baselines';
import type { PhaseProgressFn } from './calibrate';
import type { StoredOperatingPoint } from '../snn/model/operating-points';
import { shownConfidence, type ShownConfidence } from './shown-confidence';
import { shouldStop, type StopRule } from '../confidence/decide';
import { calibratedConfidence, stepScale, type StepCalibration } from '../confidence/step-calibration';
import { snnMode } from './options';
import type { SnnRecording } from './run-snn';

export const SNN_BACKEND = 'js typed-array runner';

export interface TimingStats {
  readonly median: number;
  readonly mean: number;
  readonly p95: number;
}

/** One operating point's result: the EvaluationResult plus the measurement details renderMarkdown does not show. */
export interface ModeEvaluation extends EvaluationResult {
  readonly conversion: ConversionMode;
  /** Table 2 details: ms per inference, batch 1 (wallMsPerInference holds the medians). */
  readonly wallMs?: { readonly samples: number; readonly without: TimingStats; readonly with: TimingStats };
  /** Where α, τ, θ came from. */
  readonly calibrationSource: 'stored' | 'calibrated now';
  readonly binning?: InputBinning;
  /** The deployed stop rule (its θ is `dc.theta`). */
  readonly stopRule?: StopRule;
  /** The shown confidence's calibration and each stop rule against its oracle. */
  readonly shownConfidence?: ShownConfidence;
}

/** Evenly spread sample indices, k of n. */
export function spreadIndices(n: number, k: number): Int32Array {
  const m = Math.max(0, Math.min(n, Math.floor(k)));
  const out = new Int32Array(m);
  for (let j = 0; j < m; j++) out[j] = Math.floor((j * n) / m);
  return out;
}

function stats(ms: number[]): TimingStats {
  let s = 0;
  for (const v of ms) s += v;
  return { median: percentile(ms, 50), mean: ms.length ? s / ms.length : NaN, p95: percentile(ms, 95) };
}

/** How a step's confidence is computed and compared with θ: the paper's c_t with α·τ, or the calibrated q_t with the step scales. */
export interface StepRule {
  readonly stopRule: StopRule;
  readonly alpha: number;
  readonly tau: number;
  readonly calibration?: StepCalibration;
}

/** The confidence a rule compares with θ at 0-based step t. */
export function stepScore(output: Float32Array, t: number, rule: StepRule): number {
  return rule.stopRule === 'calibrated' && rule.calibration ? calibratedConfidence(output, t, rule.calibration).confidence : confidence(output, rule.alpha, rule.tau).confidence;
}

/**
 * Table 2: each sample alone through a 1-slot runner, all T steps vs. stopping at the first step
 * with c_t > θ (confidence computed each step). The order of the two runs alternates per sample.
 * Returns the timings and the steps each sample used with Dynamic Confidence.
 */
export async function timeBatchOne(
  net: SnnNetwork,
  ds: FrameDataset,
  indices: ArrayLike<number>,
  T: number,
  rule: StepRule,
  theta: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ without: number[]; with: number[]; stepsWith: Int32Array }> {
  const runner = new SnnRunner(net, 1);
  const runFull = (i: number): void => {
    const slot = runner.admit();
    for (let t = 0; t < T; t++) runner.step([{ slot, frame: frameOf(ds, i, t) }]);
    runner.read(slot);
    runner.release(slot);
  };
  const runDc = (i: number): number => {
    const slot = runner.admit();
    let t = 0;
    for (; t < T; t++) {
      runner.step([{ slot, frame: frameOf(ds, i, t) }]);
      const c = stepScore(runner.read(slot).output, t, rule);
      // Float32 rounding as in the recorded trace, so the decision is the same.
      if (t < T - 1 && shouldStop(Math.fround(c), theta, rule.stopRule)) break;
    }
    runner.release(slot);
    return Math.min(t, T - 1) + 1;
  };
  const n = indices.length;
  // Warm-up (JIT) on a few samples.
  for (let j = 0; j < Math.min(3, n); j++) {
    runFull(indices[j]);
    runDc(indices[j]);
  }
  const without: number[] = [];
  const withDc: number[] = [];
  const stepsWith = new Int32Array(n);
  onProgress?.(0, n);
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    const order = j % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const t0 = process.hrtime.bigint();
      if (which === 0) runFull(i);
      else stepsWith[j] = runDc(i);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      (which === 0 ? without : withDc).push(ms);
    }
    if (j % 10 === 9 || j === n - 1) {
      onProgress?.(j + 1, n);
      await new Promise((r) => setImmediate(r));
    }
  }
  return { without, with: withDc, stepsWith };
}

/** Fraction of samples whose SNN prediction at step t equals the ANN's on the mean of frames 1..t, per t. */
export function agreementPerStep(snn: ConfidenceTrace, ann: ConfidenceTrace, T: number): number[] {
  const out: number[] = [];
  for (let t = 0; t < T; t++) {
    let same = 0;
    for (let i = 0; i < snn.n; i++) if (snn.predicted[i * snn.steps + t] === ann.predicted[i * ann.steps + t]) same++;
    out.push(snn.n > 0 ? same / snn.n : NaN);
  }
  return out;
}

function interval(v: unknown): Interval | undefined {
  const o = v as Partial<Interval> | undefined;
  return o && typeof o.value === 'number' && typeof o.lo === 'number' && typeof o.hi === 'number' ? { value: o.value, lo: o.lo, hi: o.hi } : undefined;
}

/** Every stored stop rule's θ (chosen on validation) with what it gives on this split, each on its own confidence trace. */
export function ruleOutcomes(entry: Readonly<Record<string, unknown>>, traces: Partial<Record<StopRule, ConfidenceTrace>>, boot: BootstrapOptions): ThetaRuleOutcome[] {
  const rules = (entry.stopRules ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const deployedRule = entry.stopRule === 'calibrated' ? 'calibrated' : 'paper';
  const out: ThetaRuleOutcome[] = [];
  for (const key of ['calibrated', 'paper'] as const) {
    const r = rules[key];
    const trace = traces[key];
    if (!r || typeof r.theta !== 'number' || !trace) continue;
    const t = thetaOutcome(trace, r.theta, boot);
    out.push({
      rule: `${String(r.rule ?? 'paper')} on ${key === 'calibrated' ? 'q_t ≥ θ' : 'c_t > θ'}`,
      grid: String(r.grid ?? ''),
      tolerance: Number(r.tolerance ?? 0),
      theta: r.theta,
      validation: {
        accuracy: Number(r.accuracy),
        meanSteps: Number(r.meanSteps),
        accuracyDiff: interval(r.accuracyDiff) ?? { value: NaN, lo: NaN, hi: NaN },
        mcnemarP: Number(r.mcnemarP),
      },
      test: { accuracy: t.accuracy, meanSteps: t.meanSteps, accuracyDiff: t.comparison.accuracyDiff, meanStepsInterval: t.comparison.meanSteps, mcnemarP: t.comparison.mcnemar.p },
      deployed: key === deployedRule,
    });
  }
  return out;
}

/** What one operating point's evaluation needs. */
export interface PointInputs {
  readonly modelName: string;
  readonly dataName: string;
  readonly spec: ResolvedSpec;
  readonly weights: NamedWeight[];
  readonly net: SnnNetwork;
  readonly test: FrameDataset;
  /** The recording cut at this T. */
  readonly rec: SnnRecording;
  readonly stored: StoredOperatingPoint;
  readonly deployed: boolean;
  readonly matched: MatchedAnnTraces;
  /** ms per step (time binning), for the sensor-time latency. */
  readonly stepMs?: number;
  readonly timingSamples: number;
  readonly slots?: number;
  readonly bootstrap: BootstrapOptions;
  readonly calibration?: EvaluationResult['calibration'];
  readonly calibrationSource: 'stored' | 'calibrated now';
  readonly notes: string[];
  readonly onProgress?: PhaseProgressFn;
}

/**
 * Table 2: wall-clock time with and without Dynamic Confidence, each sample run alone (batch 1), and a
 * warning note when a timed run stopped at another step than the batched trace (they must agree).
 */
async function timeWallClock(
  p: PointInputs,
  rule: StepRule,
  theta: number,
  stepsUsed: Int32Array,
  notes: string[],
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<ModeEvaluation['wallMs']> {
  const n = p.test.n;
  const idx = spreadIndices(n, p.timingSamples);
  const tm = await timeBatchOne(p.net, p.test, idx, p.rec.T, rule, theta, onProgress);
  const wallMs = { samples: idx.length, without: stats(tm.without), with: stats(tm.with) };
  let mismatched = 0;
  for (let j = 0; j < idx.length; j++) if (tm.stepsWith[j] !== stepsUsed[idx[j]]) mismatched++;
  if (mismatched > 0) notes.push(`WARNING: ${mismatched} of ${idx.length} timed samples stopped at a different step than the batched trace`);
  notes.push(
    `Table 2: ${idx.length} test samples, each run alone (batch 1, 1-slot ${SNN_BACKEND}, one Node thread); ` +
      `median shown; mean ${wallMs.without.mean.toFixed(3)} ms without, ${wallMs.with.mean.toFixed(3)} ms with; ` +
      `p95 ${wallMs.without.p95.toFixed(3)} / ${wallMs.with.p95.toFixed(3)} ms. With Dynamic Confidence, the confidence (${rule.stopRule === 'calibrated' ? 'calibrated q_t' : 'c_t'}) is computed after every step.`,
  );
  return wallMs;
}

/** Decision latency in sensor time, only where frames have a fixed width in ms (time binning); says which in `notes`. */
function sensorTimeLatency(stepMs: number | undefined, stepsUsed: Int32Array, n: number, T: number, notes: string[]): EvaluationResult['decisionLatencyMs'] {
  if (stepMs === undefined) {
    notes.push('Decision latency in sensor time omitted: the frames are binned by event count (no fixed bin width).');
    return undefined;
  }
  const full = new Int32Array(n).fill(T);
  notes.push(`Decision latency: steps used × ${stepMs} ms bins, from the sample's start to the end of its deciding frame.`);
  return { without: latencyStats(decisionLatencies(full, T, stepMs)), with: latencyStats(decisionLatencies(stepsUsed, T, stepMs)) };
}

/** Wilson 95 % intervals of the accuracies, from their counts out of `n`. */
function accuracyIntervals<K extends string>(n: number, accuracies: Record<K, number>): Record<K, ReturnType<typeof wilson>> {
  const out = {} as Record<K, ReturnType<typeof wilson>>;
  for (const k of Object.keys(accuracies) as K[]) out[k] = wilson(Math.round(accuracies[k] * n), n);
  return out;
}

/** Evaluates one operating point (see the file comment). */
export async function evaluatePoint(p: PointInputs): Promise<ModeEvaluation> {
  const { rec, test, stored, matched, spec, net } = p;
  const T = rec.T;
  const C = spec.classes.length;
  const mode = stored.mode;
  const tag = `${mode} T=${T}`;
  const progress = (phase: string) => (p.onProgress ? (d: number, t: number) => p.onProgress!(`${phase} ${tag}`, d, t) : undefined);
  const alpha = stored.alpha!;
  const tau = stored.tau ?? 1;
  const theta = stored.theta!;
  const rule: StepRule = { stopRule: stored.stopRule, alpha, tau, ...(stored.confidence ? { calibration: stored.confidence } : {}) };
  const notes = [...p.notes];
  const paperTrace = traceFromOutputs(rec.outputs, rec.labels, T, C, alpha, tau);
  // The deployed rule's trace: the calibrated probability (stop at ≥ θ) or the paper's c_t (> θ).
  const trace = rule.calibration && rule.stopRule === 'calibrated' ? traceWithStepScales(rec.outputs, rec.labels, T, C, (t) => stepScale(rule.calibration!, t)) : paperTrace;
  const traceNoAlpha = traceFromOutputs(rec.outputs, rec.labels, T, C, 1, tau);
  const a = analyzeTrace(trace, { theta, traceNoAlpha });
  const dc = a.chosen;
  const n = test.n;
  const annPrefix = Array.from(perStepAccuracy(matched.prefixMean)).slice(0, T);
  const annEnsemble = Array.from(perStepAccuracy(matched.ensemble)).slice(0, T);
  const accAnn = annPrefix[T - 1];
  const check = await conversionCheck(net, spec, p.weights, test, T, {
    annMeanLogits: logitsAtStep(matched.prefixLogits, n, matched.prefixMean.steps, C, T),
    slots: p.slots,
    onProgress: progress('constant input'),
  });
  const dcOutcome = thetaOutcome(trace, theta, p.bootstrap);

  const wallMs = p.timingSamples > 0 ? await timeWallClock(p, rule, theta, a.stepsUsed, notes, progress('timing')) : undefined;
  const decisionLatencyMs = sensorTimeLatency(p.stepMs, a.stepsUsed, n, T, notes);
  notes.push(
    `θ = ${theta} (${rule.stopRule === 'calibrated' ? 'on the calibrated probability q_t, stop at q_t ≥ θ' : "on the paper's c_t, stop at c_t > θ"}; the paper's no-loss rule) was chosen on the validation split (${p.calibrationSource}), never on this test split; ` +
      `α = ${alpha}, τ = ${tau} (τ fitted on the ANN's validation logits on the same ${T}-frame window). The "no α" confidence curve uses the paper's c_t with α = 1.`,
  );

  return {
    model: p.modelName,
    dataset: p.dataName,
    mode: snnMode(mode),
    conversion: mode,
    backend: SNN_BACKEND,
    T,
    bits: spec.bits,
    levels: spec.levels,
    alpha,
    tau,
    n,
    split: 'test',
    thetaChosenOn: 'validation',
    calibration: p.calibration,
    accAnn,
    accSnnT: a.accSnnT,
    dc: { accuracy: dc.accuracy, meanSteps: dc.meanSteps, theta, earlyFraction: dc.earlyFraction },
    latencySavingPct: a.latencySavingPct,
    oracles: a.oracles,
    wallMsPerInference: wallMs ? { without: wallMs.without.median, with: wallMs.with.median } : undefined,
    wallMs,
    spikesPerNeuron: { without: spikesPerNeuron(rec.spikes, T, rec.neurons), with: spikesPerNeuron(rec.spikes, T, rec.neurons, a.stepsUsed) },
    decisionLatencyMs,
    perStep: a.perStep,
    curve: { points: downsampleCurve(a.curve), pareto: a.pareto, grid: a.grid },
    chosen: dc,
    terminationHistogram: a.terminationHistogram,
    deployed: p.deployed,
    matched: { annPrefixMean: annPrefix, annEnsemble, agreementPerStep: agreementPerStep(trace, matched.prefixMean, T) },
    conversionCheck: check,
    uncertainty: {
      ...accuracyIntervals(n, { accAnn, accSnnT: a.accSnnT, dc: dc.accuracy, oracleFirstCorrect: a.oracles.firstCorrect.accuracy }),
      dcVsFullT: dcOutcome.comparison,
      noLoss: noLossStatement(dcOutcome.comparison),
    },
    thetaRules: ruleOutcomes(stored.entry, { calibrated: trace, paper: paperTrace }, p.bootstrap),
    stopRule: rule.stopRule,
    shownConfidence: shownConfidence({ paper: paperTrace, ...(trace !== paperTrace ? { calibrated: trace } : {}) }, stored, p.bootstrap),
    notes,
    calibrationSource: p.calibrationSource,
    binning: stored.binning,
  };
}
