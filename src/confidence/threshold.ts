/**
 * Choosing the confidence threshold θ from a validation trace.
 *
 * Exact curve. For sample i let M_{i,t} = max_{s≤t} c_{i,s} (prefix max, NaN ignored). The rule
 * "stop at the first t with c_t > θ, else at T" stops sample i at the first t with M_{i,t} > θ.
 * Call t a *record* of sample i when c_{i,t} > M_{i,t−1} (a strict new prefix maximum). With
 * records r_0 = 0 < r_1 < … and values v_0 < v_1 < …, sample i stops at
 *   – T−1 (uses all T steps)  for θ ≥ v_last,
 *   – r_k                     for v_{k−1} ≤ θ < v_k,
 *   – r_0 = 0                 for θ < v_0.
 * So every record is an event "for all θ < v, sample i stops at step r (or earlier)". Sorting all
 * events once by v (descending; a 3-pass LSD radix sort on the Float32 bit patterns, O(N·T)) and
 * applying them in that order, updating one sample's step and correctness at a time, walks the
 * whole curve from θ = +∞ (every sample at T) down to θ = −∞ (every sample at step 1). Events
 * with the same v are applied together. Between two consecutive distinct event values the
 * curve is constant, which gives the interval [thetaMin, thetaMax) of every point.
 * Total cost O(N·T) (O(N·T log N·T) with a comparison sort; the radix sort removes the log).
 *
 * Mean steps strictly decrease along the curve as θ decreases (a point is only emitted when a
 * sample's stopping step moves), which makes the Pareto front a single linear sweep.
 */
import { stopIndex } from './decide';
import type { ConfidenceTrace } from './trace';

export interface CurvePoint {
  /** A threshold inside [thetaMin, thetaMax) that reproduces this point; the midpoint when both ends are finite (robust to rounding), 1 for the top interval (never stops early), 0 for the bottom one when confidences are positive. */
  readonly theta: number;
  /** Inclusive lower end of the θ interval that gives this point. */
  readonly thetaMin: number;
  /** Exclusive upper end. */
  readonly thetaMax: number;
  readonly accuracy: number;
  readonly meanSteps: number;
  /** Number of correct samples. */
  readonly correct: number;
  /** Fraction of samples terminated before the last step. */
  readonly earlyFraction: number;
}

/** The exact accuracy/mean-steps curve as a struct of arrays, ordered by decreasing θ. */
export interface ThresholdCurve {
  readonly n: number;
  readonly steps: number;
  readonly length: number;
  readonly theta: Float64Array;
  readonly thetaMin: Float64Array;
  readonly thetaMax: Float64Array;
  readonly correct: Int32Array;
  /** Σ_i steps used by sample i (1..T each). */
  readonly totalSteps: Float64Array;
  /** Number of samples terminated before the last step. */
  readonly early: Int32Array;
}

/** The paper's search grid: θ = 0.0, 0.1, …, 1.0 (θ = 1 is the baseline that never stops early). */
export const PAPER_THETA_GRID: readonly number[] = Object.freeze([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
/** The paper's grid plus 0.95 and 0.99, useful when confidences are high. */
export const EXTENDED_THETA_GRID: readonly number[] = Object.freeze([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1]);

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Sort key whose unsigned order equals the float order (sign-magnitude → offset binary). */
function floatKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

/** Ascending LSD radix sort of `keys` (uint32) carrying `vals`, 11+11+10 bits. Returns the sorted pair. */
function radixSortPairs(keys: Uint32Array, vals: Uint32Array, len: number): [Uint32Array, Uint32Array] {
  let k1: Uint32Array = keys;
  let v1: Uint32Array = vals;
  let k2: Uint32Array = new Uint32Array(len);
  let v2: Uint32Array = new Uint32Array(len);
  const count = new Uint32Array(2048);
  const shifts = [0, 11, 22];
  for (const shift of shifts) {
    const mask = shift === 22 ? 0x3ff : 0x7ff;
    count.fill(0);
    for (let i = 0; i < len; i++) count[(k1[i] >>> shift) & mask]++;
    // Skip a pass where every key falls into one bucket.
    let single = false;
    for (let b = 0; b <= mask; b++) {
      if (count[b] === len) single = true;
      if (count[b] !== 0) break;
    }
    if (single) continue;
    let sum = 0;
    for (let b = 0; b <= mask; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < len; i++) {
      const k = k1[i];
      const d = count[(k >>> shift) & mask]++;
      k2[d] = k;
      v2[d] = v1[i];
    }
    const tk = k1;
    k1 = k2;
    k2 = tk;
    const tv = v1;
    v1 = v2;
    v2 = tv;
  }
  return [k1, v1];
}

function representativeTheta(lo: number, hi: number): number {
  if (hi === Infinity) return Math.max(lo, 1);
  if (lo === -Infinity) return hi > 0 ? 0 : hi - 1;
  return lo + (hi - lo) / 2;
}

/** The exact accuracy/mean-steps curve for every distinct θ (see the file comment). */
export function thresholdCurve(trace: ConfidenceTrace): ThresholdCurve {
  const { n, steps: T, confidence: conf, predicted: pred, labels } = trace;
  // 1. Records of the prefix maxima → events.
  const { keys, vals, count: e } = prefixMaxRecords(trace);
  // 2. One sort.
  const [sk, sv] = radixSortPairs(keys, vals, e);
  // 3. Start at θ = +∞: every sample runs to T.
  const cur = new Int32Array(n).fill(T - 1);
  const ok = new Uint8Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    if (pred[i * T + T - 1] === labels[i]) {
      ok[i] = 1;
      correct++;
    }
  }
  let totalSteps = n * T;
  let early = 0;
  const cap = e + 1;
  const thetaMin = new Float64Array(cap);
  const thetaMax = new Float64Array(cap);
  const correctA = new Int32Array(cap);
  const stepsA = new Float64Array(cap);
  const earlyA = new Int32Array(cap);
  let p = 0;
  thetaMax[0] = Infinity;
  correctA[0] = correct;
  stepsA[0] = totalSteps;
  earlyA[0] = 0;
  // 4. Walk events by decreasing value, a group of equal values at a time.
  let j = e - 1;
  while (j >= 0) {
    const v = conf[sv[j]];
    thetaMin[p] = v; // the current point holds for θ ≥ v (until a lower group changes state)
    const keyV = sk[j];
    let changed = false;
    // Equal floats have equal keys, except −0/+0 which are adjacent: compare values for them.
    while (j >= 0 && (sk[j] === keyV || conf[sv[j]] === v)) {
      const idx = sv[j];
      const i = (idx / T) | 0;
      const t = idx - i * T;
      const c0 = cur[i];
      if (t < c0) {
        totalSteps -= c0 - t;
        if (c0 === T - 1) early++;
        cur[i] = t;
        const nowOk = pred[idx] === labels[i] ? 1 : 0;
        correct += nowOk - ok[i];
        ok[i] = nowOk;
        changed = true;
      }
      j--;
    }
    if (changed) {
      p++;
      thetaMax[p] = v;
      correctA[p] = correct;
      stepsA[p] = totalSteps;
      earlyA[p] = early;
    }
  }
  thetaMin[p] = -Infinity;
  const len = p + 1;
  const theta = new Float64Array(len);
  for (let k = 0; k < len; k++) theta[k] = representativeTheta(thetaMin[k], thetaMax[k]);
  return {
    n,
    steps: T,
    length: len,
    theta,
    thetaMin: thetaMin.slice(0, len),
    thetaMax: thetaMax.slice(0, len),
    correct: correctA.slice(0, len),
    totalSteps: stepsA.slice(0, len),
    early: earlyA.slice(0, len),
  };
}

/**
 * The records of each sample's running maximum of confidence: only a new maximum can be the step where
 * some θ first stops that sample, so these (at most n·T, usually far fewer) are the curve's only events.
 * key = the float's sort order (for the radix sort), val = i·T + t.
 */
function prefixMaxRecords(trace: ConfidenceTrace): { keys: Uint32Array; vals: Uint32Array; count: number } {
  const { n, steps: T, confidence: conf } = trace;
  const keys = new Uint32Array(n * T);
  const vals = new Uint32Array(n * T);
  let e = 0;
  for (let i = 0, base = 0; i < n; i++, base += T) {
    let m = -Infinity;
    for (let t = 0; t < T; t++) {
      const c = conf[base + t];
      if (c > m) {
        m = c;
        f32[0] = c;
        keys[e] = floatKey(u32[0]);
        vals[e] = base + t;
        e++;
      }
    }
  }
  return { keys, vals, count: e };
}

/** Point k of a curve as an object. */
export function curvePoint(curve: ThresholdCurve, k: number): CurvePoint {
  const n = curve.n;
  return {
    theta: curve.theta[k],
    thetaMin: curve.thetaMin[k],
    thetaMax: curve.thetaMax[k],
    accuracy: n > 0 ? curve.correct[k] / n : NaN,
    meanSteps: n > 0 ? curve.totalSteps[k] / n : NaN,
    correct: curve.correct[k],
    earlyFraction: n > 0 ? curve.early[k] / n : NaN,
  };
}

/** All points of a curve as objects (fine for plotting a few thousand; use the arrays for more). */
export function curvePoints(curve: ThresholdCurve): CurvePoint[] {
  const out: CurvePoint[] = new Array(curve.length);
  for (let k = 0; k < curve.length; k++) out[k] = curvePoint(curve, k);
  return out;
}

/** The curve point that θ falls in (binary search over the intervals). NaN θ never stops early. */
export function lookupTheta(curve: ThresholdCurve, theta: number): CurvePoint {
  if (theta !== theta) return curvePoint(curve, 0);
  // thetaMin is descending; find the first k with thetaMin[k] ≤ θ.
  let lo = 0;
  let hi = curve.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (curve.thetaMin[mid] <= theta) hi = mid;
    else lo = mid + 1;
  }
  return curvePoint(curve, lo);
}

/** Steps used (1..T) by every sample at θ: the decision rule applied directly. */
export function terminationSteps(trace: ConfidenceTrace, theta: number): Int32Array {
  const { n, steps: T } = trace;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = stopIndex(trace.confidence, theta, T, i * T, trace.inclusive) + 1;
  return out;
}

/** Brute-force evaluation of one θ (O(N·T)); the reference the exact curve is tested against. */
export function evaluateThreshold(trace: ConfidenceTrace, theta: number): CurvePoint {
  const { n, steps: T } = trace;
  let correct = 0;
  let total = 0;
  let early = 0;
  for (let i = 0; i < n; i++) {
    const t = stopIndex(trace.confidence, theta, T, i * T, trace.inclusive);
    total += t + 1;
    if (t < T - 1) early++;
    if (trace.predicted[i * T + t] === trace.labels[i]) correct++;
  }
  return {
    theta,
    thetaMin: theta,
    thetaMax: theta,
    accuracy: n > 0 ? correct / n : NaN,
    meanSteps: n > 0 ? total / n : NaN,
    correct,
    earlyFraction: n > 0 ? early / n : NaN,
  };
}

/** The paper's coarse search: one brute-force evaluation per grid value. */
export function gridCurve(trace: ConfidenceTrace, thetas: readonly number[] = EXTENDED_THETA_GRID): CurvePoint[] {
  return thetas.map((th) => evaluateThreshold(trace, th));
}

function isCurve(c: ThresholdCurve | readonly CurvePoint[]): c is ThresholdCurve {
  return (c as ThresholdCurve).totalSteps instanceof Float64Array;
}

/**
 * Pareto-efficient points (accuracy ↑, mean steps ↓): those no other point matches or beats on
 * both with one strictly better. Of exact duplicates one is kept (the highest θ). Sorted by
 * increasing mean steps (and so increasing accuracy).
 */
export function paretoFront(points: ThresholdCurve | readonly CurvePoint[]): CurvePoint[] {
  const out: CurvePoint[] = [];
  if (isCurve(points)) {
    // Mean steps strictly increase with k decreasing (θ increasing): one sweep.
    let best = -1;
    for (let k = points.length - 1; k >= 0; k--) {
      if (points.correct[k] > best) {
        best = points.correct[k];
        out.push(curvePoint(points, k));
      }
    }
    return out;
  }
  const sorted = points
    .filter((p) => p.accuracy === p.accuracy && p.meanSteps === p.meanSteps)
    .sort((a, b) => a.meanSteps - b.meanSteps || b.accuracy - a.accuracy || b.theta - a.theta);
  let best = -Infinity;
  for (const p of sorted) {
    if (p.accuracy > best) {
      best = p.accuracy;
      out.push(p);
    }
  }
  return out;
}

/**
 * The paper's choice: the point with the lowest mean steps whose validation accuracy is at least
 * the full-T accuracy minus ε (ties: higher accuracy, then higher θ). For an exact curve the
 * full-T accuracy defaults to its θ = +∞ point. Undefined when no point qualifies (possible for a
 * grid that lacks θ = 1).
 */
export function chooseTheta(
  curve: ThresholdCurve | readonly CurvePoint[],
  fullTAccuracy?: number,
  epsilon = 0,
): CurvePoint | undefined {
  const pts = isCurve(curve) ? paretoFront(curve) : curve;
  let target = fullTAccuracy;
  if (target === undefined) {
    if (!isCurve(curve)) throw new RangeError('chooseTheta: fullTAccuracy is required for a list of points');
    target = curve.n > 0 ? curve.correct[0] / curve.n : NaN;
  }
  const need = target - epsilon - 1e-12;
  let best: CurvePoint | undefined;
  for (const p of pts) {
    if (!(p.accuracy >= need)) continue;
    if (
      best === undefined ||
      p.meanSteps < best.meanSteps ||
      (p.meanSteps === best.meanSteps && (p.accuracy > best.accuracy || (p.accuracy === best.accuracy && p.theta > best.theta)))
    ) {
      best = p;
    }
  }
  return best;
}

/** Latency saving in percent: (1 − meanSteps/T)·100. */
export function latencySaving(meanSteps: number, T: number): number {
  return (1 - meanSteps / T) * 100;
}
