/** `spikestream evaluate --robustness`: each perturbation alone on the held-out synthetic users (src/eval/robustness.ts). */
import * as path from 'path';
import { SYNTH_PERTURBATIONS } from '../datasets/synth-gestures';
import { evaluateRobustness, type RobustnessResult } from '../eval/robustness';
import { writeRobustnessReport } from '../eval/robustness-report';
import { defaultModelDir, readModelInput } from './model-options';
import { formatTable, printJson, UsageError } from './output';
import { progressBar } from './progress';

export interface RobustnessCliOptions {
  /** Default: the bundled gesture model. */
  model?: string;
  out: string;
  baseline?: string;
  cache?: string;
  perturbations?: string;
  json?: boolean;
}

function perturbationList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const known = SYNTH_PERTURBATIONS.map((p) => p.name);
  for (const n of names) if (!known.includes(n)) throw new UsageError(`--perturbations: unknown '${n}' (known: ${known.join(', ')})`);
  return names;
}

export async function evaluateRobustnessCli(o: RobustnessCliOptions): Promise<void> {
  const models = [readModelInput(o.model ?? defaultModelDir()).dir, ...(o.baseline !== undefined ? [readModelInput(o.baseline).dir] : [])];
  const perturbations = perturbationList(o.perturbations);
  const cacheDir = path.resolve(o.cache ?? path.join(o.out, 'recordings'));
  const total = models.length * (perturbations ?? SYNTH_PERTURBATIONS).length * 2;
  const bar = progressBar('robustness', {
    enabled: !o.json || !!process.stderr.isTTY,
    format: 'robustness [{bar}] {value}/{total} | ETA {eta_formatted} | {phase}',
    since: performance.now(),
    plain: { everyMs: 10_000, line: (done, all) => `robustness: ${done}/${all}` },
  });
  bar.start(total, 0, { phase: '' });
  let done = 0;
  const results: RobustnessResult[] = [];
  for (const m of models) {
    results.push(await evaluateRobustness(m, { cacheDir, perturbations, onProgress: (phase) => bar.update(Math.min(total, done++), { phase: `${path.basename(m)}: ${phase}` }) }));
  }
  bar.stop();
  const files = writeRobustnessReport(path.resolve(o.out), results[0], results[1]);
  if (o.json) {
    printJson({ files, result: results[0], ...(results[1] ? { baseline: results[1] } : {}) });
    return;
  }
  const pct = (x: number) => (100 * x).toFixed(1);
  for (const r of results) {
    process.stdout.write(`${r.model} (θ = ${r.theta}):\n`);
    process.stdout.write(formatTable(['perturbation', 'n', 'Acc T (%)', 'Acc DC (%)', 'mean steps', 'ECE'], r.rows.map((x) => [x.perturbation, String(x.n), pct(x.accT), pct(x.accDc), x.meanSteps.toFixed(2), x.ece.toFixed(3)])) + '\n');
  }
  process.stdout.write(`wrote ${files.markdown}, ${files.json} and ${files.svg}\n`);
}
