/**
 * The bundled models' figures as the docs show them, rendered from their reports (report.json and
 * live.json), so that a doc never quotes a figure its report no longer holds. A doc marks each
 * generated block:
 *
 *   <!-- figures: gesture -->
 *   …tables rendered by `bundledFigures('models/gesture')`…
 *   <!-- /figures -->
 *
 * `node dist/scripts/docs-figures.js` rewrites every block (scripts/regenerate-reports.sh runs it);
 * test/docs/report-figures.test.ts fails when a block differs from what its report renders.
 */
import * as fs from 'fs';
import * as path from 'path';
import { num, pct, pointsCi, table } from '../confidence/markdown-format';
import type { Interval } from '../confidence/stats';
import { readReportJson } from './evaluate';
import type { LiveScore } from './live-score';

const ci = (v: Interval, digits = 2, scale = 1): string => `${(v.value * scale).toFixed(digits)} [${(v.lo * scale).toFixed(digits)}, ${(v.hi * scale).toFixed(digits)}]`;

/** The operating points' table and the stored point's stop rules, from DIR/report/report.json. */
function windowedTables(reportDir: string): string[] {
  const results = readReportJson(path.join(reportDir, 'report.json'));
  const rows = results.map((r) => {
    const u = r.uncertainty;
    const q = r.shownConfidence?.quality[r.shownConfidence.shown];
    return [
      `${r.mode}, T = ${r.T}${r.deployed ? ' (stored)' : ''}`,
      `${num(r.dc.theta, 4)} (${r.stopRule === 'calibrated' ? 'q_t ≥ θ' : 'c_t > θ'})`,
      u ? `${pct(r.accSnnT)} [${pct(u.accSnnT.lo, 1)}, ${pct(u.accSnnT.hi, 1)}]` : pct(r.accSnnT),
      u ? `**${pct(r.dc.accuracy)}** [${pct(u.dc.lo, 1)}, ${pct(u.dc.hi, 1)}]` : pct(r.dc.accuracy),
      u ? pointsCi(u.dcVsFullT.accuracyDiff) : '—',
      u ? ci(u.dcVsFullT.meanSteps) : num(r.dc.meanSteps),
      num(r.latencySavingPct, 1),
      q ? ci(q.decisions.ece, 3) : '—',
    ];
  });
  const out = [
    table(['operating point', 'θ (stop rule)', 'Acc(SNN, T)(%)', 'Acc(DC)(%)', 'DC − T (points)', 'mean steps', 'saving (%)', 'ECE of the shown confidence'], rows),
    '',
  ];
  const stored = results.find((r) => r.deployed && r.conversion === 'qcfs') ?? results.find((r) => r.deployed);
  const s = stored?.shownConfidence;
  if (stored && s) {
    out.push(
      `Stop rules at the stored ${stored.mode} point (θ of each chosen on validation by the paper's no-loss rule, ε = 0), on the test split; oracle: ${num(s.oracle.meanSteps)} mean steps.`,
      '',
      table(
        ['stop rule', 'θ', 'Acc(DC)(%)', 'DC − T (points)', 'mean steps', 'oracle gap', 'ECE of its confidence (decisions)'],
        s.rules.map((r) => [
          `${r.stopRule === 'calibrated' ? 'calibrated q_t ≥ θ' : "paper's c_t > θ"}${r.stopRule === s.shown ? ' (deployed)' : ''}`,
          num(r.theta, 4),
          ci(r.accuracy, 2, 100),
          pointsCi(r.accuracyDiff),
          ci(r.meanSteps),
          num(r.oracleGap),
          s.quality[r.stopRule] ? ci(s.quality[r.stopRule]!.decisions.ece, 3) : '—',
        ]),
      ),
      '',
    );
    if (s.stepsCalibratedMinusPaper) out.push(`Paired steps per sample, calibrated − paper: ${ci(s.stepsCalibratedMinusPaper)}.`, '');
  }
  return out;
}

/** The live figures, from DIR/report/live.json (when the model has a live report). */
function liveTable(reportDir: string): string[] {
  const file = path.join(reportDir, 'live.json');
  if (!fs.existsSync(file)) return [];
  const j = JSON.parse(fs.readFileSync(file, 'utf8')) as { theta: number; score: LiveScore; data: string };
  const s = j.score;
  const ratio = (k: number, n: number) => (n > 0 ? `${pct(k / n)} % (${k}/${n})` : '—');
  return [
    `Streamed live (\`evaluate --live\`, ${s.streams} held-out recordings, ${s.gestures} gestures), θ = ${num(j.theta, 4)}:`,
    '',
    table(
      ['decision accuracy', 'first answer right', 'answers outside every window', 'uncertain decisions', 'steps saved', 'ECE of the shown confidence, every decision'],
      [[
        ratio(s.correctInside, s.confidentInside), ratio(s.firstCorrect, s.gestures), ratio(s.confidentOutside, s.confident),
        ratio(s.uncertain, s.decisions), `${s.stepsSavedPct.toFixed(1)} %`, ci(s.calibration.ece, 3),
      ]],
    ),
    '',
  ];
}

/** Everything a doc block shows for one bundled model (its folder under `modelsDir`). */
export function bundledFigures(modelsDir: string, model: string): string {
  const reportDir = path.join(modelsDir, model, 'report');
  return [...windowedTables(reportDir), ...liveTable(reportDir)].join('\n').trimEnd();
}

const BLOCK = /(<!-- figures: ([\w-]+) -->\n)([\s\S]*?)(<!-- \/figures -->)/g;

/** The models whose blocks a doc holds. */
export function figureBlocks(doc: string): { model: string; content: string }[] {
  return [...doc.matchAll(BLOCK)].map((m) => ({ model: m[2], content: m[3].trimEnd() }));
}

/** The doc with every block rendered anew. */
export function renderFigureBlocks(doc: string, modelsDir: string): string {
  return doc.replace(BLOCK, (_all, open: string, model: string, _old: string, close: string) => `${open}${bundledFigures(modelsDir, model)}\n${close}`);
}
