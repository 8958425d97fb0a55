/**
 * How well a shown confidence means what it says: the reliability diagram and the expected
 * calibration error of (confidence, right or wrong) pairs, with a bootstrap interval.
 *
 *     ECE = Σ_b (|B_b| / N) · |acc(B_b) − conf(B_b)|,   10 equal-width bins (lo, hi] over [0, 1]
 *
 * The pairs are whatever a user is shown: one per decision (windowed: the answer at the stopping
 * step; live: every decision, confident or not, a decision outside every gesture window counting as
 * wrong), or one per step of every sample (the viewer's chart). Pairs of one sample are resampled
 * together (`groups`), so the interval does not pretend that a sample's 16 steps are 16 samples.
 */
import { mulberry32 } from '../prng';
import type { BootstrapOptions, Interval } from './stats';

export const ECE_BINS = 10;

export interface ReliabilityDiagram {
  readonly bins: number;
  readonly n: number;
  readonly count: number[];
  /** Mean confidence and accuracy of each bin (null when empty). */
  readonly confidence: (number | null)[];
  readonly accuracy: (number | null)[];
  readonly ece: number;
  /** Mean confidence and accuracy over all pairs. */
  readonly meanConfidence: number;
  readonly accuracyAll: number;
}

function binOf(c: number, bins: number): number {
  return Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
}

/** ECE of the pairs at `idx` (all when undefined), allocation-free apart from the bin sums. */
function eceOf(conf: ArrayLike<number>, correct: ArrayLike<number>, bins: number, idx?: ArrayLike<number>, count = new Float64Array(bins), sumC = new Float64Array(bins), sumY = new Float64Array(bins)): number {
  count.fill(0);
  sumC.fill(0);
  sumY.fill(0);
  const n = idx ? idx.length : conf.length;
  for (let j = 0; j < n; j++) {
    const i = idx ? idx[j] : j;
    const b = binOf(conf[i], bins);
    count[b]++;
    sumC[b] += conf[i];
    sumY[b] += correct[i] ? 1 : 0;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) e += Math.abs(sumY[b] - sumC[b]);
  return n > 0 ? e / n : NaN;
}

/** ECE alone (see the file comment). */
export function expectedCalibrationErrorOf(conf: ArrayLike<number>, correct: ArrayLike<number>, bins = ECE_BINS): number {
  if (conf.length !== correct.length) throw new RangeError(`ECE: ${conf.length} confidences, ${correct.length} outcomes`);
  return eceOf(conf, correct, bins);
}

/** The reliability diagram and its ECE. */
export function reliabilityDiagram(conf: ArrayLike<number>, correct: ArrayLike<number>, bins = ECE_BINS): ReliabilityDiagram {
  if (conf.length !== correct.length) throw new RangeError(`reliability: ${conf.length} confidences, ${correct.length} outcomes`);
  if (!(Number.isInteger(bins) && bins >= 1)) throw new RangeError(`reliability: bins must be a positive integer (got ${bins})`);
  const count = new Float64Array(bins);
  const sumC = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  const ece = eceOf(conf, correct, bins, undefined, count, sumC, sumY);
  let c = 0;
  let y = 0;
  for (let b = 0; b < bins; b++) (c += sumC[b]), (y += sumY[b]);
  const n = conf.length;
  return {
    bins,
    n,
    count: Array.from(count),
    confidence: Array.from(count, (k, b) => (k > 0 ? sumC[b] / k : null)),
    accuracy: Array.from(count, (k, b) => (k > 0 ? sumY[b] / k : null)),
    ece,
    meanConfidence: n > 0 ? c / n : NaN,
    accuracyAll: n > 0 ? y / n : NaN,
  };
}

/**
 * ECE with a percentile bootstrap interval: resamples the groups (default: each pair its own group)
 * with replacement, `resamples` times (default 2000, seed 1).
 */
export function eceInterval(conf: ArrayLike<number>, correct: ArrayLike<number>, groups?: ArrayLike<number>, opts: BootstrapOptions = {}, bins = ECE_BINS): Interval {
  const n = conf.length;
  if (correct.length !== n || (groups && groups.length !== n)) throw new RangeError('eceInterval: arrays of different lengths');
  const value = eceOf(conf, correct, bins);
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN };
  const members = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const g = groups ? groups[i] : i;
    let m = members.get(g);
    if (!m) members.set(g, (m = []));
    m.push(i);
  }
  const groupList = [...members.values()];
  const B = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  const rand = mulberry32(opts.seed ?? 1);
  const draws = new Float64Array(B);
  const idx: number[] = [];
  const count = new Float64Array(bins);
  const sumC = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let r = 0; r < B; r++) {
    idx.length = 0;
    for (let j = 0; j < groupList.length; j++) for (const i of groupList[Math.floor(rand() * groupList.length)]) idx.push(i);
    draws[r] = eceOf(conf, correct, bins, idx, count, sumC, sumY);
  }
  draws.sort();
  const q = (p: number) => {
    const at = p * (B - 1);
    const lo = Math.floor(at);
    return draws[lo] + (draws[Math.ceil(at)] - draws[lo]) * (at - lo);
  };
  const a = (1 - level) / 2;
  return { value, lo: q(a), hi: q(1 - a) };
}
