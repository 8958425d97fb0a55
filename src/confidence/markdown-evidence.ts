/**
 * The report sections a reviewer needs beyond the paper's tables: whether Dynamic Confidence loses
 * accuracy (with intervals), where the SNN's accuracy comes from (matched ANN baselines), whether
 * the conversion is faithful (constant input), and how the θ rules transfer from validation to test.
 */
import { num, numCi, pct, pctCi, pointsCi, table, thetaStr } from './markdown-format';
import type { EvaluationResult, ThetaRuleOutcome } from './report';
import { wilson } from './stats';

/** "Does Dynamic Confidence lose accuracy?" — the paired comparison in words and numbers. */
export function uncertaintySection(r: EvaluationResult): string[] {
  const u = r.uncertainty;
  if (!u) return [];
  const c = u.dcVsFullT;
  const saving = (s: number) => `${num((1 - s / r.T) * 100, 1)} %`;
  return [
    '## Does Dynamic Confidence lose accuracy? (95 % intervals)',
    '',
    `- Accuracy, Dynamic Confidence − SNN at T: ${u.noLoss}`,
    `- Mean steps with Dynamic Confidence: ${numCi(c.meanSteps)} of T = ${r.T} (saving ${saving(c.meanSteps.value)}, ` +
      `[${saving(c.meanSteps.hi)}, ${saving(c.meanSteps.lo)}]).`,
    `- Intervals: Wilson score for accuracies; paired percentile bootstrap (${c.resamples} resamples of the ${c.n} samples, seed ${c.seed}) ` +
      'for the difference and the mean steps; exact McNemar test on the samples whose answer changed.',
    '',
  ];
}

/** Steps to show in a per-step table: all up to 16, else about 16 spread evenly (first and last kept). */
function shownSteps(T: number): number[] {
  if (T <= 16) return Array.from({ length: T }, (_, i) => i + 1);
  const out = new Set<number>();
  for (let j = 0; j < 16; j++) out.add(1 + Math.round((j * (T - 1)) / 15));
  return [...out];
}

/** Matched baselines: the SNN at step t beside the ANN on what the SNN has seen by step t. */
export function matchedSection(r: EvaluationResult): string[] {
  const m = r.matched;
  const n = r.n;
  if (!m || !r.perStep || n === undefined) return [];
  const w = (acc: number) => pctCi(acc, wilson(Math.round(acc * n), n), 1);
  const rows = shownSteps(r.T).map((t) => [
    String(t),
    w(r.perStep!.accuracy[t - 1]),
    w(m.annPrefixMean[t - 1]),
    w(m.annEnsemble[t - 1]),
    pct(m.agreementPerStep[t - 1], 1),
  ]);
  let best = 0;
  for (let t = 1; t < m.annPrefixMean.length; t++) if (m.annPrefixMean[t] > m.annPrefixMean[best]) best = t;
  return [
    '## Matched baselines — where the SNN’s accuracy comes from',
    '',
    'At step t the SNN has integrated frames 1..t. Beside its accuracy: the ANN on the mean of frames 1..t ' +
      '(what a rate-coded SNN approximates, and the ANN’s training input), and the ANN’s logits averaged over ' +
      'frames 1..t, each frame alone (an ensemble). Acc(ANN) in Table 1 is the first of these at t = T. ' +
      `The ANN is best on the mean of the first ${best + 1} frames (${pct(m.annPrefixMean[best])} %).`,
    '',
    table(['t', 'SNN at step t (%)', 'ANN, mean of frames 1..t (%)', 'ANN logits averaged over frames 1..t (%)', 'argmax agreement SNN / ANN mean (%)'], rows),
    '',
  ];
}

/** The conversion check on a constant input. */
export function conversionSection(r: EvaluationResult): string[] {
  const c = r.conversionCheck;
  if (!c) return [];
  return [
    '## Conversion check — constant input',
    '',
    `The SNN fed the mean of the first ${c.T} frames at each of ${c.T} steps, against the ANN on that same mean frame ` +
      `(${c.n} samples). This separates the conversion (quantization, unevenness) from the input’s temporal structure.`,
    '',
    table(
      ['Input', 'ANN (%)', `SNN at T = ${c.T} (%)`, 'argmax agreement (%)'],
      [[`mean of frames 1..${c.T}, at every step`, pctCi(c.accAnn, wilson(c.correctAnn, c.n)), pctCi(c.accSnn, wilson(c.correctSnn, c.n)), pctCi(c.agreement, wilson(c.agree, c.n))]],
    ),
    '',
  ];
}

/** What a rule promised on validation and whether the evaluated split keeps it (point) and confirms it (95 % lower bound). */
export function rulePromise(o: ThetaRuleOutcome): { promise: string; kept: boolean; confirmed: boolean } {
  const tol = o.tolerance;
  const d = o.test.accuracyDiff;
  const promise = tol === 0 ? 'no loss' : `loss < ${pct(tol)} points`;
  return { promise, kept: d.value >= -tol - 1e-12, confirmed: d.lo >= -tol - 1e-12 };
}

function ruleName(o: ThetaRuleOutcome): string {
  const grid = o.grid === 'paper' ? "paper's 0.1 grid" : o.grid === 'extended' ? '0.1 grid + 0.95, 0.99 (extension)' : 'every distinct θ';
  const tol = o.rule === 'paper' ? `ε = ${pct(o.tolerance, 1)} points` : `δ = ${pct(o.tolerance, 1)} points`;
  return `${o.rule}${o.deployed ? ' (deployed)' : ''}, ${grid}, ${tol}`;
}

/** θ rules: chosen on validation, checked on this split. */
export function thetaRulesSection(r: EvaluationResult): string[] {
  const rules = r.thetaRules;
  if (!rules || rules.length === 0) return [];
  const rows = rules.map((o) => [
    ruleName(o),
    thetaStr(o.theta),
    pct(o.validation.accuracy),
    pointsCi(o.validation.accuracyDiff),
    num(o.validation.meanSteps),
    pct(o.test.accuracy),
    pointsCi(o.test.accuracyDiff),
    numCi(o.test.meanStepsInterval),
  ]);
  const split = r.split ?? 'test';
  const lines = [
    '## θ rules — chosen on validation, checked on this split',
    '',
    "- paper: the lowest mean steps whose validation accuracy is at least the full-T SNN's − ε (the paper's rule; ε = 0 is \"no accuracy loss\"), over every distinct θ or over the grid. Its promise: DC − T ≥ −ε.",
    '- non-inferior: the lowest mean steps on the grid whose 95 % paired interval of (DC − full-T accuracy) on validation lies above −δ. Its promise: a loss below δ (DC − T ≥ −δ).',
    `- kept: the promise holds for the ${split} point estimate; confirmed: it holds for the lower end of the ${split} 95 % interval.`,
    '',
    table(
      ['Rule', 'θ', 'val acc (%)', 'val DC − T (points)', 'val mean steps', `${split} acc (%)`, `${split} DC − T (points)`, `${split} mean steps`, 'promise', 'kept', 'confirmed'],
      rules.map((o, i) => {
        const p = rulePromise(o);
        return [...rows[i], p.promise, p.kept ? 'yes' : 'no', p.confirmed ? 'yes' : 'no'];
      }),
    ),
    '',
  ];
  if (rules.length > 1) {
    const kept = rules.filter((o) => rulePromise(o).kept);
    const broken = rules.filter((o) => !rulePromise(o).kept);
    lines.push(
      broken.length === 0
        ? `Transfer: every rule kept its validation promise on ${split}.`
        : kept.length === 0
          ? `Transfer: no rule kept its validation promise on ${split}.`
          : `Transfer: kept on ${split} by ${kept.map(ruleName).join('; ')}; broken by ${broken.map(ruleName).join('; ')}.`,
    );
    lines.push('');
  }
  return lines;
}
