/**
 * The robustness report's files: robustness.md (a table per model), robustness.json and
 * robustness.svg — per perturbation, accuracy at full T and with Dynamic Confidence (with Wilson 95 %
 * intervals) on the left, ECE on the right; a second model (`--baseline`), when given, drawn beside in grey.
 */
import * as fs from 'fs';
import * as path from 'path';
import { COLORS, escapeXml, f, marker, niceTicks, scale, tickLabel } from '../confidence/svg';
import type { RobustnessResult, RobustnessRow } from './robustness';

const pct = (x: number): string => (Number.isFinite(x) ? (100 * x).toFixed(1) : '-');
const pts = (x: number): string => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(100 * x).toFixed(1)}` : '-');

/** One model's table: each perturbation against the unperturbed row. */
export function robustnessTable(r: RobustnessResult): string {
  const ref = r.rows.find((x) => x.perturbation === 'none');
  const lines = [
    `Model \`${r.model}\` (${r.mode.toUpperCase()}, T = ${r.T}, θ = ${r.theta}); ${r.users}; confidence ${r.confidence}.`,
    '',
    '| perturbation | n | Acc(SNN, T) (%) | Δ T (points) | Acc(DC) (%) | Δ DC (points) | mean steps | saving (%) | reached θ (%) | acc. of confident (%) | mean conf. | ECE |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const x of r.rows) {
    lines.push(
      `| ${x.perturbation} | ${x.n} | ${pct(x.accT)} [${pct(x.accTCi.lo)}, ${pct(x.accTCi.hi)}] | ${ref && x !== ref ? pts(x.accT - ref.accT) : ''} | ` +
        `${pct(x.accDc)} [${pct(x.accDcCi.lo)}, ${pct(x.accDcCi.hi)}] | ${ref && x !== ref ? pts(x.accDc - ref.accDc) : ''} | ${x.meanSteps.toFixed(2)} | ` +
        `${x.savingPct.toFixed(1)} | ${pct(x.confidentShare)} | ${pct(x.accConfident)} | ${x.meanConfidence.toFixed(3)} | ${x.ece.toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}

/** The figure: accuracy (T and DC) per perturbation and ECE; the baseline, when given, in grey. */
export function robustnessSvg(r: RobustnessResult, baseline?: RobustnessResult): string {
  const rows = r.rows;
  const W = 900;
  const rowH = 26;
  const top = 56;
  const H = top + rows.length * rowH + 56;
  const accX = scale(0, 1, 190, 610);
  const eceX = scale(0, 0.5, 660, 880);
  const y = (i: number) => top + i * rowH + rowH / 2;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>Robustness: accuracy and calibration under one perturbation at a time</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">Each perturbation alone, held-out users (${escapeXml(r.mode.toUpperCase())}, T = ${r.T}, θ = ${+r.theta.toFixed(4)})</text>`,
  ];
  const yEnd = top + rows.length * rowH;
  for (const [sc, ticks, label] of [
    [accX, niceTicks(0, 1), 'accuracy (circle: SNN at T, square: Dynamic Confidence; bars: 95 % CI)'],
    [eceX, niceTicks(0, 0.5, 5), 'ECE of the shown confidence'],
  ] as const) {
    for (const v of ticks) {
      out.push(`<line x1="${f(sc(v))}" y1="${top}" x2="${f(sc(v))}" y2="${yEnd}" stroke="#eee"/>`);
      out.push(`<text x="${f(sc(v))}" y="${yEnd + 16}" text-anchor="middle">${escapeXml(tickLabel(v))}</text>`);
    }
    out.push(`<text x="${f((sc(sc.lo) + sc(sc.hi)) / 2)}" y="${yEnd + 36}" text-anchor="middle">${escapeXml(label)}</text>`);
  }
  out.push(`<line x1="${f(eceX(0.1))}" y1="${top}" x2="${f(eceX(0.1))}" y2="${yEnd}" stroke="#d62728" stroke-dasharray="4 3"><title>ECE 0.10 (target)</title></line>`);
  const draw = (res: RobustnessResult, color: string, dy: number) => {
    res.rows.forEach((x) => {
      const i = rows.findIndex((q) => q.perturbation === x.perturbation);
      if (i < 0) return;
      const py = y(i) + dy;
      out.push(`<line x1="${f(accX(x.accTCi.lo))}" y1="${f(py - 3)}" x2="${f(accX(x.accTCi.hi))}" y2="${f(py - 3)}" stroke="${color}" stroke-opacity="0.5"/>`);
      out.push(`<line x1="${f(accX(x.accDcCi.lo))}" y1="${f(py + 3)}" x2="${f(accX(x.accDcCi.hi))}" y2="${f(py + 3)}" stroke="${color}" stroke-opacity="0.5"/>`);
      out.push(marker('circle', accX(x.accT), py - 3, color, 4, `${res.model} ${x.perturbation}: ${pct(x.accT)} % at T`));
      out.push(marker('square', accX(x.accDc), py + 3, color, 4, `${res.model} ${x.perturbation}: ${pct(x.accDc)} % with DC, ${x.meanSteps.toFixed(2)} steps`));
      out.push(marker('diamond', eceX(Math.min(0.5, x.ece)), py, color, 4, `${res.model} ${x.perturbation}: ECE ${x.ece.toFixed(3)}`));
    });
  };
  rows.forEach((x, i) => out.push(`<text x="180" y="${f(y(i) + 4)}" text-anchor="end">${escapeXml(x.perturbation)}</text>`));
  if (baseline) draw(baseline, '#999999', 0);
  draw(r, COLORS[0], 0);
  const legendY = H - 8;
  out.push(`<text x="20" y="${legendY}" fill="${COLORS[0]}">● ■ ◆ ${escapeXml(r.model)}</text>`);
  if (baseline) out.push(`<text x="450" y="${legendY}" fill="#777777">● ■ ◆ ${escapeXml(baseline.model)} (compared)</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Writes robustness.md, robustness.json and robustness.svg into `outDir`. */
export function writeRobustnessReport(outDir: string, r: RobustnessResult, baseline?: RobustnessResult): { markdown: string; json: string; svg: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const md = [
    '# Robustness: each perturbation alone',
    '',
    'The held-out users re-rendered with one change at a time (`src/datasets/synth-gestures/perturb.ts`); every label window is one sample, ' +
      'and every decision counts (uncertain ones too). Acc(SNN, T): argmax O_T. Acc(DC): the decision at the first step whose confidence passes θ, else at T. ' +
      'Δ: points against `none`. ECE: 15 equal-width bins of the confidence shown with each decision against whether it was right. Intervals: Wilson 95 %.',
    '',
    robustnessTable(r),
    ...(baseline ? ['', '## Compared with (`--baseline`)', '', robustnessTable(baseline)] : []),
    '',
    '![Robustness: accuracy and ECE per perturbation](robustness.svg)',
    '',
  ].join('\n');
  const files = { markdown: path.join(outDir, 'robustness.md'), json: path.join(outDir, 'robustness.json'), svg: path.join(outDir, 'robustness.svg') };
  fs.writeFileSync(files.markdown, md);
  fs.writeFileSync(files.json, JSON.stringify({ result: r, ...(baseline ? { baseline } : {}) }, null, 1) + '\n');
  fs.writeFileSync(files.svg, robustnessSvg(r, baseline));
  return files;
}

export type { RobustnessRow };
