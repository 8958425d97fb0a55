/**
 * The evaluation report as Markdown, in the paper's table styles (Table 1: accuracy and mean steps;
 * Table 2: wall-clock time; Table 3: spikes per neuron), with Wilson 95 % intervals on accuracies,
 * and the evidence sections of markdown-evidence.ts.
 */
import { conversionSection, matchedSection, thetaRulesSection, uncertaintySection } from './markdown-evidence';
import { num, numCi, pct, pctCi, table, thetaStr } from './markdown-format';
import type { EvaluationResult } from './report';
import { PAPER_THETA_GRID } from './threshold';

/** Relative paths of the figures: Fig. 1–3 of the paper and the termination histogram (its Fig. 4). */
export interface FigureFiles {
  readonly accuracySteps?: string;
  readonly accuracyConfidence?: string;
  readonly thetaGrid?: string;
  readonly histogram?: string;
}

export interface MarkdownOptions {
  /** Relative paths of the SVG figures to link, when the caller writes them. */
  readonly figures?: FigureFiles;
  /** Max rows of the Pareto table. */
  readonly maxParetoRows?: number;
}

/** The report as Markdown, in the paper's table styles: each section below renders one heading. */
export function renderMarkdown(r: EvaluationResult, options: MarkdownOptions = {}): string {
  const out: string[] = [
    ...headerSection(r),
    ...table1Section(r),
    ...uncertaintySection(r),
    ...matchedSection(r),
    ...conversionSection(r),
    ...thetaRulesSection(r),
    ...wallClockSection(r),
    ...spikesSection(r),
    ...decisionLatencySection(r),
    ...oraclesSection(r),
    ...calibrationSection(r),
    ...thresholdSearchSection(r, options.maxParetoRows ?? 20),
    ...terminationSection(r),
    ...figuresSection(options.figures),
    ...notesSection(r),
  ];
  return out.join('\n');
}

/** The title and the one-line operating point (mode, T, activations, α, τ, θ, backend, samples). */
function headerSection(r: EvaluationResult): string[] {
  const name = `${r.model}${r.dataset ? ` on ${r.dataset}` : ''}`;
  const meta = [
    `mode ${r.mode}`,
    `T = ${r.T}${r.deployed === undefined ? '' : r.deployed ? ' (the stored operating point)' : ' (evaluated beside the stored operating point)'}`,
    r.levels !== undefined && r.levels !== 2 ** (r.bits ?? 0) - 1 ? `${r.levels} activation levels` : r.bits !== undefined ? `${r.bits}-bit activations` : undefined,
    `α = ${num(r.alpha, 4)}`,
    `τ = ${num(r.tau, 4)}`,
    `θ = ${thetaStr(r.dc.theta)}${r.thetaChosenOn ? ` (chosen on ${r.thetaChosenOn})` : ''}`,
    `backend ${r.backend}`,
    r.n !== undefined ? `${r.n} samples${r.split ? ` (${r.split})` : ''}` : undefined,
  ].filter((s): s is string => s !== undefined);
  return [`# Dynamic Confidence — ${name}`, '', meta.join(' · '), ''];
}

/** Table 1 of the paper: accuracy and mean steps, with and without Dynamic Confidence. */
function table1Section(r: EvaluationResult): string[] {
  const u = r.uncertainty;
  const out = [`## Table 1 — accuracy and latency${u ? ' (95 % intervals)' : ''}`, ''];
  out.push(
    table(
      ['Model', 'Method', 'Acc(ANN)(%)', 'Acc(SNN)(%)', 'Averaged time steps', 'Latency saving(%)'],
      [
        [r.model, r.mode, pctCi(r.accAnn, u?.accAnn), pctCi(r.accSnnT, u?.accSnnT), String(r.T), ''],
        [
          r.model,
          `${r.mode} + Dynamic Confidence`,
          pctCi(r.accAnn, u?.accAnn),
          pctCi(r.dc.accuracy, u?.dc),
          u ? numCi(u.dcVsFullT.meanSteps) : num(r.dc.meanSteps),
          num(r.latencySavingPct, 0),
        ],
      ],
    ),
  );
  out.push('');
  if (u) out.push(`Acc(ANN): the ANN on the mean of the same ${r.T} frames. Latency saving against this operating point's own T = ${r.T}.`, '');
  return out;
}

/** Table 2 of the paper: wall-clock time per inference, when it was measured. */
function wallClockSection(r: EvaluationResult): string[] {
  const w = r.wallMsPerInference;
  if (!w) return [];
  return [
    '## Table 2 — wall-clock time per inference (ms, batch 1)',
    '',
    table(
      ['Model', 'Backend', 'without Dynamic Confidence', 'with Dynamic Confidence', 'Speed-up'],
      [[r.model, r.backend, num(w.without, 3), num(w.with, 3), w.with > 0 ? `${num(w.without / w.with)}×` : '—']],
    ),
    '',
  ];
}

/** Table 3 of the paper: spikes per neuron per inference, when they were counted. */
function spikesSection(r: EvaluationResult): string[] {
  const s = r.spikesPerNeuron;
  if (!s) return [];
  return [
    '## Table 3 — spikes per neuron per inference',
    '',
    table(['Model', 'without Dynamic Confidence', 'with Dynamic Confidence'], [[`${r.model}, ${r.mode}`, num(s.without), num(s.with)]]),
    '',
  ];
}

/** Decision latency in sensor time (live streams only). */
function decisionLatencySection(r: EvaluationResult): string[] {
  const d = r.decisionLatencyMs;
  if (!d) return [];
  return [
    '## Decision latency (sensor time, ms)',
    '',
    table(
      ['', 'mean', 'p95'],
      [
        ['without Dynamic Confidence', num(d.without.mean, 1), num(d.without.p95, 1)],
        ['with Dynamic Confidence', num(d.with.mean, 1), num(d.with.p95, 1)],
      ],
    ),
    '',
  ];
}

/** The label-using upper bounds beside the SNN at T and Dynamic Confidence. */
function oraclesSection(r: EvaluationResult): string[] {
  if (!r.oracles) return [];
  const u = r.uncertainty;
  return [
    '## Upper bounds (oracles, use the labels)',
    '',
    table(
      ['Strategy', 'Accuracy(%)', 'Mean time steps'],
      [
        ['SNN, all T steps', pctCi(r.accSnnT, u?.accSnnT), String(r.T)],
        [`Dynamic Confidence (θ = ${thetaStr(r.dc.theta)})`, pctCi(r.dc.accuracy, u?.dc), num(r.dc.meanSteps)],
        ['Oracle: first correct step (paper)', pctCi(r.oracles.firstCorrect.accuracy, u?.oracleFirstCorrect), num(r.oracles.firstCorrect.meanSteps)],
        ['Oracle: correct from here to T', pctCi(r.oracles.staysCorrect.accuracy, u?.accSnnT), num(r.oracles.staysCorrect.meanSteps)],
      ],
    ),
    '',
  ];
}

/** NLL and ECE before and after temperature scaling. */
function calibrationSection(r: EvaluationResult): string[] {
  const c = r.calibration;
  if (!c) return [];
  return [
    '## Calibration (temperature scaling on ANN validation logits)',
    '',
    table(
      ['', 'NLL', 'ECE (15 bins)'],
      [
        ['before (τ = 1)', num(c.nllBefore, 4), num(c.eceBefore, 4)],
        [`after (τ = ${num(r.tau, 4)})`, num(c.nllAfter, 4), num(c.eceAfter, 4)],
      ],
    ),
    '',
  ];
}

/** The chosen θ, the Pareto front (thinned to `maxRows`) and the θ grid. */
function thresholdSearchSection(r: EvaluationResult, maxRows: number): string[] {
  if (!r.curve) return [];
  const out = ['## Threshold search', ''];
  if (r.chosen) {
    out.push(
      `Chosen θ = ${thetaStr(r.chosen.theta)} (on this split every θ in [${thetaStr(r.chosen.thetaMin)}, ${thetaStr(r.chosen.thetaMax)}) gives the same result): ` +
        `${pct(r.chosen.accuracy)}% in ${num(r.chosen.meanSteps)} mean steps.`,
    );
    out.push('');
  }
  const pf = r.curve.pareto;
  const rows = paretoRows(pf, maxRows);
  out.push(`Pareto front (${pf.length} points${pf.length > maxRows ? `, ${rows.length} shown` : ''}):`);
  out.push('');
  out.push(table(['θ', 'θ interval', 'Accuracy(%)', 'Mean time steps'], rows));
  out.push('');
  out.push(...thetaGridTable(r.curve.grid));
  return out;
}

type ParetoPoint = NonNullable<EvaluationResult['curve']>['pareto'][number];
type GridPoint = NonNullable<NonNullable<EvaluationResult['curve']>['grid']>[number];

/** At most `maxRows` rows of the front, evenly spaced so both ends stay in a long front. */
function paretoRows(pf: readonly ParetoPoint[], maxRows: number): string[][] {
  const step = pf.length > maxRows ? (pf.length - 1) / (maxRows - 1) : 1;
  const rows: string[][] = [];
  const seen = new Set<number>();
  for (let j = 0; j < Math.min(maxRows, pf.length); j++) {
    const k = Math.round(j * step);
    if (seen.has(k)) continue;
    seen.add(k);
    const p = pf[k];
    rows.push([thetaStr(p.theta), `[${thetaStr(p.thetaMin)}, ${thetaStr(p.thetaMax)})`, pct(p.accuracy), num(p.meanSteps)]);
  }
  return rows;
}

/** The θ grid, each value marked as the paper's or our extension. */
function thetaGridTable(grid: readonly GridPoint[] | undefined): string[] {
  if (!grid || grid.length === 0) return [];
  const paper = (th: number) => PAPER_THETA_GRID.some((g) => Math.abs(g - th) < 1e-9);
  return [
    "θ grid: the paper's grid is θ = 0.0, 0.1, …, 1.0 (θ = 1 never stops early: the SNN at T); 0.95 and 0.99 are our extension, marked.",
    '',
    table(
      ['θ', 'Grid', 'Accuracy(%)', 'Mean time steps', 'Early (%)'],
      grid.map((p) => [thetaStr(p.theta), paper(p.theta) ? 'paper' : 'extension', pct(p.accuracy), num(p.meanSteps), pct(p.earlyFraction, 1)]),
    ),
    '',
  ];
}

/** How many samples stopped at each step, with the cumulative share. */
function terminationSection(r: EvaluationResult): string[] {
  const h = r.terminationHistogram;
  if (!h) return [];
  const rows: string[][] = [];
  for (let t = 0; t < h.counts.length; t++) if (h.counts[t] > 0) rows.push([String(t + 1), String(h.counts[t]), pct(h.cumulative[t], 1)]);
  return ['## Termination steps', '', table(['Steps used', 'Samples', 'Cumulative (%)'], rows), ''];
}

/** Links to the SVG figures the caller wrote (Fig. 1–3 of the paper, the histogram as Fig. 4). */
function figuresSection(f: FigureFiles | undefined): string[] {
  if (!f || !(f.accuracySteps || f.accuracyConfidence || f.thetaGrid || f.histogram)) return [];
  const out = ['## Figures', ''];
  if (f.accuracySteps) out.push(`![Fig. 1 — accuracy against mean time steps: the SNN and the ANN over t, Dynamic Confidence's Pareto front, the oracles](${f.accuracySteps})`, '');
  if (f.accuracyConfidence) out.push(`![Fig. 2 — accuracy and mean confidence against t, with and without α](${f.accuracyConfidence})`, '');
  if (f.thetaGrid) out.push(`![Fig. 3 — the θ grid's accuracy against mean time steps, with the chosen θ](${f.thetaGrid})`, '');
  if (f.histogram) out.push(`![Fig. 4 — termination steps](${f.histogram})`, '');
  return out;
}

function notesSection(r: EvaluationResult): string[] {
  if (!r.notes || r.notes.length === 0) return [];
  return ['## Notes', '', ...r.notes.map((n) => `- ${n}`), ''];
}
