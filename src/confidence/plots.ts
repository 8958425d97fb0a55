/**
 * The paper's figures as hand-written, self-contained SVG strings (no dependencies, no I/O):
 *  - accuracy and mean confidence against t, with and without α (Fig. 2 a/b);
 *  - accuracy against mean time steps for every θ, Pareto points and the chosen θ (Fig. 3);
 *  - histogram of termination steps with its cumulative curve.
 */
import type { AccuracySteps, EvaluationResult, PerStepStats, TerminationHistogram } from './report';
import type { CurvePoint } from './threshold';

const W = 640;
const H = 400;
const M = { left: 64, right: 64, top: 40, bottom: 56 };
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function f(x: number): string {
  return Number.isFinite(x) ? (Math.round(x * 100) / 100).toString() : '0';
}

/** "Nice" tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 6): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm >= 5 ? 10 : norm >= 2 ? 5 : norm >= 1 ? 2 : 1) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickLabel(v: number): string {
  const s = Math.abs(v) >= 1000 || Number.isInteger(v) ? v.toFixed(0) : v.toPrecision(3);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

interface Scale {
  (v: number): number;
  lo: number;
  hi: number;
}
function scale(lo: number, hi: number, a: number, b: number): Scale {
  const span = hi - lo || 1;
  const s = ((v: number) => a + ((v - lo) / span) * (b - a)) as Scale;
  s.lo = lo;
  s.hi = hi;
  return s;
}

function extent(values: Iterable<number>, pad = 0): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - 0.5, hi + 0.5];
  const p = (hi - lo) * pad;
  return [lo - p, hi + p];
}

function open(title: string, w = W, h = H): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff"/>`,
    `<text x="${w / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

function axes(
  parts: string[],
  x: Scale,
  y: Scale,
  xLabel: string,
  yLabel: string,
  opts: { y2?: Scale; y2Label?: string; xTicks?: number[] } = {},
): void {
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = H - M.bottom;
  const y1 = M.top;
  parts.push('<g class="axes" stroke="#333" fill="none">');
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}"/>`);
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}"/>`);
  if (opts.y2) parts.push(`<line x1="${x1}" y1="${y0}" x2="${x1}" y2="${y1}"/>`);
  parts.push('</g>');
  parts.push('<g class="ticks" fill="#333">');
  for (const v of opts.xTicks ?? niceTicks(x.lo, x.hi)) {
    const px = x(v);
    parts.push(`<line x1="${f(px)}" y1="${y0}" x2="${f(px)}" y2="${y0 + 5}" stroke="#333"/>`);
    parts.push(`<text x="${f(px)}" y="${y0 + 18}" text-anchor="middle">${escapeXml(tickLabel(v))}</text>`);
  }
  for (const v of niceTicks(y.lo, y.hi)) {
    const py = y(v);
    parts.push(`<line x1="${x0}" y1="${f(py)}" x2="${x1}" y2="${f(py)}" stroke="#eee"/>`);
    parts.push(`<line x1="${x0 - 5}" y1="${f(py)}" x2="${x0}" y2="${f(py)}" stroke="#333"/>`);
    parts.push(`<text x="${x0 - 8}" y="${f(py + 4)}" text-anchor="end">${escapeXml(tickLabel(v))}</text>`);
  }
  if (opts.y2) {
    for (const v of niceTicks(opts.y2.lo, opts.y2.hi)) {
      const py = opts.y2(v);
      parts.push(`<line x1="${x1}" y1="${f(py)}" x2="${x1 + 5}" y2="${f(py)}" stroke="#333"/>`);
      parts.push(`<text x="${x1 + 8}" y="${f(py + 4)}" text-anchor="start">${escapeXml(tickLabel(v))}</text>`);
    }
  }
  parts.push('</g>');
  parts.push(`<text x="${(x0 + x1) / 2}" y="${H - 14}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  parts.push(
    `<text x="16" y="${(y0 + y1) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(y0 + y1) / 2})">${escapeXml(yLabel)}</text>`,
  );
  if (opts.y2 && opts.y2Label) {
    parts.push(
      `<text x="${W - 14}" y="${(y0 + y1) / 2}" text-anchor="middle" transform="rotate(90 ${W - 14} ${(y0 + y1) / 2})">${escapeXml(opts.y2Label)}</text>`,
    );
  }
}

function polyline(xs: readonly number[], ys: readonly number[], x: Scale, y: Scale, color: string, dash = false, cls = 'series'): string {
  const pts: string[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]) && Number.isFinite(ys[i])) pts.push(`${f(x(xs[i]))},${f(y(ys[i]))}`);
  return `<polyline class="${cls}" fill="none" stroke="${color}" stroke-width="2"${dash ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`;
}

function legend(parts: string[], items: readonly { label: string; color: string; dash?: boolean; marker?: boolean }[], x = M.left + 12, y = M.top + 8): void {
  parts.push('<g class="legend">');
  items.forEach((it, i) => {
    const yy = y + i * 18;
    if (it.marker) parts.push(`<circle cx="${x + 12}" cy="${yy}" r="4" fill="${it.color}"/>`);
    else parts.push(`<line x1="${x}" y1="${yy}" x2="${x + 24}" y2="${yy}" stroke="${it.color}" stroke-width="2"${it.dash ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${x + 30}" y="${yy + 4}">${escapeXml(it.label)}</text>`);
  });
  parts.push('</g>');
}

/** Fig. 2: accuracy and mean confidence (with and without α) against the time step t. */
export function plotAccuracyConfidence(perStep: PerStepStats, title = 'Accuracy and mean confidence vs time step'): string {
  const T = perStep.accuracy.length;
  const ts = Array.from({ length: T }, (_, i) => i + 1);
  const parts = open(title);
  const x = scale(1, Math.max(2, T), M.left, W - M.right);
  const y = scale(0, 1, H - M.bottom, M.top);
  axes(parts, x, y, 'time step t', 'accuracy / mean confidence');
  const items: { label: string; color: string; dash?: boolean }[] = [];
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

export interface ParetoPlotInput {
  /** The curve's points (downsample a long exact curve first). */
  readonly points: readonly CurvePoint[];
  readonly pareto: readonly CurvePoint[];
  readonly grid?: readonly CurvePoint[];
  readonly chosen?: CurvePoint;
  /** Full-T baseline (drawn as a horizontal reference). */
  readonly fullT?: AccuracySteps;
  readonly oracles?: { readonly firstCorrect?: AccuracySteps; readonly staysCorrect?: AccuracySteps };
}

/** Fig. 3: accuracy against mean time steps for each θ; Pareto points; chosen θ. */
export function plotParetoCurve(input: ParetoPlotInput, title = 'Accuracy vs mean time steps (every θ)'): string {
  const all: AccuracySteps[] = [...input.points, ...input.pareto, ...(input.grid ?? [])];
  if (input.chosen) all.push(input.chosen);
  if (input.fullT) all.push(input.fullT);
  for (const o of [input.oracles?.firstCorrect, input.oracles?.staysCorrect]) if (o) all.push(o);
  const [sx0, sx1] = extent(
    all.map((p) => p.meanSteps),
    0.05,
  );
  const [ay0, ay1] = extent(
    all.map((p) => p.accuracy * 100),
    0.08,
  );
  const parts = open(title);
  const x = scale(Math.max(0, sx0), sx1, M.left, W - M.right);
  const y = scale(Math.max(0, ay0), Math.min(100, ay1) > Math.max(0, ay0) ? Math.min(100, ay1) : ay1, H - M.bottom, M.top);
  axes(parts, x, y, 'mean time steps', 'accuracy (%)');
  const items: { label: string; color: string; dash?: boolean; marker?: boolean }[] = [];
  if (input.fullT) {
    const py = f(y(input.fullT.accuracy * 100));
    parts.push(`<line class="baseline" x1="${M.left}" y1="${py}" x2="${W - M.right}" y2="${py}" stroke="#999" stroke-dasharray="3 3"/>`);
    items.push({ label: 'SNN at T', color: '#999', dash: true });
  }
  const sorted = [...input.points].sort((a, b) => a.meanSteps - b.meanSteps);
  parts.push(
    polyline(
      sorted.map((p) => p.meanSteps),
      sorted.map((p) => p.accuracy * 100),
      x,
      y,
      '#aec7e8',
      false,
      'series curve',
    ),
  );
  items.push({ label: 'every θ', color: '#aec7e8' });
  parts.push('<g class="pareto">');
  // An exact curve can have thousands of Pareto points: draw at most ~500 markers.
  const every = Math.max(1, Math.ceil(input.pareto.length / 500));
  const shown = input.pareto.filter((_, i) => i % every === 0 || i === input.pareto.length - 1);
  for (const p of shown) {
    parts.push(`<circle cx="${f(x(p.meanSteps))}" cy="${f(y(p.accuracy * 100))}" r="3" fill="${COLORS[0]}"><title>θ=${escapeXml(p.theta.toPrecision(4))}</title></circle>`);
  }
  parts.push('</g>');
  items.push({ label: 'Pareto-efficient', color: COLORS[0], marker: true });
  if (input.grid && input.grid.length > 0) {
    parts.push('<g class="grid-points">');
    for (const p of input.grid) {
      const cx = f(x(p.meanSteps));
      const cy = f(y(p.accuracy * 100));
      parts.push(`<rect x="${f(x(p.meanSteps) - 3.5)}" y="${f(y(p.accuracy * 100) - 3.5)}" width="7" height="7" fill="none" stroke="${COLORS[1]}"/>`);
      parts.push(`<text x="${cx}" y="${f(Number(cy) - 7)}" text-anchor="middle" font-size="9" fill="${COLORS[1]}">${escapeXml(p.theta.toFixed(2))}</text>`);
    }
    parts.push('</g>');
    items.push({ label: 'θ grid (0.1 steps)', color: COLORS[1], marker: true });
  }
  const orc: [AccuracySteps | undefined, string, string][] = [
    [input.oracles?.firstCorrect, 'oracle: first correct', COLORS[4]],
    [input.oracles?.staysCorrect, 'oracle: stays correct', COLORS[5]],
  ];
  for (const [o, label, color] of orc) {
    if (!o) continue;
    parts.push(`<path class="oracle" d="M ${f(x(o.meanSteps))} ${f(y(o.accuracy * 100) - 6)} l 6 10 l -12 0 z" fill="${color}"/>`);
    items.push({ label, color, marker: true });
  }
  if (input.chosen) {
    const c = input.chosen;
    const cx = f(x(c.meanSteps));
    const cy = f(y(c.accuracy * 100));
    parts.push(`<circle class="chosen" cx="${cx}" cy="${cy}" r="7" fill="none" stroke="${COLORS[3]}" stroke-width="2"/>`);
    parts.push(
      `<text class="chosen-label" x="${f(x(c.meanSteps) + 10)}" y="${f(y(c.accuracy * 100) + 16)}" fill="${COLORS[3]}">chosen θ = ${escapeXml(c.theta.toPrecision(4))}</text>`,
    );
    items.push({ label: 'chosen θ', color: COLORS[3], marker: true });
  }
  legend(parts, items, W - M.right - 180, H - M.bottom - 16 - 18 * (items.length - 1));
  parts.push('</svg>');
  return parts.join('\n');
}

/** Histogram of the steps each sample used, with the cumulative fraction on the right axis. */
export function plotTerminationHistogram(h: TerminationHistogram, title = 'Termination steps'): string {
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

/** All figures of a report that has the data for them. */
export function renderPlots(r: EvaluationResult): { accuracyConfidence?: string; pareto?: string; histogram?: string } {
  return {
    accuracyConfidence: r.perStep ? plotAccuracyConfidence(r.perStep) : undefined,
    pareto: r.curve
      ? plotParetoCurve({
          points: r.curve.points,
          pareto: r.curve.pareto,
          grid: r.curve.grid,
          chosen: r.chosen,
          fullT: { accuracy: r.accSnnT, meanSteps: r.T },
          oracles: r.oracles,
        })
      : undefined,
    histogram: r.terminationHistogram ? plotTerminationHistogram(r.terminationHistogram) : undefined,
  };
}
