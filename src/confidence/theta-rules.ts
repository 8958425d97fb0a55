/**
 * Rules that choose θ on a validation trace, and what a chosen θ gives on another trace (test).
 *
 *  - 'paper' (Li et al., §5.3.3): on the paper's grid θ ∈ {0.0, 0.1, …, 0.9} plus θ = 1.0 (the
 *    baseline that never stops early), the lowest mean steps whose validation accuracy is at least
 *    the full-T accuracy − ε ("no accuracy loss" for ε = 0). A point estimate: on a few hundred
 *    samples the chosen θ is the one whose validation accuracy was luckiest at the margin.
 *  - 'non-inferior': on the same grid, the lowest mean steps whose 95 % paired-bootstrap interval of
 *    (DC accuracy − full-T accuracy) lies above −δ (a non-inferiority margin, default 1 point). It
 *    promises "the loss is below δ with 95 % confidence" instead of "no loss on these samples", and
 *    needs more evidence (more samples, fewer answer changes) before it stops early.
 *
 * Grids are named for what they are: 'paper' is the paper's exact 0.1 grid; 'extended' adds 0.95
 * and 0.99 (not in the paper; useful when confidences are high).
 */
import { EXTENDED_THETA_GRID, evaluateThreshold, PAPER_THETA_GRID, terminationSteps, type CurvePoint } from './threshold';
import { comparePaired, type BootstrapOptions, type PairedComparison } from './stats';
import type { ConfidenceTrace } from './trace';

export type ThetaGridName = 'paper' | 'extended';
export type ThetaRuleName = 'paper' | 'non-inferior';

export const THETA_GRIDS: Readonly<Record<ThetaGridName, readonly number[]>> = Object.freeze({
  paper: PAPER_THETA_GRID,
  extended: EXTENDED_THETA_GRID,
});

/** Default non-inferiority margin δ: one percentage point. */
export const DEFAULT_MAX_LOSS = 0.01;

/** What θ gives on one trace: accuracy, mean steps, and the paired comparison with full T. */
export interface ThetaOutcome {
  readonly theta: number;
  readonly accuracy: number;
  readonly meanSteps: number;
  readonly earlyFraction: number;
  readonly accFullT: number;
  readonly comparison: PairedComparison;
}

/** Per-sample correctness at θ and at T, and the steps used at θ. */
export function perSampleAt(trace: ConfidenceTrace, theta: number): { ok: Uint8Array; okFull: Uint8Array; steps: Int32Array } {
  const { n, steps: T } = trace;
  const steps = terminationSteps(trace, theta);
  const ok = new Uint8Array(n);
  const okFull = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = trace.labels[i];
    ok[i] = trace.predicted[i * T + steps[i] - 1] === y ? 1 : 0;
    okFull[i] = trace.predicted[i * T + T - 1] === y ? 1 : 0;
  }
  return { ok, okFull, steps };
}

/** θ applied to a trace (validation or test), with intervals. */
export function thetaOutcome(trace: ConfidenceTrace, theta: number, boot: BootstrapOptions = {}): ThetaOutcome {
  const s = perSampleAt(trace, theta);
  const p = evaluateThreshold(trace, theta);
  let full = 0;
  for (let i = 0; i < trace.n; i++) full += s.okFull[i];
  return {
    theta,
    accuracy: p.accuracy,
    meanSteps: p.meanSteps,
    earlyFraction: p.earlyFraction,
    accFullT: trace.n > 0 ? full / trace.n : NaN,
    comparison: comparePaired(s.ok, s.okFull, s.steps, boot),
  };
}

export interface RuleChoice {
  readonly rule: ThetaRuleName;
  readonly grid: ThetaGridName;
  /** ε for 'paper', δ for 'non-inferior'. */
  readonly tolerance: number;
  readonly theta: number;
  /** The chosen θ on the trace it was chosen on. */
  readonly validation: ThetaOutcome;
}

/** Grid points ordered by mean steps, then higher accuracy, then higher θ (the choice order). */
function byCost(points: CurvePoint[]): CurvePoint[] {
  return [...points].sort((a, b) => a.meanSteps - b.meanSteps || b.accuracy - a.accuracy || b.theta - a.theta);
}

/**
 * Chooses θ on a (validation) trace by one of the rules (see the file comment). The grid always
 * contains θ = 1 (never early), which both rules accept, so a choice always exists.
 */
export function chooseThetaByRule(
  trace: ConfidenceTrace,
  rule: ThetaRuleName,
  options: { readonly grid?: ThetaGridName; readonly epsilon?: number; readonly maxLoss?: number; readonly bootstrap?: BootstrapOptions } = {},
): RuleChoice {
  const grid = options.grid ?? 'paper';
  const thetas = THETA_GRIDS[grid];
  const boot = options.bootstrap ?? {};
  const points = byCost(thetas.map((th) => evaluateThreshold(trace, th)));
  const full = evaluateThreshold(trace, Infinity).accuracy;
  if (rule === 'paper') {
    const epsilon = options.epsilon ?? 0;
    const need = full - epsilon - 1e-12;
    const p = points.find((q) => q.accuracy >= need) ?? evaluateThreshold(trace, Infinity);
    return { rule, grid, tolerance: epsilon, theta: p.theta, validation: thetaOutcome(trace, p.theta, boot) };
  }
  const maxLoss = options.maxLoss ?? DEFAULT_MAX_LOSS;
  if (!(maxLoss >= 0 && maxLoss < 1)) throw new RangeError(`non-inferiority margin must be in [0, 1) (got ${maxLoss})`);
  for (const p of points) {
    // A point that already loses more than δ cannot have its interval above −δ.
    if (p.accuracy < full - maxLoss - 1e-12) continue;
    const o = thetaOutcome(trace, p.theta, boot);
    if (o.comparison.accuracyDiff.lo >= -maxLoss - 1e-12) return { rule, grid, tolerance: maxLoss, theta: p.theta, validation: o };
  }
  return { rule, grid, tolerance: maxLoss, theta: 1, validation: thetaOutcome(trace, 1, boot) };
}

/** A rule's choice on validation and what it gives on test: the transfer a reader checks. */
export interface RuleTransfer extends RuleChoice {
  readonly test: ThetaOutcome;
  /** test (DC − full-T) minus validation (DC − full-T), in accuracy fraction. */
  readonly diffGap: number;
  /** test mean steps minus validation mean steps. */
  readonly stepsGap: number;
}

/** Applies a validation choice to a test trace. */
export function transferRule(choice: RuleChoice, test: ConfidenceTrace, boot: BootstrapOptions = {}): RuleTransfer {
  const t = thetaOutcome(test, choice.theta, boot);
  return {
    ...choice,
    test: t,
    diffGap: t.comparison.accuracyDiff.value - choice.validation.comparison.accuracyDiff.value,
    stepsGap: t.meanSteps - choice.validation.meanSteps,
  };
}
