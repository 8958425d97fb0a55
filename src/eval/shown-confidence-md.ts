/** The windowed report's section on the shown confidence and the stop rules (shown-confidence.ts), and its reliability figure. */
import { plotReliability, type ReliabilitySeries } from '../confidence/plot-reliability';
import type { StopRule } from '../confidence/decide';
import type { Interval } from '../confidence/stats';
import { num, table } from '../confidence/markdown-format';
import type { ShownConfidence } from './shown-confidence';

const CONFIDENCE_NAME: Record<StopRule, string> = { calibrated: 'calibrated q_t', paper: "paper's c_t" };
const RULE_NAME: Record<StopRule, string> = { calibrated: 'q_t ≥ θ (calibrated)', paper: "c_t > θ (paper's)" };

function ci(v: Interval, digits = 3, scale = 1): string {
  return `${(v.value * scale).toFixed(digits)} [${(v.lo * scale).toFixed(digits)}, ${(v.hi * scale).toFixed(digits)}]`;
}

function points(v: Interval): string {
  const p = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(2)}`;
  return `${p(v.value)} [${p(v.lo)}, ${p(v.hi)}]`;
}

/** The reliability diagram of the decisions' confidence (each confidence at its own stop rule's θ). */
export function reliabilityFigure(s: ShownConfidence, title: string): string {
  const series: ReliabilitySeries[] = [];
  for (const rule of ['calibrated', 'paper'] as const) {
    const q = s.quality[rule];
    if (q) series.push({ label: `${CONFIDENCE_NAME[rule]}, decisions`, diagram: q.decisions.reliability, ece: q.decisions.ece });
  }
  return plotReliability(series, title);
}

/** Markdown lines: calibration table, stop-rule table with oracle gaps, the paired steps difference, the figure. */
export function shownConfidenceMarkdown(s: ShownConfidence, split: string, figure?: string): string[] {
  const quality = (['calibrated', 'paper'] as const)
    .filter((r) => s.quality[r])
    .map((r) => {
      const q = s.quality[r]!;
      return [`${CONFIDENCE_NAME[r]}${s.shown === r ? ' (shown)' : ''}`, ci(q.decisions.ece), num(q.decisions.reliability.meanConfidence, 3), num(q.decisions.reliability.accuracyAll, 3), ci(q.steps.ece)];
    });
  const rules = s.rules.map((r) => [
    `${RULE_NAME[r.stopRule]}${s.shown === r.stopRule ? ' (deployed)' : ''}`, r.theta.toPrecision(4), r.thetaRule, ci(r.accuracy, 2, 100), points(r.accuracyDiff), ci(r.meanSteps, 2), num(r.oracleGap, 2),
  ]);
  const lines = [
    `### Shown confidence and stop rules (${split})`,
    '',
    `What a decision shows as \`confidence\` is ${s.shown === 'calibrated' ? 'the calibrated probability q_t = max softmax(O_t/s_t) that its class is right (step scales s_t fitted on validation; src/confidence/step-calibration.ts)' : "the paper's c_t = max softmax(O_t/(α·τ))"}. ECE: 10 equal-width bins, 95 % percentile bootstrap intervals (2000 resamples; every-step pairs resampled by sample; resampling biases ECE upwards, so an interval can sit above its estimate).`,
    '',
    table(['confidence', 'ECE, decisions', 'mean confidence', 'accuracy', 'ECE, every step'], quality),
    '',
    `Stop rules at their validation θ, against the SNN at T and the first-correct oracle (${num(s.oracle.meanSteps, 2)} mean steps at ${num(100 * s.oracle.accuracy, 2)} %); the oracle gap is mean steps minus the oracle's.`,
    '',
    table(['stop rule', 'θ', 'θ chosen by', `accuracy (%)`, 'vs T (points)', 'mean steps', 'oracle gap'], rules),
    '',
  ];
  if (s.stepsCalibratedMinusPaper) lines.push(`Paired difference of steps per sample, calibrated − paper: ${ci(s.stepsCalibratedMinusPaper, 2)}.`, '');
  if (figure) lines.push(`![reliability of the decisions' confidence](${figure})`, '');
  return lines;
}
