/**
 * A compact record of one validation run of the SNN for all T steps: for every sample i and
 * 0-based step t, the confidence c_{i,t} (Float32) and the prediction argmax O_{i,t}
 * (Int16 when C ≤ 32767, else Int32), plus the labels. Row-major: index i·T + t.
 *
 * 10,000 samples × 64 steps take 3.8 MB (Float32 + Int16) — the whole threshold search,
 * oracle and per-step statistics run from this record, not from the C-wide outputs.
 */
import { confidenceAt, type NumericArray } from './confidence';

export interface ConfidenceTrace {
  /** Number of samples N. */
  readonly n: number;
  /** Number of time steps T recorded per sample. */
  readonly steps: number;
  /** c_{i,t} at [i·T + t]. */
  readonly confidence: Float32Array;
  /** argmax O_{i,t} at [i·T + t]. */
  readonly predicted: Int16Array | Int32Array;
  /** True class of each sample; -1 when unknown (such samples count as wrong). */
  readonly labels: Int32Array;
  /** α and τ used to compute the confidences (informational). */
  readonly alpha?: number;
  readonly tau?: number;
  /** The confidences are calibrated probabilities and stop at c ≥ θ (decide.ts, StopRule 'calibrated'); otherwise c > θ. */
  readonly inclusive?: boolean;
}

function predictionArray(size: number, classes?: number): Int16Array | Int32Array {
  return classes !== undefined && classes <= 32767 ? new Int16Array(size) : new Int32Array(size);
}

/** An empty (zeroed) trace to be filled step by step with `setTraceStep`. */
export function createTrace(
  n: number,
  steps: number,
  labels?: ArrayLike<number>,
  classes?: number,
  alpha?: number,
  tau?: number,
): ConfidenceTrace {
  if (!(n >= 0 && Number.isInteger(n)) || !(steps >= 1 && Number.isInteger(steps))) {
    throw new RangeError(`createTrace: bad shape ${n}×${steps}`);
  }
  const lab = new Int32Array(n).fill(-1);
  if (labels) {
    if (labels.length !== n) throw new RangeError(`createTrace: ${labels.length} labels for ${n} samples`);
    for (let i = 0; i < n; i++) lab[i] = labels[i];
  }
  return {
    n,
    steps,
    confidence: new Float32Array(n * steps),
    predicted: predictionArray(n * steps, classes),
    labels: lab,
    alpha,
    tau,
  };
}

/** Records the output O_t (C values from `offset`) of sample i at 0-based step t. */
export function setTraceStep(
  trace: ConfidenceTrace,
  sample: number,
  step: number,
  O: NumericArray,
  classes: number,
  alpha: number,
  tau = 1,
  offset = 0,
): void {
  if (sample < 0 || sample >= trace.n || step < 0 || step >= trace.steps) {
    throw new RangeError(`setTraceStep: (${sample}, ${step}) outside ${trace.n}×${trace.steps}`);
  }
  const s = alpha * tau;
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`setTraceStep: α·τ must be finite and > 0`);
  const r = confidenceAt(O, offset, classes, 1 / s);
  const j = sample * trace.steps + step;
  trace.confidence[j] = r.confidence;
  trace.predicted[j] = r.predicted;
}

export interface TraceFromOutputsOptions {
  /**
   * 'cumulative' (default): outputs already hold O_t = Σ_{s≤t}(W·s_s + b).
   * 'increments': outputs hold the per-step output W·s_t + b; they are summed here.
   */
  readonly outputs?: 'cumulative' | 'increments';
}

/**
 * Builds a trace from per-step outputs, row-major [N × T × C] (sample, step, class), with
 * confidence softmax(O_t/(α·τ)). N is outputs.length / (T·C).
 */
export function traceFromOutputs(
  outputs: NumericArray,
  labels: ArrayLike<number>,
  steps: number,
  classes: number,
  alpha: number,
  tau = 1,
  options: TraceFromOutputsOptions = {},
): ConfidenceTrace {
  const per = steps * classes;
  if (!(per > 0) || outputs.length % per !== 0) {
    throw new RangeError(`traceFromOutputs: ${outputs.length} values are not N×${steps}×${classes}`);
  }
  const n = outputs.length / per;
  const trace = createTrace(n, steps, labels, classes, alpha, tau);
  const s = alpha * tau;
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`traceFromOutputs: α·τ must be finite and > 0`);
  const inv = 1 / s;
  const conf = trace.confidence;
  const pred = trace.predicted;
  if (options.outputs === 'increments') {
    const acc = new Float64Array(classes);
    for (let i = 0; i < n; i++) {
      acc.fill(0);
      for (let t = 0; t < steps; t++) {
        const o = (i * steps + t) * classes;
        for (let k = 0; k < classes; k++) acc[k] += outputs[o + k];
        const r = confidenceAt(acc, 0, classes, inv);
        conf[i * steps + t] = r.confidence;
        pred[i * steps + t] = r.predicted;
      }
    }
  } else {
    for (let j = 0, o = 0; j < n * steps; j++, o += classes) {
      const r = confidenceAt(outputs, o, classes, inv);
      conf[j] = r.confidence;
      pred[j] = r.predicted;
    }
  }
  return trace;
}

/** Wraps existing arrays (validated, not copied). */
export function traceFromArrays(
  confidence: Float32Array,
  predicted: Int16Array | Int32Array,
  labels: ArrayLike<number>,
  steps: number,
): ConfidenceTrace {
  if (!(steps >= 1) || confidence.length % steps !== 0) {
    throw new RangeError(`traceFromArrays: ${confidence.length} confidences are not N×${steps}`);
  }
  const n = confidence.length / steps;
  if (predicted.length !== confidence.length) throw new RangeError('traceFromArrays: predicted/confidence length mismatch');
  if (labels.length !== n) throw new RangeError(`traceFromArrays: ${labels.length} labels for ${n} samples`);
  const lab = labels instanceof Int32Array ? labels : Int32Array.from(labels);
  return { n, steps, confidence, predicted, labels: lab };
}

/** Accuracy of the prediction at 0-based step t for every t (the SNN's accuracy-vs-latency curve). */
export function perStepAccuracy(trace: ConfidenceTrace): Float64Array {
  const { n, steps: T } = trace;
  const out = new Float64Array(T);
  for (let i = 0; i < n; i++) {
    const y = trace.labels[i];
    for (let t = 0; t < T; t++) if (trace.predicted[i * T + t] === y) out[t]++;
  }
  for (let t = 0; t < T; t++) out[t] = n > 0 ? out[t] / n : NaN;
  return out;
}

/** Mean confidence over samples at each 0-based step t (NaN confidences skipped). */
export function perStepMeanConfidence(trace: ConfidenceTrace): Float64Array {
  const { n, steps: T } = trace;
  const sum = new Float64Array(T);
  const cnt = new Float64Array(T);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      const c = trace.confidence[i * T + t];
      if (c === c) {
        sum[t] += c;
        cnt[t]++;
      }
    }
  }
  for (let t = 0; t < T; t++) sum[t] = cnt[t] > 0 ? sum[t] / cnt[t] : NaN;
  return sum;
}

/** Accuracy at the last step T (the SNN without Dynamic Confidence). */
export function fullTAccuracy(trace: ConfidenceTrace): number {
  const { n, steps: T } = trace;
  let c = 0;
  for (let i = 0; i < n; i++) if (trace.predicted[i * T + T - 1] === trace.labels[i]) c++;
  return n > 0 ? c / n : NaN;
}

/** The first `steps` steps of every sample (a copy): the trace of a shorter run on the same frames. */
export function truncateTrace(trace: ConfidenceTrace, steps: number): ConfidenceTrace {
  const T = trace.steps;
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= T)) throw new RangeError(`truncateTrace: ${steps} steps outside 1..${T}`);
  if (steps === T) return trace;
  const n = trace.n;
  const confidence = new Float32Array(n * steps);
  const predicted = trace.predicted instanceof Int16Array ? new Int16Array(n * steps) : new Int32Array(n * steps);
  for (let i = 0; i < n; i++) {
    confidence.set(trace.confidence.subarray(i * T, i * T + steps), i * steps);
    predicted.set(trace.predicted.subarray(i * T, i * T + steps), i * steps);
  }
  return { n, steps, confidence, predicted, labels: trace.labels, alpha: trace.alpha, tau: trace.tau, inclusive: trace.inclusive };
}

/**
 * A trace of calibrated confidences q_t = max softmax(O_t / s_t) (step-calibration.ts) from
 * cumulative outputs [N × T × C]; it stops at q ≥ θ.
 */
export function traceWithStepScales(outputs: NumericArray, labels: ArrayLike<number>, steps: number, classes: number, scaleOf: (t: number) => number): ConfidenceTrace {
  const per = steps * classes;
  if (!(per > 0) || outputs.length % per !== 0) throw new RangeError(`traceWithStepScales: ${outputs.length} values are not N×${steps}×${classes}`);
  const n = outputs.length / per;
  const base = createTrace(n, steps, labels, classes);
  const inv = Array.from({ length: steps }, (_, t) => 1 / scaleOf(t));
  for (let j = 0, o = 0; j < n * steps; j++, o += classes) {
    const r = confidenceAt(outputs, o, classes, inv[j % steps]);
    base.confidence[j] = r.confidence;
    base.predicted[j] = r.predicted;
  }
  return { ...base, inclusive: true };
}
