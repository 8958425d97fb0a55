/**
 * What the windowed report says about the confidence a user is shown, on the test split:
 *
 *  - its calibration: ECE (10 bins) with a bootstrap interval and the reliability diagram, over the
 *    decisions (one per sample, at its stopping step) and over every step of every sample (what the
 *    viewer's chart shows; resampled by sample), for the calibrated probability and the paper's c_t;
 *  - each stop rule (calibrated q_t ≥ θ, the paper's c_t > θ) at its validation θ: accuracy, mean
 *    steps, the paired difference with the SNN at T, and the oracle gap — achieved mean steps minus
 *    the first-correct oracle's (the paper's upper bound: every sample stopped at its first correct
 *    step), with the paired difference of the two rules' steps.
 */
import { bootstrapMeans, oracleFirstCorrect, terminationSteps, thetaOutcome, wilson, type BootstrapOptions, type ConfidenceTrace, type Interval } from '../confidence';
import type { StopRule } from '../confidence/decide';
import { eceInterval, reliabilityDiagram, type ReliabilityDiagram } from '../confidence/reliability';
import type { StoredOperatingPoint } from '../snn/model/operating-points';

/** Calibration of one confidence: over the decisions, and over every step. */
export interface ConfidenceQuality {
  readonly decisions: { readonly ece: Interval; readonly reliability: ReliabilityDiagram };
  readonly steps: { readonly ece: Interval; readonly reliability: ReliabilityDiagram };
}

/** One stop rule on the test split at its validation θ. */
export interface StopRuleResult {
  readonly stopRule: StopRule;
  readonly theta: number;
  /** The rule that chose θ on validation, e.g. "paper no-loss, ε = 0, every θ". */
  readonly thetaRule: string;
  readonly accuracy: Interval;
  readonly meanSteps: Interval;
  /** Accuracy minus the SNN at T (paired bootstrap). */
  readonly accuracyDiff: Interval;
  /** Achieved mean steps minus the first-correct oracle's. */
  readonly oracleGap: number;
}

export interface ShownConfidence {
  /** The confidence decisions show (the deployed stop rule's). */
  readonly shown: StopRule;
  readonly quality: Partial<Record<StopRule, ConfidenceQuality>>;
  readonly rules: StopRuleResult[];
  readonly oracle: { readonly accuracy: number; readonly meanSteps: number };
  /** Mean steps of the calibrated rule minus the paper's, per sample, paired bootstrap (both rules present). */
  readonly stepsCalibratedMinusPaper?: Interval;
}

/** Confidence and correctness of each sample's decision at θ. */
function decisionPairs(trace: ConfidenceTrace, theta: number): { conf: Float64Array; ok: Uint8Array; steps: Int32Array } {
  const T = trace.steps;
  const steps = terminationSteps(trace, theta);
  const conf = new Float64Array(trace.n);
  const ok = new Uint8Array(trace.n);
  for (let i = 0; i < trace.n; i++) {
    const j = i * T + steps[i] - 1;
    conf[i] = trace.confidence[j];
    ok[i] = trace.predicted[j] === trace.labels[i] ? 1 : 0;
  }
  return { conf, ok, steps };
}

/** Calibration of a trace's confidence at θ (decisions) and at every step. */
export function confidenceQuality(trace: ConfidenceTrace, theta: number, boot: BootstrapOptions = {}): ConfidenceQuality {
  const d = decisionPairs(trace, theta);
  const T = trace.steps;
  const ok = new Uint8Array(trace.n * T);
  const group = new Int32Array(trace.n * T);
  for (let j = 0; j < ok.length; j++) {
    const i = Math.floor(j / T);
    ok[j] = trace.predicted[j] === trace.labels[i] ? 1 : 0;
    group[j] = i;
  }
  return {
    decisions: { ece: eceInterval(d.conf, d.ok, undefined, boot), reliability: reliabilityDiagram(d.conf, d.ok) },
    steps: { ece: eceInterval(trace.confidence, ok, group, boot), reliability: reliabilityDiagram(trace.confidence, ok) },
  };
}

/** "paper no-loss, ε = 0, every θ" from a stored stop rule's summary. */
function thetaRuleLabel(entry: Readonly<Record<string, unknown>>, rule: StopRule): string {
  const r = ((entry.stopRules ?? {}) as Record<string, Record<string, unknown> | undefined>)[rule];
  if (!r) return 'given';
  const grid = r.grid === 'exact' ? 'every θ' : r.grid === 'paper' ? "the paper's 0.1 grid" : 'the extended grid';
  return r.rule === 'non-inferior' ? `non-inferior, δ = ${String(r.tolerance)}, ${grid}` : `paper no-loss, ε = ${String(r.tolerance)}, ${grid}`;
}

/** The report section's figures (see the file comment). */
export function shownConfidence(traces: Partial<Record<StopRule, ConfidenceTrace>>, stored: StoredOperatingPoint, boot: BootstrapOptions = {}): ShownConfidence {
  const quality: Partial<Record<StopRule, ConfidenceQuality>> = {};
  const rules: StopRuleResult[] = [];
  const steps: Partial<Record<StopRule, Int32Array>> = {};
  const any = traces.calibrated ?? traces.paper;
  if (!any) throw new RangeError('shownConfidence: no trace');
  const oracle = oracleFirstCorrect(any);
  for (const rule of ['calibrated', 'paper'] as const) {
    const trace = traces[rule];
    const theta = stored.thetas[rule];
    if (!trace || theta === undefined) continue;
    quality[rule] = confidenceQuality(trace, theta, boot);
    const o = thetaOutcome(trace, theta, boot);
    steps[rule] = terminationSteps(trace, theta);
    rules.push({
      stopRule: rule,
      theta,
      thetaRule: thetaRuleLabel(stored.entry, rule),
      accuracy: { value: o.accuracy, ...wilsonEnds(o.accuracy, trace.n) },
      meanSteps: o.comparison.meanSteps,
      accuracyDiff: o.comparison.accuracyDiff,
      oracleGap: o.meanSteps - oracle.meanSteps,
    });
  }
  let stepsCalibratedMinusPaper: Interval | undefined;
  if (steps.calibrated && steps.paper) {
    const diff = new Float64Array(steps.calibrated.length);
    for (let i = 0; i < diff.length; i++) diff[i] = steps.calibrated[i] - steps.paper[i];
    stepsCalibratedMinusPaper = bootstrapMeans([diff], boot)[0];
  }
  return {
    shown: stored.stopRule,
    quality,
    rules,
    oracle: { accuracy: oracle.accuracy, meanSteps: oracle.meanSteps },
    ...(stepsCalibratedMinusPaper ? { stepsCalibratedMinusPaper } : {}),
  };
}

function wilsonEnds(accuracy: number, n: number): { lo: number; hi: number } {
  const w = wilson(Math.round(accuracy * n), n);
  return { lo: w.lo, hi: w.hi };
}
