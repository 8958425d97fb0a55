/**
 * `spikestream dataset saccades --source mnist|fashion --out DIR [--train N --test N --seed S --json]`:
 * converts MNIST or Fashion-MNIST images to events by emulated saccades (src/datasets/saccades.ts)
 * and writes N-MNIST `.bin` files in Train/<label>/ and Test/<label>/.
 */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { sourceSize, writeSaccadeDataset, type SaccadeDatasetOptions, type SaccadeDatasetResult, type SaccadeProgress, type SaccadeSourceName } from '../datasets/saccades';
import { parseNumberOption, printJson, UsageError } from './output';

export type { SaccadeDatasetOptions, SaccadeDatasetResult, SaccadeProgress };

/** Generates the folder (synchronously). */
export function generateSaccades(opts: SaccadeDatasetOptions, onProgress?: (p: SaccadeProgress) => void): SaccadeDatasetResult {
  return writeSaccadeDataset(opts, onProgress);
}

function intOption(name: string, min: number, max: number): (v: string) => number {
  const num = parseNumberOption(name, min);
  return (v: string) => {
    const n = num(v);
    if (!Number.isInteger(n) || n > max) throw new UsageError(`${name} must be an integer in ${min}…${max}, got ${v}`);
    return n;
  };
}

export function register(dataset: Command): void {
  dataset
    .command('saccades')
    .description('convert MNIST or Fashion-MNIST to 34×34 events by three emulated saccades (N-MNIST .bin layout)')
    .requiredOption('--source <name>', 'mnist or fashion')
    .requiredOption('--out <dir>', 'output folder (Train/<label>/NNNNN.bin, Test/<label>/NNNNN.bin)')
    .option('--train <n>', 'items from the start of the train split (default: all)', intOption('--train', 0, 60000))
    .option('--test <n>', 'items from the start of the test split (default: all)', intOption('--test', 0, 10000))
    .option('--seed <s>', 'master seed', intOption('--seed', 0, 0xffffffff), 1)
    .option('--json', 'print one JSON object')
    .action((o: { source: string; out: string; train?: number; test?: number; seed: number; json?: boolean }) => {
      if (o.source !== 'mnist' && o.source !== 'fashion') throw new UsageError(`--source must be mnist or fashion, got '${o.source}'`);
      const source = o.source as SaccadeSourceName;
      for (const split of ['train', 'test'] as const) {
        const n = o[split];
        if (n !== undefined && n > sourceSize(source, split)) throw new UsageError(`--${split} must be ≤ ${sourceSize(source, split)} for ${source}`);
      }
      const bar = process.stderr.isTTY
        ? new SingleBar({ format: 'saccades [{bar}] {value}/{total} samples | {rate} samples/s | ETA {eta_formatted}', stream: process.stderr, hideCursor: true }, Presets.shades_classic)
        : undefined;
      const t0 = Date.now();
      let started = false;
      let lastLog = 0;
      const result = generateSaccades({ source, out: o.out, train: o.train, test: o.test, seed: o.seed }, (p) => {
        const rate = p.done / Math.max(1e-3, (Date.now() - t0) / 1000);
        if (bar) {
          if (!started) {
            bar.start(p.total, 0, { rate: '0' });
            started = true;
          }
          if (p.done % 25 === 0 || p.done === p.total) bar.update(p.done, { rate: rate.toFixed(0) });
        } else if (!o.json && (Date.now() - lastLog > 5000 || p.done === p.total)) {
          lastLog = Date.now();
          process.stderr.write(`saccades: ${p.done}/${p.total} samples, ${rate.toFixed(0)} samples/s, ETA ${((p.total - p.done) / Math.max(rate, 1e-9)).toFixed(0)} s\n`);
        }
      });
      bar?.stop();
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
