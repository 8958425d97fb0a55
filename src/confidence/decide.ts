/**
 * The Dynamic Confidence decision rule: terminate at the first step t with c_t > θ (strict),
 * otherwise at the last step T. The prediction is argmax O_t at the terminating step.
 *
 * Step convention used throughout src/confidence: `stepIndex` is 0-based (frame.step), and
 * `steps` = stepIndex + 1 is the number of time steps spent (1..T), the quantity averaged in
 * "mean time steps".
 */

/**
 * What a stop rule compares with θ, and how:
 *  - 'calibrated' (the default where a model has a step calibration): the calibrated probability
 *    q_t that the shown class is right (step-calibration.ts), stop when q_t ≥ θ;
 *  - 'paper': the paper's c_t = max softmax(O_t/(α·τ)), stop when c_t > θ (strict, as in the paper).
 */
export type StopRule = 'calibrated' | 'paper';

export const STOP_RULES: readonly StopRule[] = ['calibrated', 'paper'];

/**
 * Per-step test for a streaming operator: stop now iff the score passes θ under `rule`. NaN never stops.
 * θ = 1 never stops under either rule: c_t > 1 is impossible, and a calibrated probability that rounds
 * to exactly 1 in floating point (a saturated softmax) must not turn "never answer early" into answers.
 */
export function shouldStop(c: number, theta: number, rule: StopRule = 'paper'): boolean {
  return rule === 'calibrated' ? c >= theta && theta < 1 : c > theta;
}

export interface DecisionOutcome {
  /** 0-based index of the terminating step. */
  readonly stepIndex: number;
  /** Number of steps used, stepIndex + 1 (1..T). */
  readonly steps: number;
  readonly predicted: number;
  readonly confidence: number;
  /** True when the threshold fired before the last step. */
  readonly early: boolean;
}

/**
 * Applies the rule to one sample's trace: confidence[offset + t] and predicted[offset + t] for
 * t = 0..T-1. A sample with T = 0 steps gives stepIndex -1, predicted -1.
 */
export function decide(
  confidence: ArrayLike<number>,
  predicted: ArrayLike<number>,
  theta: number,
  T: number = confidence.length,
  offset = 0,
): DecisionOutcome {
  if (T <= 0) return { stepIndex: -1, steps: 0, predicted: -1, confidence: NaN, early: false };
  let t = 0;
  while (t < T - 1 && !(confidence[offset + t] > theta)) t++;
  return {
    stepIndex: t,
    steps: t + 1,
    predicted: predicted[offset + t],
    confidence: confidence[offset + t],
    early: t < T - 1,
  };
}

/** 0-based stopping index only (hot path of brute-force evaluation); `inclusive`: stop at c ≥ θ (the calibrated rule). */
export function stopIndex(confidence: ArrayLike<number>, theta: number, T: number, offset = 0, inclusive = false): number {
  let t = 0;
  if (inclusive) while (t < T - 1 && !(confidence[offset + t] >= theta && theta < 1)) t++;
  else while (t < T - 1 && !(confidence[offset + t] > theta)) t++;
  return t;
}
