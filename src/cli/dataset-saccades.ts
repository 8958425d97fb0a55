/**
 * `spikestream dataset saccades --source mnist|fashion --out DIR [--train N --test N --seed S --json]`:
 * converts MNIST or Fashion-MNIST images to events by emulated saccades (src/datasets/saccades.ts)
 * and writes N-MNIST `.bin` files in Train/<label>/ and Test/<label>/.
 */
import type { Command } from 'commander';
import { sourceSize, writeSaccadeDataset, type SaccadeDatasetOptions, type SaccadeDatasetResult, type SaccadeProgress, type SaccadeSourceName } from '../datasets/saccades';
import { UsageError } from './errors';
import { parseChoice, parseIntOption } from './options';
import { printJson } from './output';
import { progressBar } from './progress';

export type { SaccadeDatasetOptions, SaccadeDatasetResult, SaccadeProgress };

/** Generates the folder (synchronously). */
export function generateSaccades(opts: SaccadeDatasetOptions, onProgress?: (p: SaccadeProgress) => void): SaccadeDatasetResult {
  return writeSaccadeDataset(opts, onProgress);
}

export function register(dataset: Command): void {
  dataset
    .command('saccades')
    .description('convert MNIST or Fashion-MNIST to 34×34 events by three emulated saccades (N-MNIST .bin layout)')
    .requiredOption('--source <name>', 'mnist or fashion', parseChoice('--source', ['mnist', 'fashion'] as const))
    .requiredOption('--out <dir>', 'output folder (Train/<label>/NNNNN.bin, Test/<label>/NNNNN.bin)')
    .option('--train <n>', 'items from the start of the train split (default: all)', parseIntOption('--train', 0, 60000))
    .option('--test <n>', 'items from the start of the test split (default: all)', parseIntOption('--test', 0, 10000))
    .option('--seed <s>', 'master seed', parseIntOption('--seed', 0, 0xffffffff), 1)
    .option('--json', 'print one JSON object')
    .action((o: { source: SaccadeSourceName; out: string; train?: number; test?: number; seed: number; json?: boolean }) => {
      const source = o.source;
      for (const split of ['train', 'test'] as const) {
        const n = o[split];
        if (n !== undefined && n > sourceSize(source, split)) throw new UsageError(`--${split} must be ≤ ${sourceSize(source, split)} for ${source}`);
      }
      // A bar on a terminal (even with --json: it goes to stderr), else a line every 5 s unless --json.
      const bar = progressBar('saccades', {
        enabled: !o.json || !!process.stderr.isTTY,
        format: 'saccades [{bar}] {value}/{total} samples | {rate} samples/s | ETA {eta_formatted}',
        etaBuffer: 10,
        rateDigits: 0,
        barEvery: 25,
        since: performance.now(),
        plain: {
          everyMs: 5000,
          line: (done, total, rate) => `saccades: ${done}/${total} samples, ${rate.toFixed(0)} samples/s, ETA ${((total - done) / Math.max(rate, 1e-9)).toFixed(0)} s`,
        },
      });
      let started = false;
      const result = generateSaccades({ source, out: o.out, train: o.train, test: o.test, seed: o.seed }, (p) => {
        if (!started) {
          bar.start(p.total);
          started = true;
        }
        bar.update(p.done);
      });
      bar.stop();
      if (o.json) {
        printJson(result);
        return;
      }
      process.stdout.write(
        `wrote ${result.train} train + ${result.test} test ${source} samples (${result.events} events, ${(result.bytes / 1e6).toFixed(1)} MB) to ${result.out}\n` +
          `took ${result.elapsedSeconds.toFixed(1)} s (${result.samplesPerSecond.toFixed(0)} samples/s)\n`,
      );
    });
}
