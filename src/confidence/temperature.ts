/**
 * Temperature scaling (Guo et al., 2017), the calibration step of Dynamic Confidence: a single
 * τ > 0 fitted on the ANN's validation logits by minimising the negative log-likelihood of
 * softmax(z/τ). The SNN then uses softmax(O_t/(α·τ)).
 *
 * Fitting is done in β = 1/τ, where the NLL
 *     f(β) = mean_i [ logsumexp(β·z_i) − β·z_{i,y_i} ]
 * is convex: f'(β) = mean_i [E_{p_β}(z_i) − z_{i,y_i}], f''(β) = mean_i Var_{p_β}(z_i) ≥ 0.
 * A safeguarded Newton iteration (Newton steps kept inside a sign-change bracket, bisection
 * otherwise) converges in a handful of passes and cannot diverge. When the optimum lies
 * outside [τMin, τMax] (separable data → τ → 0; worse-than-chance logits → τ → ∞) the bound is
 * returned and `atBound` says so.
 */
import type { NumericArray } from './confidence';

export interface TemperatureFit {
  readonly tau: number;
  readonly nllBefore: number;
  readonly nllAfter: number;
  readonly iterations: number;
  /** 'min' / 'max' when τ was clamped to a bound of the search interval. */
  readonly atBound: 'min' | 'max' | null;
}

export interface TemperatureOptions {
  readonly tauMin?: number;
  readonly tauMax?: number;
  readonly maxIterations?: number;
  /** Relative tolerance on β = 1/τ. */
  readonly tolerance?: number;
}

function checkShape(logits: NumericArray, labels: ArrayLike<number>, classes: number): number {
  if (!(classes > 0) || logits.length % classes !== 0) {
    throw new RangeError(`temperature: ${logits.length} logits are not rows of ${classes}`);
  }
  const n = logits.length / classes;
  if (labels.length !== n) throw new RangeError(`temperature: ${n} rows but ${labels.length} labels`);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!(y >= 0 && y < classes) || !Number.isInteger(y)) throw new RangeError(`temperature: label ${y} at row ${i} out of range`);
  }
  return n;
}

/** Mean, first and second derivative of the NLL in β = 1/τ (one pass). */
function nllDerivs(logits: NumericArray, labels: ArrayLike<number>, classes: number, n: number, beta: number): [number, number, number] {
  let f = 0;
  let g = 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let m = -Infinity;
    for (let k = 0; k < classes; k++) {
      const v = beta * logits[o + k];
      if (v > m) m = v;
    }
    let s = 0;
    let s1 = 0;
    let s2 = 0;
    for (let k = 0; k < classes; k++) {
      const z = logits[o + k];
      const e = Math.exp(beta * z - m);
      s += e;
      s1 += e * z;
      s2 += e * z * z;
    }
    const ez = s1 / s;
    const zy = logits[o + labels[i]];
    f += m + Math.log(s) - beta * zy;
    g += ez - zy;
    h += Math.max(0, s2 / s - ez * ez);
  }
  return [f / n, g / n, h / n];
}

/** Mean negative log-likelihood of softmax(z/τ) over rows of a row-major [N × C] logit matrix. */
export function nll(logits: NumericArray, labels: ArrayLike<number>, classes: number, tau = 1): number {
  const n = checkShape(logits, labels, classes);
  if (n === 0) return NaN;
  return nllDerivs(logits, labels, classes, n, 1 / tau)[0];
}

/** Fits τ by minimising the validation NLL. */
export function fitTemperature(
  logits: NumericArray,
  labels: ArrayLike<number>,
  classes: number,
  options: TemperatureOptions = {},
): TemperatureFit {
  const n = checkShape(logits, labels, classes);
  if (n === 0) throw new RangeError('fitTemperature: no samples');
  const tauMin = options.tauMin ?? 1e-3;
  const tauMax = options.tauMax ?? 1e3;
  const maxIt = options.maxIterations ?? 100;
  const tol = options.tolerance ?? 1e-10;
  if (!(tauMin > 0 && tauMax > tauMin)) throw new RangeError('fitTemperature: need 0 < tauMin < tauMax');
  const nllBefore = nllDerivs(logits, labels, classes, n, 1)[0];
  let lo = 1 / tauMax;
  let hi = 1 / tauMin;
  const gLo = nllDerivs(logits, labels, classes, n, lo)[1];
  if (gLo >= 0) {
    return { tau: tauMax, nllBefore, nllAfter: nllDerivs(logits, labels, classes, n, lo)[0], iterations: 1, atBound: 'max' };
  }
  const gHi = nllDerivs(logits, labels, classes, n, hi)[1];
  if (gHi <= 0) {
    return { tau: tauMin, nllBefore, nllAfter: nllDerivs(logits, labels, classes, n, hi)[0], iterations: 2, atBound: 'min' };
  }
  let beta = 1 >= lo && 1 <= hi ? 1 : Math.sqrt(lo * hi);
  let it = 0;
  for (; it < maxIt; it++) {
    const [, g, h] = nllDerivs(logits, labels, classes, n, beta);
    if (g === 0) break;
    if (g < 0) lo = beta;
    else hi = beta;
    let next = h > 0 ? beta - g / h : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    const done = Math.abs(next - beta) <= tol * Math.max(beta, 1e-300) || hi - lo <= tol * beta;
    beta = next;
    if (done) break;
  }
  const tau = 1 / beta;
  return { tau, nllBefore, nllAfter: nllDerivs(logits, labels, classes, n, beta)[0], iterations: it + 3, atBound: null };
}

export interface ReliabilityBins {
  readonly count: Int32Array;
  /** Mean confidence of each bin (NaN when empty). */
  readonly confidence: Float64Array;
  /** Accuracy of each bin (NaN when empty). */
  readonly accuracy: Float64Array;
}

export interface CalibrationInput {
  /** 'logits' (default): scores are logits, softmax(z/τ) is taken; 'probs': scores are probabilities. */
  readonly input?: 'logits' | 'probs';
  /** Temperature applied to logits. */
  readonly tau?: number;
}

/**
 * Reliability diagram: samples binned by top-class confidence into `bins` equal-width bins
 * (lo, hi] over [0, 1] (Guo et al.), with each bin's mean confidence and accuracy.
 */
export function reliabilityBins(
  scores: NumericArray,
  labels: ArrayLike<number>,
  classes: number,
  bins = 15,
  options: CalibrationInput = {},
): ReliabilityBins {
  const n = checkShape(scores, labels, classes);
  if (!(bins >= 1) || !Number.isInteger(bins)) throw new RangeError(`reliabilityBins: bins must be a positive integer`);
  const isProbs = options.input === 'probs';
  const beta = 1 / (options.tau ?? 1);
  const count = new Int32Array(bins);
  const sumConf = new Float64Array(bins);
  const sumCorrect = new Float64Array(bins);
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let m = scores[o];
    let arg = 0;
    for (let k = 1; k < classes; k++) {
      if (scores[o + k] > m) {
        m = scores[o + k];
        arg = k;
      }
    }
    let c: number;
    if (isProbs) c = m;
    else {
      let s = 0;
      for (let k = 0; k < classes; k++) s += Math.exp((scores[o + k] - m) * beta);
      c = 1 / s;
    }
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    count[b]++;
    sumConf[b] += c;
    if (arg === labels[i]) sumCorrect[b]++;
  }
  const confidence = new Float64Array(bins);
  const accuracy = new Float64Array(bins);
  for (let b = 0; b < bins; b++) {
    confidence[b] = count[b] > 0 ? sumConf[b] / count[b] : NaN;
    accuracy[b] = count[b] > 0 ? sumCorrect[b] / count[b] : NaN;
  }
  return { count, confidence, accuracy };
}

/** ECE = Σ_b (|B_b|/N)·|acc(B_b) − conf(B_b)| with equal-width bins (default 15). */
export function expectedCalibrationError(
  scores: NumericArray,
  labels: ArrayLike<number>,
  classes: number,
  bins = 15,
  options: CalibrationInput = {},
): number {
  const r = reliabilityBins(scores, labels, classes, bins, options);
  let n = 0;
  let e = 0;
  for (let b = 0; b < bins; b++) {
    if (r.count[b] === 0) continue;
    n += r.count[b];
    e += r.count[b] * Math.abs(r.accuracy[b] - r.confidence[b]);
  }
  return n > 0 ? e / n : NaN;
}

export interface CalibrationSummary extends TemperatureFit {
  readonly eceBefore: number;
  readonly eceAfter: number;
}

/** Fits τ on ANN validation logits and reports NLL and ECE before and after. */
export function calibrate(
  logits: NumericArray,
  labels: ArrayLike<number>,
  classes: number,
  bins = 15,
  options: TemperatureOptions = {},
): CalibrationSummary {
  const fit = fitTemperature(logits, labels, classes, options);
  return {
    ...fit,
    eceBefore: expectedCalibrationError(logits, labels, classes, bins, { tau: 1 }),
    eceAfter: expectedCalibrationError(logits, labels, classes, bins, { tau: fit.tau }),
  };
}
