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

/** The report as Markdown, in the paper's table styles. */
export function renderMarkdown(r: EvaluationResult, options: MarkdownOptions = {}): string {
  const out: string[] = [];
  const name = `${r.model}${r.dataset ? ` on ${r.dataset}` : ''}`;
  out.push(`# Dynamic Confidence — ${name}`);
  out.push('');
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
  out.push(meta.join(' · '));
  out.push('');

  const u = r.uncertainty;
  out.push(`## Table 1 — accuracy and latency${u ? ' (95 % intervals)' : ''}`);
  out.push('');
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
  out.push(...uncertaintySection(r), ...matchedSection(r), ...conversionSection(r), ...thetaRulesSection(r));

  if (r.wallMsPerInference) {
    out.push('## Table 2 — wall-clock time per inference (ms, batch 1)');
    out.push('');
    const w = r.wallMsPerInference;
    out.push(
      table(
        ['Model', 'Backend', 'without Dynamic Confidence', 'with Dynamic Confidence', 'Speed-up'],
        [[r.model, r.backend, num(w.without, 3), num(w.with, 3), w.with > 0 ? `${num(w.without / w.with)}×` : '—']],
      ),
    );
    out.push('');
  }
  if (r.spikesPerNeuron) {
    out.push('## Table 3 — spikes per neuron per inference');
    out.push('');
    const s = r.spikesPerNeuron;
    out.push(table(['Model', 'without Dynamic Confidence', 'with Dynamic Confidence'], [[`${r.model}, ${r.mode}`, num(s.without), num(s.with)]]));
    out.push('');
  }
  if (r.decisionLatencyMs) {
    out.push('## Decision latency (sensor time, ms)');
    out.push('');
    const d = r.decisionLatencyMs;
    out.push(
      table(
        ['', 'mean', 'p95'],
        [
          ['without Dynamic Confidence', num(d.without.mean, 1), num(d.without.p95, 1)],
          ['with Dynamic Confidence', num(d.with.mean, 1), num(d.with.p95, 1)],
        ],
      ),
    );
    out.push('');
  }
  if (r.oracles) {
    out.push('## Upper bounds (oracles, use the labels)');
    out.push('');
    out.push(
      table(
        ['Strategy', 'Accuracy(%)', 'Mean time steps'],
        [
          ['SNN, all T steps', pctCi(r.accSnnT, u?.accSnnT), String(r.T)],
          [`Dynamic Confidence (θ = ${thetaStr(r.dc.theta)})`, pctCi(r.dc.accuracy, u?.dc), num(r.dc.meanSteps)],
          ['Oracle: first correct step (paper)', pctCi(r.oracles.firstCorrect.accuracy, u?.oracleFirstCorrect), num(r.oracles.firstCorrect.meanSteps)],
          ['Oracle: correct from here to T', pctCi(r.oracles.staysCorrect.accuracy, u?.accSnnT), num(r.oracles.staysCorrect.meanSteps)],
        ],
      ),
    );
    out.push('');
  }
  if (r.calibration) {
    const c = r.calibration;
    out.push('## Calibration (temperature scaling on ANN validation logits)');
    out.push('');
    out.push(
      table(
        ['', 'NLL', 'ECE (15 bins)'],
        [
          ['before (τ = 1)', num(c.nllBefore, 4), num(c.eceBefore, 4)],
          [`after (τ = ${num(r.tau, 4)})`, num(c.nllAfter, 4), num(c.eceAfter, 4)],
        ],
      ),
    );
    out.push('');
  }
  if (r.curve) {
    out.push('## Threshold search');
    out.push('');
    if (r.chosen) {
      out.push(
        `Chosen θ = ${thetaStr(r.chosen.theta)} (on this split every θ in [${thetaStr(r.chosen.thetaMin)}, ${thetaStr(r.chosen.thetaMax)}) gives the same result): ` +
          `${pct(r.chosen.accuracy)}% in ${num(r.chosen.meanSteps)} mean steps.`,
      );
      out.push('');
    }
    const maxRows = options.maxParetoRows ?? 20;
    const pf = r.curve.pareto;
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
    out.push(`Pareto front (${pf.length} points${pf.length > maxRows ? `, ${rows.length} shown` : ''}):`);
    out.push('');
    out.push(table(['θ', 'θ interval', 'Accuracy(%)', 'Mean time steps'], rows));
    out.push('');
    if (r.curve.grid && r.curve.grid.length > 0) {
      out.push("θ grid: the paper's grid is θ = 0.0, 0.1, …, 1.0 (θ = 1 never stops early: the SNN at T); 0.95 and 0.99 are our extension, marked.");
      out.push('');
      const paper = (th: number) => PAPER_THETA_GRID.some((g) => Math.abs(g - th) < 1e-9);
      out.push(
        table(
          ['θ', 'Grid', 'Accuracy(%)', 'Mean time steps', 'Early (%)'],
          r.curve.grid.map((p) => [thetaStr(p.theta), paper(p.theta) ? 'paper' : 'extension', pct(p.accuracy), num(p.meanSteps), pct(p.earlyFraction, 1)]),
        ),
      );
      out.push('');
    }
  }
  if (r.terminationHistogram) {
    const h = r.terminationHistogram;
    out.push('## Termination steps');
    out.push('');
    const rows: string[][] = [];
    for (let t = 0; t < h.counts.length; t++) if (h.counts[t] > 0) rows.push([String(t + 1), String(h.counts[t]), pct(h.cumulative[t], 1)]);
    out.push(table(['Steps used', 'Samples', 'Cumulative (%)'], rows));
    out.push('');
  }
  const f = options.figures;
  if (f && (f.accuracySteps || f.accuracyConfidence || f.thetaGrid || f.histogram)) {
    out.push('## Figures');
    out.push('');
    if (f.accuracySteps) out.push(`![Fig. 1 — accuracy against mean time steps: the SNN and the ANN over t, Dynamic Confidence's Pareto front, the oracles](${f.accuracySteps})`, '');
    if (f.accuracyConfidence) out.push(`![Fig. 2 — accuracy and mean confidence against t, with and without α](${f.accuracyConfidence})`, '');
    if (f.thetaGrid) out.push(`![Fig. 3 — the θ grid's accuracy against mean time steps, with the chosen θ](${f.thetaGrid})`, '');
    if (f.histogram) out.push(`![Fig. 4 — termination steps](${f.histogram})`, '');
  }
  if (r.notes && r.notes.length > 0) {
    out.push('## Notes');
    out.push('');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
