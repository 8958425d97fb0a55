/**
 * Uncertainty of the figures a Dynamic Confidence report gives, so that a reader can tell a
 * difference from the noise of a few hundred test samples:
 *
 *  - `wilson`: the Wilson score interval of an accuracy k/n (good coverage near 0 and 1, where the
 *    normal interval p ± z·√(p(1−p)/n) collapses or leaves [0, 1]).
 *  - `mcnemar`: the exact (binomial) two-sided McNemar test of two classifiers on the same samples,
 *    from the discordant counts b (only the first is right) and c (only the second is right).
 *  - `bootstrapMeans`: a seeded paired bootstrap — the same resampled sample indices for every
 *    column — giving percentile intervals of column means. Paired accuracy differences are the
 *    mean of per-sample (okA − okB) ∈ {−1, 0, 1}; mean steps the mean of per-sample steps.
 *  - `comparePaired`: both together for an early-exit rule against the full-T baseline.
 *
 * Pure functions, no I/O.
 */
import { mulberry32 } from '../prng';

/** z for a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  /** The point estimate. */
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
}

/** Wilson score interval of k successes out of n (level from z; 95 % by default). NaNs for n = 0. */
export function wilson(k: number, n: number, z = Z95): Interval {
  if (!(n > 0)) return { value: NaN, lo: NaN, hi: NaN };
  if (!(k >= 0 && k <= n)) throw new RangeError(`wilson: ${k} successes out of ${n}`);
  const p = k / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z / den) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { value: p, lo: Math.max(0, centre - half), hi: Math.min(1, centre + half) };
}

/** Wilson interval of an accuracy given as a fraction of n samples. */
export function wilsonOfAccuracy(accuracy: number, n: number, z = Z95): Interval {
  return wilson(Math.round(accuracy * n), n, z);
}

/** ln C(n, k) by summing logs (n up to millions is fine: one pass). */
function logChoose(n: number, k: number): number {
  let s = 0;
  const m = Math.min(k, n - k);
  for (let i = 1; i <= m; i++) s += Math.log((n - m + i) / i);
  return s;
}

export interface McNemarResult {
  /** Samples only the first classifier gets right. */
  readonly b: number;
  /** Samples only the second classifier gets right. */
  readonly c: number;
  /** Exact two-sided p-value: 2·P(X ≤ min(b, c)), X ~ Binomial(b + c, ½), capped at 1. */
  readonly p: number;
}

/** Exact McNemar test from the discordant counts. */
export function mcnemar(b: number, c: number): McNemarResult {
  if (!(b >= 0 && c >= 0) || !Number.isInteger(b) || !Number.isInteger(c)) throw new RangeError(`mcnemar: counts must be integers ≥ 0 (got ${b}, ${c})`);
  const n = b + c;
  if (n === 0) return { b, c, p: 1 };
  const m = Math.min(b, c);
  // Σ_{i ≤ m} C(n, i) / 2^n in log space, term by term (C(n, i+1) = C(n, i)·(n−i)/(i+1)).
  let logTerm = -n * Math.LN2;
  let sum = Math.exp(logTerm);
  for (let i = 0; i < m; i++) {
    logTerm += Math.log((n - i) / (i + 1));
    sum += Math.exp(logTerm);
  }
  return { b, c, p: Math.min(1, 2 * sum) };
}

/** McNemar from per-sample correctness of two classifiers (1 = right). */
export function mcnemarOf(okA: ArrayLike<number>, okB: ArrayLike<number>): McNemarResult {
  if (okA.length !== okB.length) throw new RangeError(`mcnemar: ${okA.length} vs ${okB.length} samples`);
  let b = 0;
  let c = 0;
  for (let i = 0; i < okA.length; i++) {
    if (okA[i] && !okB[i]) b++;
    else if (!okA[i] && okB[i]) c++;
  }
  return mcnemar(b, c);
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  readonly resamples?: number;
  /** PRNG seed (default 1): the same seed gives the same intervals. */
  readonly seed?: number;
  /** Two-sided level (default 0.95). */
  readonly level?: number;
}

/** Sorted-array percentile with linear interpolation (q in [0, 1]). */
function quantileSorted(s: Float64Array, q: number): number {
  if (s.length === 0) return NaN;
  const r = q * (s.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return s[lo] + (s[hi] - s[lo]) * (r - lo);
}

/**
 * Paired percentile bootstrap of the means of several per-sample columns (all of length n): each
 * resample draws n sample indices with replacement and averages every column over the same
 * indices. Returns one interval per column (value = the column's mean on the original samples).
 */
export function bootstrapMeans(columns: readonly ArrayLike<number>[], opts: BootstrapOptions = {}): Interval[] {
  const n = columns.length > 0 ? columns[0].length : 0;
  for (const c of columns) if (c.length !== n) throw new RangeError(`bootstrapMeans: columns of ${n} and ${c.length} samples`);
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(Number.isInteger(B) && B >= 1)) throw new RangeError(`bootstrapMeans: resamples must be a positive integer (got ${B})`);
  if (!(level > 0 && level < 1)) throw new RangeError(`bootstrapMeans: level must be in (0, 1) (got ${level})`);
  if (n === 0) return columns.map(() => ({ value: NaN, lo: NaN, hi: NaN }));
  const rand = mulberry32(opts.seed ?? 1);
  const K = columns.length;
  const means = Array.from({ length: K }, () => new Float64Array(B));
  const sums = new Float64Array(K);
  for (let r = 0; r < B; r++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) {
      const i = Math.floor(rand() * n);
      for (let k = 0; k < K; k++) sums[k] += columns[k][i];
    }
    for (let k = 0; k < K; k++) means[k][r] = sums[k] / n;
  }
  const a = (1 - level) / 2;
  return columns.map((col, k) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += col[i];
    const sorted = means[k].sort();
    return { value: s / n, lo: quantileSorted(sorted, a), hi: quantileSorted(sorted, 1 - a) };
  });
}

/** An early-exit rule against the full-T baseline on the same samples. */
export interface PairedComparison {
  readonly n: number;
  /** Accuracy of the rule minus the full-T accuracy (fraction), paired-bootstrap interval. */
  readonly accuracyDiff: Interval;
  /** Mean steps of the rule, bootstrap interval (the baseline uses T for every sample). */
  readonly meanSteps: Interval;
  /** Exact McNemar test of rule vs full-T (b: only the rule right; c: only full-T right). */
  readonly mcnemar: McNemarResult;
  readonly resamples: number;
  readonly seed: number;
  readonly level: number;
}

/**
 * Compares per-sample correctness and steps of a rule (okRule, stepsRule) with the full-T
 * baseline's correctness (okFull): the paired accuracy difference and the mean steps with
 * bootstrap intervals from the same resamples, and the exact McNemar test.
 */
export function comparePaired(
  okRule: ArrayLike<number>,
  okFull: ArrayLike<number>,
  stepsRule: ArrayLike<number>,
  opts: BootstrapOptions = {},
): PairedComparison {
  const n = okRule.length;
  if (okFull.length !== n || stepsRule.length !== n) throw new RangeError(`comparePaired: ${n}, ${okFull.length} and ${stepsRule.length} samples`);
  const diff = new Float64Array(n);
  for (let i = 0; i < n; i++) diff[i] = (okRule[i] ? 1 : 0) - (okFull[i] ? 1 : 0);
  const [accuracyDiff, meanSteps] = bootstrapMeans([diff, stepsRule], opts);
  return {
    n,
    accuracyDiff,
    meanSteps,
    mcnemar: mcnemarOf(okRule, okFull),
    resamples: opts.resamples ?? 2000,
    seed: opts.seed ?? 1,
    level: opts.level ?? 0.95,
  };
}

function pts(x: number): string {
  const v = x * 100;
  return `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(2)}`;
}

/**
 * The "no loss" claim as the data allow it to be made: the paired difference with its interval,
 * and what the interval excludes. Example: "+0.00 points [−1.28, +1.28] (McNemar p = 1.00): a loss
 * larger than 1.28 points is excluded at 95 %; no loss is not shown beyond that."
 */
export function noLossStatement(c: PairedComparison): string {
  const d = c.accuracyDiff;
  if (!(c.n > 0)) return 'no samples';
  const level = `${Math.round(c.level * 100)} %`;
  const head = `${pts(d.value)} points [${pts(d.lo)}, ${pts(d.hi)}] (paired bootstrap, ${level}; McNemar p = ${c.mcnemar.p.toPrecision(2)}, ${c.mcnemar.b} gained / ${c.mcnemar.c} lost)`;
  if (d.hi < 0) return `${head}: a loss, significant at ${level}.`;
  if (d.lo > 0) return `${head}: a gain, significant at ${level}.`;
  if (d.lo === 0 && d.hi === 0) return `${head}: not one sample changed its answer.`;
  return `${head}: no significant difference; a loss larger than ${Math.abs(d.lo * 100).toFixed(2)} points is excluded at ${level}.`;
}
