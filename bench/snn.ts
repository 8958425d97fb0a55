/**
 * SNN engine benchmark: `node .build/snn/bench/snn.js` (or `npm run bench:snn`).
 *
 * For the default spec at 32×32 and 64×64 input (toy "bars" DVS-like frames, 11 classes):
 *   - training samples/s at batch 32 (TF.js; second of two epochs, i.e. warmed up),
 *   - SNN step latency at batch 1 (median over 400 steps, typed-array event-driven runner),
 *   - SNN throughput in sample-steps/s at batch 8 and 32 (one step() call per batch step).
 * The SNN is the one converted from the briefly trained ANN (QCFS), fed the toy frames.
 * Then the same SNN figures for the bundled default model (models/gesture, the default spec at
 * 32×32) on the frames of the bundled gesture recording: realistic spiking activity, unlike the
 * briefly trained toy network. Prints each figure with its backend, then one JSON line.
 * Env: SPIKESTREAM_BACKEND (default wasm for training; the SNN runner does not use TF.js).
 */
import * as path from 'path';
import { loadClassifierModel } from '../streams/core/classifier-model';
import { openDataset } from '../streams/sources/open-dataset';
import { collectFrameDataset } from '../streams/sinks/to-frame-dataset';
import type { FrameDataset } from '../src/snn/dataset';
import type { SnnNetwork } from '../src/snn/convert';
import { machine as machineName, median, printFigures, type BenchFigure } from './common';
import { initBackend } from '../src/snn/backend';
import { defaultSpec } from '../src/snn/spec';
import { makeToyBars } from '../src/snn/toy';
import { trainAnn } from '../src/snn/train';
import { convertWeights } from '../src/snn/convert';
import { SnnRunner } from '../src/snn/runner';
import { frameOf } from '../src/snn/dataset';

type Figure = BenchFigure;

const SNN_BACKEND = 'typed-array (JS, event-driven)';

/** Batch-1 step latency (median) and spikes per neuron over T-step samples, then throughput at batch 8 and 32. */
function measureSnn(net: SnnNetwork, ds: FrameDataset, tag: string, put: (name: string, unit: string, value: number, be: string) => void): void {
  const T = ds.T;
  const r = new SnnRunner(net, 1);
  let slot = r.admit();
  const times: number[] = [];
  let spn = 0, samples = 0;
  const total = Math.max(450, 3 * ds.n * T);
  for (let i = 0; i < total; i++) {
    const s = Math.floor(i / T) % ds.n, t = i % T;
    if (t === 0 && i > 0) { spn += r.read(slot).spikesPerNeuron; samples++; r.release(slot); slot = r.admit(); }
    const t0 = process.hrtime.bigint();
    r.step([{ slot, frame: frameOf(ds, s, t) }]);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 50) times.push(dt);
  }
  put(`snn_step_latency_${tag}_batch1_median`, 'ms', median(times), SNN_BACKEND);
  put(`snn_spikes_per_neuron_${tag}_T${T}`, 'spikes/neuron', spn / samples, SNN_BACKEND);
  for (const batch of [8, 32]) {
    const rb = new SnnRunner(net, batch);
    const slots = Array.from({ length: batch }, () => rb.admit());
    const steps = 60;
    for (let w = 0; w < 5; w++) rb.step(slots.map((sl, j) => ({ slot: sl, frame: frameOf(ds, j % ds.n, w % T) })));
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < steps; i++) rb.step(slots.map((sl, j) => ({ slot: sl, frame: frameOf(ds, (j * 7) % ds.n, (i + j) % T) })));
    const sec = Number(process.hrtime.bigint() - t0) / 1e9;
    put(`snn_throughput_${tag}_batch${batch}`, 'sample-steps/s', (steps * batch) / sec, SNN_BACKEND);
  }
}

async function main(): Promise<void> {
  const backend = await initBackend(process.env.SPIKESTREAM_BACKEND ?? 'wasm');
  const machine = machineName();
  const figures: Figure[] = [];
  const put = (name: string, unit: string, value: number, be: string) => {
    const f = { name, unit, value: Number(value.toPrecision(4)), backend: be, machine };
    figures.push(f);
    process.stdout.write(`${name}: ${f.value} ${unit} [${be}]\n`);
  };
  const classes = Array.from({ length: 11 }, (_, i) => `c${i}`);
  for (const hw of [32, 64]) {
    const T = 16;
    const ds = makeToyBars({ n: hw === 32 ? 320 : 160, T, height: hw, width: hw, seed: 1 });
    ds.classes = classes;
    const spec = defaultSpec(hw, hw, classes);
    const res = await trainAnn(ds, { spec, epochs: 2, batchSize: 32, seed: 1 });
    put(`train_samples_per_s_${hw}x${hw}_batch32`, 'samples/s', res.log[1].samplesPerSec, backend);
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    res.ann.dispose();
    measureSnn(net, ds, `${hw}x${hw}_toy`, put);
  }
  // The bundled default model on the bundled recording's gesture windows.
  const root = process.cwd();
  const model = loadClassifierModel(path.join(root, 'models', 'gesture'));
  const gestures = await openDataset(path.join(root, 'recordings', 'gestures'), { split: 'all' });
  const frames = await collectFrameDataset(gestures, { binUs: model.binUs, T: model.maxSteps, downsample: model.downsample });
  measureSnn(model.net, frames, '32x32_bundled_gesture_model', put);
  printFigures('snn', figures);
}

main().catch((e) => { process.stderr.write(String(e && (e as Error).stack || e) + '\n'); process.exit(1); });
