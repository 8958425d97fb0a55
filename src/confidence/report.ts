/**
 * The evaluation report of Dynamic Confidence: one result object (what an evaluator measured) and
 * helpers that compute its parts from traces. markdown.ts renders it in the paper's table styles,
 * plots.ts draws the paper's figures. Pure functions: the caller writes the strings wherever it likes.
 */
import type { NumericArray, SnnMode } from './confidence';
import { oracleFirstCorrect, oracleStaysCorrect } from './oracle';
import {
  chooseTheta,
  curvePoint,
  EXTENDED_THETA_GRID,
  gridCurve,
  latencySaving,
  lookupTheta,
  paretoFront,
  terminationSteps,
  thresholdCurve,
  type CurvePoint,
  type ThresholdCurve,
} from './threshold';
import type { Interval, PairedComparison } from './stats';
import { fullTAccuracy, perStepAccuracy, perStepMeanConfidence, type ConfidenceTrace } from './trace';

/** Accuracy (fraction 0..1) and mean time steps of one operating point. */
export interface AccuracySteps {
  readonly accuracy: number;
  readonly meanSteps: number;
}

export interface WithWithout {
  readonly without: number;
  readonly with: number;
}

export interface LatencyStats {
  readonly mean: number;
  readonly p95: number;
}

export interface TerminationHistogram {
  /** counts[t−1] = number of samples that used exactly t steps, t = 1..T. */
  readonly counts: readonly number[];
  /** cumulative[t−1] = fraction of samples that used ≤ t steps. */
  readonly cumulative: readonly number[];
}

export interface PerStepStats {
  /** Accuracy of argmax O_t at step t = 1..T (index t−1). */
  readonly accuracy: readonly number[];
  /** Mean max softmax(O_t/τ) — no α: shows confidence saturation. */
  readonly meanConfidenceNoAlpha?: readonly number[];
  /** Mean max softmax(O_t/(α·τ)). */
  readonly meanConfidenceAlpha: readonly number[];
}

/**
 * Baselines on what the SNN has seen (src/eval/baselines.ts): the ANN on the mean of the first t
 * frames, the ANN's logits averaged over frames 1..t, and the SNN's agreement with the former.
 */
export interface MatchedBaselines {
  /** ANN on the mean of the first t frames, t = 1..T (index t−1). */
  readonly annPrefixMean: readonly number[];
  /** argmax of the ANN's logits averaged over frames 1..t, each alone. */
  readonly annEnsemble: readonly number[];
  /** Fraction of samples where argmax O_t equals the ANN's argmax on the mean of the first t frames. */
  readonly agreementPerStep: readonly number[];
}

/** The SNN fed the mean of the first T frames at every step, against the ANN on that mean frame. */
export interface ConversionCheck {
  readonly T: number;
  readonly n: number;
  readonly correctAnn: number;
  readonly correctSnn: number;
  readonly agree: number;
  readonly accAnn: number;
  readonly accSnn: number;
  readonly agreement: number;
}

/** Wilson 95 % intervals of the headline accuracies and the paired comparison of DC with full T. */
export interface Uncertainty {
  readonly accAnn: Interval;
  readonly accSnnT: Interval;
  readonly dc: Interval;
  readonly oracleFirstCorrect?: Interval;
  readonly dcVsFullT: PairedComparison;
  /** The "no loss" claim with its interval, in words. */
  readonly noLoss: string;
}

/** One θ rule: its choice on validation and what that θ gives on the evaluated split. */
export interface ThetaRuleOutcome {
  readonly rule: string;
  readonly grid: string;
  readonly tolerance: number;
  readonly theta: number;
  readonly validation: { readonly accuracy: number; readonly meanSteps: number; readonly accuracyDiff: Interval; readonly mcnemarP: number };
  readonly test: { readonly accuracy: number; readonly meanSteps: number; readonly accuracyDiff: Interval; readonly meanStepsInterval: Interval; readonly mcnemarP: number };
  /** The deployed rule. */
  readonly deployed: boolean;
}

/** Everything a Dynamic Confidence evaluation reports. Accuracies are fractions in [0, 1]. */
export interface EvaluationResult {
  readonly model: string;
  readonly dataset?: string;
  readonly mode: SnnMode;
  /** tfjs backend or runtime that ran the SNN, e.g. 'tensorflow', 'wasm', 'cpu'. */
  readonly backend: string;
  /** Full simulation length T. */
  readonly T: number;
  readonly bits?: number;
  /** QCFS quantization levels L (when not 2^bits − 1, e.g. an imported model's L = 4). */
  readonly levels?: number;
  readonly alpha: number;
  readonly tau: number;
  /** Number of evaluated samples and the split the figures come from. */
  readonly n?: number;
  readonly split?: string;
  /** Split θ was chosen on (normally 'validation'). */
  readonly thetaChosenOn?: string;
  readonly calibration?: { readonly nllBefore: number; readonly nllAfter: number; readonly eceBefore: number; readonly eceAfter: number };
  /** The ANN on the mean of the same T frames the SNN runs on. */
  readonly accAnn: number;
  /** The SNN without Dynamic Confidence (all T steps). */
  readonly accSnnT: number;
  /** The SNN with Dynamic Confidence at the chosen θ. */
  readonly dc: AccuracySteps & { readonly theta: number; readonly earlyFraction?: number };
  readonly latencySavingPct: number;
  readonly oracles?: { readonly firstCorrect: AccuracySteps; readonly staysCorrect: AccuracySteps };
  /** Wall-clock ms per inference, batch 1. */
  readonly wallMsPerInference?: WithWithout;
  /** Spikes per neuron per inference (spiking layers only). */
  readonly spikesPerNeuron?: WithWithout;
  /** Decision latency in sensor time (ms from the sample's first event to the end of its deciding frame). */
  readonly decisionLatencyMs?: { readonly without: LatencyStats; readonly with: LatencyStats };
  readonly perStep?: PerStepStats;
  /** The accuracy/mean-steps curve (downsampled for plotting), its Pareto front and the grid points. */
  readonly curve?: { readonly points: readonly CurvePoint[]; readonly pareto: readonly CurvePoint[]; readonly grid?: readonly CurvePoint[] };
  readonly chosen?: CurvePoint;
  readonly terminationHistogram?: TerminationHistogram;
  /** This T is the mode's stored operating point (others are evaluated beside it). */
  readonly deployed?: boolean;
  readonly matched?: MatchedBaselines;
  readonly conversionCheck?: ConversionCheck;
  readonly uncertainty?: Uncertainty;
  readonly thetaRules?: readonly ThetaRuleOutcome[];
  readonly notes?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Helpers computing report parts.

/** Histogram of steps used (1..T) with its cumulative fraction. */
export function terminationHistogram(stepsUsed: ArrayLike<number>, T: number): TerminationHistogram {
  const counts = new Array<number>(T).fill(0);
  for (let i = 0; i < stepsUsed.length; i++) {
    const s = stepsUsed[i];
    if (s >= 1 && s <= T) counts[s - 1]++;
  }
  const cumulative = new Array<number>(T);
  let acc = 0;
  const n = stepsUsed.length;
  for (let t = 0; t < T; t++) {
    acc += counts[t];
    cumulative[t] = n > 0 ? acc / n : NaN;
  }
  return { counts, cumulative };
}

/**
 * Average spikes per neuron per inference. `spikeCounts` is row-major [N × T]: the spikes emitted
 * by all spiking neurons of sample i at 0-based step t (for QFFS count |spikes|, negative ones
 * included). With `stepsUsed` (Dynamic Confidence) sample i counts only its first stepsUsed[i]
 * steps; without it all T steps count.
 */
export function spikesPerNeuron(spikeCounts: NumericArray, T: number, neurons: number, stepsUsed?: ArrayLike<number>): number {
  if (!(T > 0) || spikeCounts.length % T !== 0) throw new RangeError(`spikesPerNeuron: ${spikeCounts.length} counts are not N×${T}`);
  if (!(neurons > 0)) throw new RangeError('spikesPerNeuron: neurons must be > 0');
  const n = spikeCounts.length / T;
  if (stepsUsed && stepsUsed.length !== n) throw new RangeError(`spikesPerNeuron: ${stepsUsed.length} step counts for ${n} samples`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const upto = stepsUsed ? Math.max(0, Math.min(T, stepsUsed[i])) : T;
    for (let t = 0; t < upto; t++) total += spikeCounts[i * T + t];
  }
  return n > 0 ? total / n / neurons : NaN;
}

/** Linear-interpolated percentile (p in [0, 100]) of finite values; NaN when none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]);
  if (v.length === 0) return NaN;
  v.sort((a, b) => a - b);
  const r = (Math.min(100, Math.max(0, p)) / 100) * (v.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return v[lo] + (v[hi] - v[lo]) * (r - lo);
}

/** Mean and p95 of a set of latencies. */
export function latencyStats(values: ArrayLike<number>): LatencyStats {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      s += values[i];
      c++;
    }
  }
  return { mean: c > 0 ? s / c : NaN, p95: percentile(values, 95) };
}

/**
 * Decision latency in sensor time for every sample: the end of its deciding frame, relative to
 * the sample's start. `frameEndMs` is either a fixed bin width in ms (frame t ends at t·bin) or a
 * row-major [N × T] array of frame end offsets in ms (event-count binning).
 */
export function decisionLatencies(stepsUsed: ArrayLike<number>, T: number, frameEndMs: number | NumericArray): Float64Array {
  const n = stepsUsed.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.max(1, Math.min(T, stepsUsed[i]));
    out[i] = typeof frameEndMs === 'number' ? s * frameEndMs : frameEndMs[i * T + s - 1];
  }
  return out;
}

/** Per-step accuracy and mean confidence (with α, and without α when that trace is given). */
export function perStepStats(trace: ConfidenceTrace, traceNoAlpha?: ConfidenceTrace): PerStepStats {
  return {
    accuracy: Array.from(perStepAccuracy(trace)),
    meanConfidenceAlpha: Array.from(perStepMeanConfidence(trace)),
    meanConfidenceNoAlpha: traceNoAlpha ? Array.from(perStepMeanConfidence(traceNoAlpha)) : undefined,
  };
}

/** Keeps at most `max` points of a curve, evenly spaced in index, always keeping both ends. */
export function downsampleCurve(curve: ThresholdCurve, max = 400): CurvePoint[] {
  const len = curve.length;
  if (len <= max) {
    const all: CurvePoint[] = [];
    for (let k = 0; k < len; k++) all.push(curvePoint(curve, k));
    return all;
  }
  const out: CurvePoint[] = [];
  for (let j = 0; j < max; j++) out.push(curvePoint(curve, Math.round((j * (len - 1)) / (max - 1))));
  return out;
}

export interface TraceAnalysis {
  readonly curve: ThresholdCurve;
  readonly pareto: CurvePoint[];
  readonly grid: CurvePoint[];
  /** The chosen (or given) operating point on this trace. */
  readonly chosen: CurvePoint;
  readonly accSnnT: number;
  readonly latencySavingPct: number;
  readonly stepsUsed: Int32Array;
  readonly oracles: { readonly firstCorrect: AccuracySteps; readonly staysCorrect: AccuracySteps };
  readonly terminationHistogram: TerminationHistogram;
  readonly perStep: PerStepStats;
}

/**
 * Everything a trace alone gives. Without `theta`, θ is chosen on this trace (validation):
 * lowest mean steps with accuracy ≥ full-T accuracy − ε. With `theta` (chosen on validation,
 * applied to a test trace) the point at that θ is reported.
 */
export function analyzeTrace(
  trace: ConfidenceTrace,
  options: { readonly theta?: number; readonly epsilon?: number; readonly traceNoAlpha?: ConfidenceTrace; readonly grid?: readonly number[] } = {},
): TraceAnalysis {
  const curve = thresholdCurve(trace);
  const pareto = paretoFront(curve);
  const accSnnT = fullTAccuracy(trace);
  const chosen =
    options.theta !== undefined ? lookupTheta(curve, options.theta) : (chooseTheta(curve, accSnnT, options.epsilon ?? 0) ?? curvePoint(curve, 0));
  const theta = options.theta ?? chosen.theta;
  const stepsUsed = terminationSteps(trace, theta);
  const a = oracleFirstCorrect(trace);
  const b = oracleStaysCorrect(trace);
  return {
    curve,
    pareto,
    grid: gridCurve(trace, options.grid ?? EXTENDED_THETA_GRID),
    chosen: { ...chosen, theta },
    accSnnT,
    latencySavingPct: latencySaving(chosen.meanSteps, trace.steps),
    stepsUsed,
    oracles: {
      firstCorrect: { accuracy: a.accuracy, meanSteps: a.meanSteps },
      staysCorrect: { accuracy: b.accuracy, meanSteps: b.meanSteps },
    },
    terminationHistogram: terminationHistogram(stepsUsed, trace.steps),
    perStep: perStepStats(trace, options.traceNoAlpha),
  };
}
