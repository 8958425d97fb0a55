/**
 * SNN engine benchmark: `node .build/snn/bench/snn.js` (or `npm run bench:snn`).
 *
 * For the default spec at 32×32 and 64×64 input (toy "bars" DVS-like frames, 11 classes):
 *   - training samples/s at batch 32 (TF.js; second of two epochs, i.e. warmed up),
 *   - SNN step latency at batch 1 (median over 400 steps after 300 warm-up steps, SnnRunner:
 *     the event-driven WebAssembly SIMD kernel), and on an empty frame (the fixed cost: the
 *     threshold-and-bias pass over every neuron; the rest of a step follows the events),
 *   - SNN throughput in sample-steps/s at batch 8 and 32 (one step() call per batch step; the
 *     batch divided by the median time of 60 such calls),
 *   - the anchor: the same network as a dense ONNX graph (bench/onnx/) run by onnxruntime-node
 *     (CPU, 1 thread) at batch 1 and 32, and our figure divided by its (× > 1: we are faster).
 *     onnxruntime-node is installed into bench/onnx on first use; without it the anchor is skipped
 *     with the reason and our figures are still printed.
 * The SNN is the one converted from the briefly trained ANN (QCFS), fed the toy frames.
 * Then the same SNN figures for the bundled default model (models/gesture, the default spec at
 * 32×32) on the frames of the bundled gesture recording: realistic spiking activity, unlike the
 * briefly trained toy network. Prints each figure with its backend, then one JSON line.
 * The anchor runs on the bundled model and on the 32×32 toy network (the busy one: ~2.4 spikes per
 * neuron). Env: SPIKESTREAM_BACKEND (default wasm for training; the SNN runner does not use TF.js);
 * SNN_BENCH_NO_ONNX=1 skips the anchor; `--bundled-only` measures only the bundled model (and its
 * anchor), training no toy network.
 */
import * as path from 'path';
import { loadClassifierModel } from '../src/snn/model/classifier-model';
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
import { simulate } from '../src/snn/runner';
import { loadOnnxRuntime, measureOnnx, type OnnxRuntime } from './onnx/anchor';

type Figure = BenchFigure;
type Put = (name: string, unit: string, value: number, be: string) => void;

const SNN_BACKEND = 'SnnRunner (event-driven, WebAssembly SIMD)';
const WARMUP = 300;

/** Batch-1 step latency (median) and spikes per neuron over T-step samples, then throughput at batch 8 and 32. */
function measureSnn(net: SnnNetwork, ds: FrameDataset, tag: string, put: Put): { batch1Ms: number; batch32PerS: number } {
  const T = ds.T;
  const r = new SnnRunner(net, 1);
  let slot = r.admit();
  const times: number[] = [];
  let spn = 0, samples = 0;
  // Warm-up first: the kernel starts in V8's baseline wasm tier and is recompiled optimised when hot.
  const total = WARMUP + Math.max(400, 3 * ds.n * T);
  for (let i = 0; i < total; i++) {
    const s = Math.floor(i / T) % ds.n, t = i % T;
    if (t === 0 && i > 0) { spn += r.read(slot).spikesPerNeuron; samples++; r.release(slot); slot = r.admit(); }
    const t0 = process.hrtime.bigint();
    r.step([{ slot, frame: frameOf(ds, s, t) }]);
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= WARMUP) times.push(dt);
  }
  const batch1Ms = median(times);
  put(`snn_step_latency_${tag}_batch1_median`, 'ms', batch1Ms, SNN_BACKEND);
  put(`snn_spikes_per_neuron_${tag}_T${T}`, 'spikes/neuron', spn / samples, SNN_BACKEND);
  const empty = new Float32Array(ds.height * ds.width * 2), fixed: number[] = [];
  for (let i = 0; i < 400; i++) {
    const t0 = process.hrtime.bigint();
    r.step([{ slot, frame: empty }]);
    fixed.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  put(`snn_step_latency_${tag}_batch1_empty_frame_median`, 'ms', median(fixed), SNN_BACKEND);
  let batch32PerS = NaN;
  for (const batch of [8, 32]) {
    const rb = new SnnRunner(net, batch);
    const slots = Array.from({ length: batch }, () => rb.admit());
    for (let w = 0; w < 5; w++) rb.step(slots.map((sl, j) => ({ slot: sl, frame: frameOf(ds, j % ds.n, w % T) })));
    // Each batched call timed alone and the median taken: a shared machine's bursts do not move it.
    const perS = batch / medianStepSeconds(60, (i) => rb.step(slots.map((sl, j) => ({ slot: sl, frame: frameOf(ds, (j * 7) % ds.n, (i + j) % T) }))));
    put(`snn_throughput_${tag}_batch${batch}`, 'sample-steps/s', perS, SNN_BACKEND);
    if (batch === 32) batch32PerS = perS;
  }
  return { batch1Ms, batch32PerS };
}

/** Median seconds of `steps` calls of `step(i)`, each timed alone. */
function medianStepSeconds(steps: number, step: (i: number) => void): number {
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = process.hrtime.bigint();
    step(i);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

/** The ONNX Runtime anchor beside our figures: its batch-1 step and batch-32 throughput, and our advantage (×). */
async function anchor(ort: OnnxRuntime | string, net: SnnNetwork, ds: FrameDataset, tag: string, ours: { batch1Ms: number; batch32PerS: number }, put: Put): Promise<void> {
  if (typeof ort === 'string') {
    process.stdout.write(`snn_onnx_anchor_${tag}: skipped (${ort})\n`);
    return;
  }
  const be = `onnxruntime-node ${ort.version} (dense ONNX graph, CPU, 1 thread)`;
  const f = await measureOnnx(ort, net, ds, (i) => simulate(net, Array.from({ length: ds.T }, (_, t) => frameOf(ds, i, t))).final.output);
  put(`onnx_step_latency_${tag}_batch1_median`, 'ms', f.batch1Ms, be);
  put(`onnx_throughput_${tag}_batch32`, 'sample-steps/s', f.batch32PerS, be);
  put(`onnx_agreement_${tag}_O_T`, 'max relative |ΔO_T|', f.agreement, be);
  put(`snn_vs_onnx_${tag}_batch1_speed`, '× (onnx ms / ours)', f.batch1Ms / ours.batch1Ms, SNN_BACKEND);
  put(`snn_vs_onnx_${tag}_batch32_throughput`, '× (ours / onnx)', ours.batch32PerS / f.batch32PerS, SNN_BACKEND);
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
  const ort = process.env.SNN_BENCH_NO_ONNX ? 'SNN_BENCH_NO_ONNX is set' : loadOnnxRuntime((line) => process.stderr.write(line + '\n'));
  const classes = Array.from({ length: 11 }, (_, i) => `c${i}`);
  // --bundled-only: only the bundled model against its anchor (no toy network trained).
  for (const hw of process.argv.includes('--bundled-only') ? [] : [32, 64]) {
    const T = 16;
    const ds = makeToyBars({ n: hw === 32 ? 320 : 160, T, height: hw, width: hw, seed: 1 });
    ds.classes = classes;
    const spec = defaultSpec(hw, hw, classes);
    const res = await trainAnn(ds, { spec, epochs: 2, batchSize: 32, seed: 1 });
    put(`train_samples_per_s_${hw}x${hw}_batch32`, 'samples/s', res.log[1].samplesPerSec, backend);
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    res.ann.dispose();
    const ours = measureSnn(net, ds, `${hw}x${hw}_toy`, put);
    if (hw === 32) await anchor(ort, net, ds, `${hw}x${hw}_toy`, ours, put);
  }
  // The bundled default model on the bundled recording's gesture windows.
  const root = process.cwd();
  const model = loadClassifierModel(path.join(root, 'models', 'gesture'));
  const gestures = await openDataset(path.join(root, 'recordings', 'gestures'), { split: 'all' });
  const frames = await collectFrameDataset(gestures, { binUs: model.binUs, T: model.maxSteps, downsample: model.downsample });
  const ours = measureSnn(model.net, frames, '32x32_bundled_gesture_model', put);
  await anchor(ort, model.net, frames, '32x32_bundled_gesture_model', ours, put);
  printFigures('snn', figures);
}

main().catch((e) => { process.stderr.write(String(e && (e as Error).stack || e) + '\n'); process.exit(1); });
