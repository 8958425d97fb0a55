/**
 * Upper bounds for any early-exit rule on a given SNN (they read the labels, so they are not
 * deployable; they say how much a perfect decision-maker could gain).
 *
 *  - 'first-correct' (the paper, Fig. 1): stop each sample at the first step whose prediction is
 *    correct; samples never correct run to T (and are wrong). Accuracy = fraction of samples that
 *    are correct at some step.
 *  - 'stays-correct' (SNNCutoff's stricter bound): stop at the first step after which the
 *    prediction stays correct up to T; samples wrong at T run to T. Accuracy = full-T accuracy.
 */
import type { ConfidenceTrace } from './trace';

export type OracleKind = 'first-correct' | 'stays-correct';

export interface OracleResult {
  readonly kind: OracleKind;
  readonly accuracy: number;
  readonly meanSteps: number;
  readonly correct: number;
  readonly n: number;
  /** Steps used by each sample (1..T). */
  readonly stepsUsed: Int32Array;
}

/**
 * Runs an oracle over every sample: `correctStop(row, y)` is the step (1..T) at which the sample
 * whose predictions start at `predicted[row]` stops correct, or 0 when it never does (it then
 * runs to T and is wrong).
 */
function runOracle(kind: OracleKind, trace: ConfidenceTrace, correctStop: (row: number, y: number) => number): OracleResult {
  const { n, steps: T, labels } = trace;
  const stepsUsed = new Int32Array(n);
  let correct = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const stop = correctStop(i * T, labels[i]);
    if (stop > 0) correct++;
    stepsUsed[i] = stop > 0 ? stop : T;
    total += stepsUsed[i];
  }
  return {
    kind,
    accuracy: n > 0 ? correct / n : NaN,
    meanSteps: n > 0 ? total / n : NaN,
    correct,
    n,
    stepsUsed,
  };
}

/** The paper's oracle: stop at the first correct step. */
export function oracleFirstCorrect(trace: ConfidenceTrace): OracleResult {
  const { steps: T, predicted } = trace;
  return runOracle('first-correct', trace, (row, y) => {
    let t = 0;
    while (t < T && predicted[row + t] !== y) t++;
    return t < T ? t + 1 : 0;
  });
}

/** The stricter oracle: stop at the first step from which the prediction stays correct to T. */
export function oracleStaysCorrect(trace: ConfidenceTrace): OracleResult {
  const { steps: T, predicted } = trace;
  return runOracle('stays-correct', trace, (row, y) => {
    let t = T - 1;
    while (t >= 0 && predicted[row + t] === y) t--;
    // t is the last wrong step (−1 when never wrong); wrong at T is never correct.
    return t === T - 1 ? 0 : t + 2;
  });
}

export function oracle(trace: ConfidenceTrace, kind: OracleKind): OracleResult {
  return kind === 'first-correct' ? oracleFirstCorrect(trace) : oracleStaysCorrect(trace);
}
