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

function finish(kind: OracleKind, n: number, correct: number, stepsUsed: Int32Array): OracleResult {
  let total = 0;
  for (let i = 0; i < n; i++) total += stepsUsed[i];
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
  const { n, steps: T, predicted, labels } = trace;
  const stepsUsed = new Int32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    let t = 0;
    while (t < T && predicted[i * T + t] !== y) t++;
    if (t < T) {
      correct++;
      stepsUsed[i] = t + 1;
    } else stepsUsed[i] = T;
  }
  return finish('first-correct', n, correct, stepsUsed);
}

/** The stricter oracle: stop at the first step from which the prediction stays correct to T. */
export function oracleStaysCorrect(trace: ConfidenceTrace): OracleResult {
  const { n, steps: T, predicted, labels } = trace;
  const stepsUsed = new Int32Array(n);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    let t = T - 1;
    while (t >= 0 && predicted[i * T + t] === y) t--;
    // t is the last wrong step (−1 when never wrong).
    if (t === T - 1) stepsUsed[i] = T;
    else {
      correct++;
      stepsUsed[i] = t + 2;
    }
  }
  return finish('stays-correct', n, correct, stepsUsed);
}

export function oracle(trace: ConfidenceTrace, kind: OracleKind): OracleResult {
  return kind === 'first-correct' ? oracleFirstCorrect(trace) : oracleStaysCorrect(trace);
}
