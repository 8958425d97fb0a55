/**
 * `spikestream train` — trains the quantized ANN on a frames file and writes a model directory.
 *
 *   spikestream train --data train.ssf [more.ssf …] [--val val.ssf] [--spec spec.json] --epochs 30 --out models/x
 *                     [--batch 32] [--lr 5e-3] [--weight-decay 1e-4] [--seed 0] [--backend wasm]
 *                     [--mode qcfs|qffs] [--resume] [--json]
 *
 * The frames file format is documented in src/snn/frames-file.ts. The checkpoint of the last
 * completed epoch goes to OUT/checkpoint; --resume continues from it. --json prints one JSON object
 * per epoch (and a final summary) on stdout instead of the progress bar.
 */
import type { Command } from 'commander';
import { parseInputEncoding } from '../snn/input-encoding';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../snn/backend';
import { hasModel, loadModel, saveModel, type SavedModel } from '../snn/model/model-file';
import { trainAnn, TrainProgress } from '../snn/train';
import { concatFrameDatasets } from '../snn/dataset';
import type { ModelSpec } from '../snn/spec';
import { UsageError } from './errors';
import { readFramesArgument, requireFile } from './files';
import { parseChoice, parseIntOption, parseNumberOption } from './options';
import { progressBar } from './progress';

interface TrainCliOptions {
  data: string[]; val?: string; spec?: string; epochs: number; out: string; batch: number; lr?: number; weightDecay?: number;
  seed: number; backend?: string; mode: 'qcfs' | 'qffs'; resume?: boolean; init?: string; json?: boolean;
}

/** `--spec`: a JSON model spec file. */
function readSpec(file: string): ModelSpec {
  requireFile(file, 'spec file');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as ModelSpec;
  } catch (err) {
    throw new UsageError(`--spec ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** `--init MODEL`: a trained model directory to start from. */
function loadInitModel(dir: string): SavedModel {
  if (!hasModel(dir)) throw new UsageError(`--init ${dir} holds no spikestream model (model.json and spikestream.json)`);
  return loadModel(dir);
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train a quantized (QCFS) ANN on a frames file and save it as a spikestream model')
    .requiredOption('--data <files...>', 'training frames file(s) (.ssf, see src/snn/frames-file.ts); several are joined in order')
    .option('--val <file>', 'validation frames file')
    .option('--spec <file>', 'model spec JSON (default: the built-in spec for the data size)')
    .option('--epochs <n>', 'epochs', parseIntOption('--epochs', 1), 30)
    .requiredOption('--out <dir>', 'output model directory')
    .option('--batch <n>', 'batch size', parseIntOption('--batch', 1), 32)
    .option('--lr <x>', 'peak learning rate (cosine schedule)', parseNumberOption('--lr', { above: 0 }))
    .option('--weight-decay <x>', 'decoupled weight decay on kernels', parseNumberOption('--weight-decay', 0))
    .option('--seed <n>', 'random seed', parseIntOption('--seed', 0), 0)
    .option('--backend <name>', 'tensorflow | wasm | cpu (default: best available; env SPIKESTREAM_BACKEND)')
    .option('--mode <mode>', 'conversion mode stored in the model: qcfs | qffs', parseChoice('--mode', ['qcfs', 'qffs'] as const), 'qcfs' as const)
    .option('--resume', 'continue from OUT/checkpoint')
    .option('--init <model>', "start from this model's weights (fine-tuning; its spec must match), not a seeded initialisation")
    .option('--json', 'print progress as JSON lines instead of a progress bar')
    .action(async (o: TrainCliOptions) => {
      const parts = o.data.map((f) => readFramesArgument(f, '--data'));
      for (const [i, p] of parts.entries()) {
        if (JSON.stringify(p.header.binning) !== JSON.stringify(parts[0].header.binning)) throw new UsageError(`--data ${o.data[i]} was binned otherwise than ${o.data[0]}`);
      }
      let joined;
      try {
        joined = concatFrameDatasets(parts, '--data');
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const data = { ...joined, header: { ...parts[0].header, dataset: parts.map((p, i) => p.header.dataset ?? path.basename(o.data[i])).join(' + ') } };
      parts.length = 0;
      const val = o.val ? readFramesArgument(o.val, '--val') : undefined;
      const spec = o.spec ? readSpec(o.spec) : undefined;
      const init = o.init !== undefined ? loadInitModel(o.init) : undefined;
      const encoding = parseInputEncoding(data.header.binning?.encoding);
      if (val && parseInputEncoding(val.header.binning?.encoding) !== encoding) throw new UsageError(`--val ${o.val}: its frames are encoded otherwise than --data's ('${encoding}')`);
      if (init && parseInputEncoding(init.meta.binning?.encoding) !== encoding) throw new UsageError(`--init ${o.init}: the model takes '${parseInputEncoding(init.meta.binning?.encoding)}' frames, --data holds '${encoding}'`);
      const backend = await initBackend(o.backend);
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
          spec, classes: data.classes, epochs: o.epochs, batchSize: o.batch, lr: o.lr, weightDecay: o.weightDecay,
          seed: o.seed, validation: val, init, checkpointDir: path.join(out, 'checkpoint'), resume: !!o.resume,
          dataset: data.header.dataset, binning: data.header.binning ?? { T: data.T }, conversionMode: o.mode, backend,
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
