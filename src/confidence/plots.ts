/**
 * The paper's figures from a report, as self-contained SVG strings (no dependencies, no I/O):
 *  - Fig. 1: accuracy against mean time steps — the SNN stopped at a fixed t (its baseline over t),
 *    the matched ANN baselines over t, Dynamic Confidence's Pareto front over every θ, both oracles;
 *  - Fig. 2: accuracy and mean confidence against t, with and without α (confidence saturation);
 *  - Fig. 3: accuracy against mean time steps for the θ grid, with the chosen θ of each rule;
 *  - Fig. 4: the histogram of termination steps with its cumulative curve.
 * Accuracy curves carry Wilson 95 % bands when the sample count is known.
 */
import type { AccuracySteps, EvaluationResult, PerStepStats, TerminationHistogram } from './report';
import { wilson } from './stats';
import { axes, band, COLORS, DEFAULT_LAYOUT, escapeXml, extent, f, H, legend, M, marker, niceTicks, open, polyline, scale, W, WIDE_LAYOUT, type Layout, type LegendItem } from './svg';
import { PAPER_THETA_GRID, type CurvePoint } from './threshold';

export { escapeXml, niceTicks } from './svg';

/** Wilson 95 % band (in %) of per-step accuracies over n samples. */
function wilsonBand(acc: readonly number[], n: number): { lo: number[]; hi: number[] } {
  const lo: number[] = [];
  const hi: number[] = [];
  for (const a of acc) {
    const w = wilson(Math.round(a * n), n);
    lo.push(w.lo * 100);
    hi.push(w.hi * 100);
  }
  return { lo, hi };
}

/** An accuracy (%) axis over the values given, padded, clipped to [0, 100]. */
function accuracyScale(values: number[], layout: Layout = DEFAULT_LAYOUT): ReturnType<typeof scale> {
  const [lo, hi] = extent(values, 0.08);
  const a = Math.max(0, lo);
  const b = Math.min(100, hi);
  return scale(a, b > a ? b : a + 1, layout.h - layout.m.bottom, layout.m.top);
}

/** The legend in the right margin of a wide figure. */
function sideLegend(parts: string[], items: readonly LegendItem[], layout: Layout): void {
  legend(parts, items, layout.w - layout.m.right + 24, layout.m.top + 14);
}

export interface AccuracyStepsInput {
  readonly T: number;
  /** SNN accuracy at step t, t = 1..T. */
  readonly snnPerStep: readonly number[];
  readonly annPrefixMean?: readonly number[];
  readonly annEnsemble?: readonly number[];
  /** Dynamic Confidence's Pareto front over every θ. */
  readonly pareto: readonly CurvePoint[];
  readonly chosen?: AccuracySteps & { readonly theta: number };
  readonly oracles?: { readonly firstCorrect?: AccuracySteps; readonly staysCorrect?: AccuracySteps };
  /** Samples (for the Wilson band of the SNN's curve). */
  readonly n?: number;
}

/** Fig. 1: accuracy against mean time steps. */
export function plotAccuracySteps(input: AccuracyStepsInput, title = 'Fig. 1 — accuracy against mean time steps'): string {
  const T = input.T;
  const ts = Array.from({ length: T }, (_, i) => i + 1);
  const pct = (a: readonly number[] | undefined) => (a ?? []).map((v) => v * 100);
  const bandPts = input.n ? wilsonBand(input.snnPerStep, input.n) : undefined;
  const ys = [...pct(input.snnPerStep), ...pct(input.annPrefixMean), ...pct(input.annEnsemble), ...input.pareto.map((p) => p.accuracy * 100)];
  for (const o of [input.oracles?.firstCorrect, input.oracles?.staysCorrect, input.chosen]) if (o) ys.push(o.accuracy * 100);
  if (bandPts) ys.push(...bandPts.lo, ...bandPts.hi);
  const L = WIDE_LAYOUT;
  const parts = open(title, L);
  const x = scale(0, Math.max(2, T), L.m.left, L.w - L.m.right);
  const y = accuracyScale(ys, L);
  axes(parts, x, y, 'mean time steps', 'accuracy (%)', { layout: L });
  const items: LegendItem[] = [];
  if (bandPts) {
    parts.push(band(ts, bandPts.lo, bandPts.hi, x, y, COLORS[0], 'band snn'));
    items.push({ label: 'SNN at t: Wilson 95 % band', color: COLORS[0], band: true });
  }
  parts.push(polyline(ts, pct(input.snnPerStep), x, y, COLORS[0], false, 'series snn-over-t'));
  items.push({ label: 'SNN stopped at t (baseline)', color: COLORS[0] });
  if (input.annPrefixMean) {
    parts.push(polyline(ts, pct(input.annPrefixMean), x, y, COLORS[5], true, 'series ann-prefix-mean'));
    items.push({ label: 'ANN on mean of frames 1..t', color: COLORS[5], dash: true });
  }
  if (input.annEnsemble) {
    parts.push(polyline(ts, pct(input.annEnsemble), x, y, '#7f7f7f', '2 3', 'series ann-ensemble'));
    items.push({ label: 'ANN logits averaged, frames 1..t', color: '#7f7f7f', dash: '2 3' });
  }
  const front = [...input.pareto].sort((a, b) => a.meanSteps - b.meanSteps);
  parts.push(polyline(front.map((p) => p.meanSteps), front.map((p) => p.accuracy * 100), x, y, COLORS[2], false, 'series pareto'));
  items.push({ label: 'Dynamic Confidence, Pareto front', color: COLORS[2] });
  const orc: [AccuracySteps | undefined, string, string][] = [
    [input.oracles?.firstCorrect, 'oracle: first correct step', COLORS[4]],
    [input.oracles?.staysCorrect, 'oracle: correct from then on', COLORS[1]],
  ];
  for (const [o, label, color] of orc) {
    if (!o) continue;
    parts.push(marker('triangle', x(o.meanSteps), y(o.accuracy * 100), color, 4, `${label}: ${(o.accuracy * 100).toFixed(2)} % in ${o.meanSteps.toFixed(2)} steps`, 'oracle'));
    items.push({ label, color, marker: 'triangle' });
  }
  if (input.chosen) {
    const c = input.chosen;
    parts.push(marker('ring', x(c.meanSteps), y(c.accuracy * 100), COLORS[3], 4, `θ = ${c.theta}`, 'chosen'));
    items.push({ label: `chosen θ = ${c.theta.toPrecision(3)}`, color: COLORS[3], marker: 'ring' });
  }
  sideLegend(parts, items, L);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Fig. 2: accuracy and mean confidence (with and without α) against the time step t. */
export function plotAccuracyConfidence(perStep: PerStepStats, title = 'Fig. 2 — accuracy and mean confidence against t', n?: number): string {
  const T = perStep.accuracy.length;
  const ts = Array.from({ length: T }, (_, i) => i + 1);
  const parts = open(title);
  const x = scale(1, Math.max(2, T), M.left, W - M.right);
  const y = scale(0, 1, H - M.bottom, M.top);
  axes(parts, x, y, 'time step t', 'accuracy / mean confidence');
  const items: LegendItem[] = [];
  if (n) {
    const b = wilsonBand(perStep.accuracy, n);
    parts.push(band(ts, b.lo.map((v) => v / 100), b.hi.map((v) => v / 100), x, y, COLORS[0], 'band accuracy'));
    items.push({ label: 'accuracy: Wilson 95 % band', color: COLORS[0], band: true });
  }
  parts.push(polyline(ts, perStep.accuracy, x, y, COLORS[0], false, 'series accuracy'));
  items.push({ label: 'accuracy', color: COLORS[0] });
  if (perStep.meanConfidenceNoAlpha) {
    parts.push(polyline(ts, perStep.meanConfidenceNoAlpha, x, y, COLORS[1], true, 'series confidence-no-alpha'));
    items.push({ label: 'mean confidence, no α', color: COLORS[1], dash: true });
  }
  parts.push(polyline(ts, perStep.meanConfidenceAlpha, x, y, COLORS[2], false, 'series confidence-alpha'));
  items.push({ label: 'mean confidence, with α', color: COLORS[2] });
  legend(parts, items, W - M.right - 210, H - M.bottom - 16 - 18 * (items.length - 1));
  parts.push('</svg>');
  return parts.join('\n');
}

export interface ThetaGridInput {
  /** Grid points (θ with accuracy and mean steps). */
  readonly grid: readonly CurvePoint[];
  /** Full-T baseline. */
  readonly fullT: AccuracySteps;
  /** Samples (for the baseline's Wilson band). */
  readonly n?: number;
  /** Each rule's chosen θ with what it gives on this split (a θ off the grid is drawn at its own point). */
  readonly chosen?: readonly (AccuracySteps & { readonly label: string; readonly theta: number })[];
}

/** Fig. 3: the θ grid's points (accuracy against mean steps), labelled by θ, with each rule's choice. */
export function plotThetaGrid(input: ThetaGridInput, title = "Fig. 3 — the θ grid: accuracy against mean time steps"): string {
  const isPaper = (th: number) => PAPER_THETA_GRID.some((g) => Math.abs(g - th) < 1e-9);
  const pts = [...input.grid].filter((p) => Number.isFinite(p.accuracy)).sort((a, b) => b.theta - a.theta);
  const paper = pts.filter((p) => isPaper(p.theta));
  const ext = pts.filter((p) => !isPaper(p.theta));
  const base = input.n ? wilson(Math.round(input.fullT.accuracy * input.n), input.n) : undefined;
  const ys = [...pts.map((p) => p.accuracy * 100), ...(input.chosen ?? []).map((c) => c.accuracy * 100), input.fullT.accuracy * 100];
  if (base) ys.push(base.lo * 100, base.hi * 100);
  const [sx0, sx1] = extent([...pts.map((p) => p.meanSteps), input.fullT.meanSteps, 0], 0.06);
  const shapes = ['ring', 'diamond', 'triangle'] as const;
  const L = WIDE_LAYOUT;
  const parts = open(title, L);
  const x = scale(Math.max(0, sx0), sx1, L.m.left, L.w - L.m.right);
  const y = accuracyScale(ys, L);
  axes(parts, x, y, 'mean time steps', 'accuracy (%)', { layout: L });
  const items: LegendItem[] = [];
  if (base) {
    const xs = [x.lo, x.hi];
    parts.push(band(xs, [base.lo * 100, base.lo * 100], [base.hi * 100, base.hi * 100], x, y, '#999999', 'band baseline'));
    items.push({ label: 'SNN at T: Wilson 95 % interval', color: '#999999', band: true });
  }
  const py = f(y(input.fullT.accuracy * 100));
  parts.push(`<line class="baseline" x1="${L.m.left}" y1="${py}" x2="${L.w - L.m.right}" y2="${py}" stroke="#777" stroke-dasharray="3 3"/>`);
  items.push({ label: 'SNN at T', color: '#777', dash: '3 3' });
  const sorted = [...paper].sort((a, b) => a.meanSteps - b.meanSteps);
  parts.push(polyline(sorted.map((p) => p.meanSteps), sorted.map((p) => p.accuracy * 100), x, y, COLORS[0], false, 'series grid'));
  parts.push('<g class="grid-points">');
  // Grid θs that give the same point share one label ("0.0–0.2").
  const groups: { p: CurvePoint; first: number; last: number }[] = [];
  for (const p of [...paper].sort((a, b) => a.theta - b.theta)) {
    const g = groups.find((q) => q.p.meanSteps === p.meanSteps && q.p.accuracy === p.accuracy);
    if (g) g.last = p.theta;
    else groups.push({ p, first: p.theta, last: p.theta });
  }
  for (const { p, first, last } of groups) {
    const label = first === last ? first.toFixed(1) : `${first.toFixed(1)}–${last.toFixed(1)}`;
    parts.push(marker('circle', x(p.meanSteps), y(p.accuracy * 100), COLORS[0], 3.5, `θ = ${label}`));
    parts.push(`<text x="${f(x(p.meanSteps))}" y="${f(y(p.accuracy * 100) - 8)}" text-anchor="middle" font-size="9" fill="${COLORS[0]}">${escapeXml(label)}</text>`);
  }
  for (const p of ext) {
    parts.push(marker('square', x(p.meanSteps), y(p.accuracy * 100), COLORS[1], 3.5, `θ = ${p.theta} (extension)`));
    parts.push(`<text x="${f(x(p.meanSteps))}" y="${f(y(p.accuracy * 100) + 14)}" text-anchor="middle" font-size="9" fill="${COLORS[1]}">${escapeXml(p.theta.toFixed(2))}</text>`);
  }
  parts.push('</g>');
  items.push({ label: "paper's grid θ = 0.0 … 1.0", color: COLORS[0], marker: 'circle' });
  if (ext.length > 0) items.push({ label: 'extension θ = 0.95, 0.99', color: COLORS[1], marker: 'square' });
  const ruleColors = [COLORS[4], COLORS[3], COLORS[2]];
  (input.chosen ?? []).forEach((c, i) => {
    const color = ruleColors[i % ruleColors.length];
    const shape = shapes[i % shapes.length];
    const th = Number.isInteger(c.theta * 100) ? c.theta.toFixed(2) : c.theta.toPrecision(4);
    parts.push(marker(shape, x(c.meanSteps), y(c.accuracy * 100), color, shape === 'ring' ? 5 : 4, `${c.label}: θ = ${th}`, 'chosen'));
    items.push({ label: `${c.label}: θ = ${th}`, color, marker: shape });
  });
  sideLegend(parts, items, L);
  parts.push('</svg>');
  return parts.join('\n');
}

/** Histogram of the steps each sample used, with the cumulative fraction on the right axis. */
export function plotTerminationHistogram(h: TerminationHistogram, title = 'Fig. 4 — termination steps'): string {
  const T = h.counts.length;
  const parts = open(title);
  const x = scale(0.5, T + 0.5, M.left, W - M.right);
  const maxC = Math.max(1, ...h.counts);
  const y = scale(0, maxC * 1.05, H - M.bottom, M.top);
  const y2 = scale(0, 100, H - M.bottom, M.top);
  axes(parts, x, y, 'steps used', 'samples', { y2, y2Label: 'cumulative (%)', xTicks: niceTicks(1, T).filter((v) => Number.isInteger(v) && v >= 1) });
  const bw = Math.max(1, ((W - M.left - M.right) / Math.max(1, T)) * 0.8);
  parts.push('<g class="bars">');
  for (let t = 0; t < T; t++) {
    if (h.counts[t] <= 0) continue;
    const top = y(h.counts[t]);
    parts.push(
      `<rect x="${f(x(t + 1) - bw / 2)}" y="${f(top)}" width="${f(bw)}" height="${f(H - M.bottom - top)}" fill="${COLORS[0]}" fill-opacity="0.7"><title>${t + 1} steps: ${h.counts[t]}</title></rect>`,
    );
  }
  parts.push('</g>');
  parts.push(
    polyline(
      Array.from({ length: T }, (_, i) => i + 1),
      h.cumulative.map((c) => c * 100),
      x,
      y2,
      COLORS[3],
      false,
      'series cumulative',
    ),
  );
  legend(
    parts,
    [
      { label: 'samples', color: COLORS[0], marker: true },
      { label: 'cumulative %', color: COLORS[3] },
    ],
    M.left + 12,
    M.top + 8,
  );
  parts.push('</svg>');
  return parts.join('\n');
}

/** The SVG of each figure a report has the data for. */
export interface ReportFigures {
  readonly accuracySteps?: string;
  readonly accuracyConfidence?: string;
  readonly thetaGrid?: string;
  readonly histogram?: string;
}

/** All figures of a report that has the data for them. */
export function renderPlots(r: EvaluationResult): ReportFigures {
  const chosen = (r.thetaRules ?? []).map((o) => ({
    label: `${o.rule} rule${o.grid === 'exact' ? ', every θ' : ''}${o.deployed ? ' (deployed)' : ''}`,
    theta: o.theta,
    accuracy: o.test.accuracy,
    meanSteps: o.test.meanSteps,
  }));
  if (chosen.length === 0) chosen.push({ label: 'chosen', theta: r.dc.theta, accuracy: r.dc.accuracy, meanSteps: r.dc.meanSteps });
  const label = `${r.mode}, T = ${r.T}`;
  return {
    accuracySteps:
      r.perStep && r.curve
        ? plotAccuracySteps(
            {
              T: r.T,
              snnPerStep: r.perStep.accuracy,
              annPrefixMean: r.matched?.annPrefixMean,
              annEnsemble: r.matched?.annEnsemble,
              pareto: r.curve.pareto,
              chosen: r.chosen ? { ...r.chosen, theta: r.dc.theta } : { ...r.dc },
              oracles: r.oracles,
              n: r.n,
            },
            `Fig. 1 — accuracy against mean time steps (${label})`,
          )
        : undefined,
    accuracyConfidence: r.perStep ? plotAccuracyConfidence(r.perStep, `Fig. 2 — accuracy and mean confidence against t (${label})`, r.n) : undefined,
    thetaGrid:
      r.curve?.grid && r.curve.grid.length > 0
        ? plotThetaGrid({ grid: r.curve.grid, fullT: { accuracy: r.accSnnT, meanSteps: r.T }, n: r.n, chosen }, `Fig. 3 — the θ grid (${label})`)
        : undefined,
    histogram: r.terminationHistogram ? plotTerminationHistogram(r.terminationHistogram, `Fig. 4 — termination steps (${label})`) : undefined,
  };
}
