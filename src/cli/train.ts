/**
 * `spikestream train` — trains the quantized ANN on a frames file and writes a model directory.
 *
 *   spikestream train --data train.ssf [--val val.ssf] [--spec spec.json] --epochs 30 --out models/x
 *                     [--batch 32] [--lr 5e-3] [--weight-decay 1e-4] [--seed 0] [--backend wasm]
 *                     [--mode qcfs|qffs] [--resume] [--json]
 *
 * The frames file format is documented in src/snn/frames-file.ts. The checkpoint of the last
 * completed epoch goes to OUT/checkpoint; --resume continues from it. --json prints one JSON object
 * per epoch (and a final summary) on stdout instead of the progress bar.
 */
import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../snn/backend';
import { readFramesFile } from '../snn/frames-file';
import { saveModel } from '../snn/model-file';
import { trainAnn, TrainProgress } from '../snn/train';
import type { ModelSpec } from '../snn/spec';
import { progressBar } from './progress';

interface TrainCliOptions {
  data: string; val?: string; spec?: string; epochs: string; out: string; batch: string; lr?: string; weightDecay?: string;
  seed: string; backend?: string; mode: string; resume?: boolean; json?: boolean;
}

function num(v: string | undefined, name: string, integer = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be a${integer ? 'n integer' : ' number'} (got ${v})`);
  return n;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a quantized (QCFS) ANN on a frames file and save it as a spikestream model')
    .requiredOption('--data <file>', 'training frames file (.ssf, see src/snn/frames-file.ts)')
    .option('--val <file>', 'validation frames file')
    .option('--spec <file>', 'model spec JSON (default: the built-in spec for the data size)')
    .option('--epochs <n>', 'epochs', '30')
    .requiredOption('--out <dir>', 'output model directory')
    .option('--batch <n>', 'batch size', '32')
    .option('--lr <x>', 'peak learning rate (cosine schedule)')
    .option('--weight-decay <x>', 'decoupled weight decay on kernels')
    .option('--seed <n>', 'random seed', '0')
    .option('--backend <name>', 'tensorflow | wasm | cpu (default: best available; env SPIKESTREAM_BACKEND)')
    .option('--mode <mode>', 'conversion mode stored in the model: qcfs | qffs', 'qcfs')
    .option('--resume', 'continue from OUT/checkpoint')
    .option('--json', 'print progress as JSON lines instead of a progress bar')
    .action(async (o: TrainCliOptions) => {
      const backend = await initBackend(o.backend);
      const data = readFramesFile(o.data);
      const val = o.val ? readFramesFile(o.val) : undefined;
      const spec = o.spec ? (JSON.parse(fs.readFileSync(o.spec, 'utf8')) as ModelSpec) : undefined;
      if (o.mode !== 'qcfs' && o.mode !== 'qffs') throw new Error('--mode must be qcfs or qffs');
      const epochs = num(o.epochs, 'epochs', true)!;
      const bar = progressBar('epoch', {
        enabled: !o.json,
        format: 'epoch {ep} |{bar}| {percentage}% | loss {loss} | acc {acc} | {sps} samples/s | ETA {eta_formatted}{val}',
        etaBuffer: 10,
      });
      let started = false;
      const onProgress = (p: TrainProgress) => {
        if (o.json) {
          if (p.phase === 'epoch') process.stdout.write(JSON.stringify({ type: 'epoch', ...p }) + '\n');
          return;
        }
        const payload = { ep: `${p.epoch + 1}/${p.epochs}`, loss: p.loss.toFixed(4), acc: p.acc.toFixed(3), sps: p.samplesPerSec.toFixed(0),
          val: p.valAcc !== undefined ? ` | val ${p.valAcc.toFixed(3)}` : '' };
        if (!started) { bar.start(p.totalSteps, p.step, payload); started = true; }
        bar.update(p.step, { ...payload, eta: p.etaSec });
      };
      const out = path.resolve(o.out);
      try {
        const res = await trainAnn(data, {
          spec, classes: data.classes, epochs, batchSize: num(o.batch, 'batch', true), lr: num(o.lr, 'lr'), weightDecay: num(o.weightDecay, 'weight-decay'),
          seed: num(o.seed, 'seed', true), validation: val, checkpointDir: path.join(out, 'checkpoint'), resume: !!o.resume,
          dataset: data.header.dataset ?? path.basename(o.data), binning: data.header.binning ?? { T: data.T }, conversionMode: o.mode as 'qcfs' | 'qffs', backend,
        }, onProgress);
        bar.stop();
        saveModel(out, res.model);
        const last = res.log[res.log.length - 1];
        const summary = { type: 'done', out, backend, epochs: res.log.length, loss: last?.loss, acc: last?.acc, valAcc: last?.valAcc, lambdas: res.model.meta.lambdas };
        if (o.json) process.stdout.write(JSON.stringify(summary) + '\n');
        else process.stderr.write(`saved ${out} (train acc ${last?.acc.toFixed(3)}${last?.valAcc !== undefined ? `, val acc ${last.valAcc.toFixed(3)}` : ''})\n`);
        res.ann.dispose();
      } finally {
        bar.stop();
      }
    });
}
