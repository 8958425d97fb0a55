/**
 * bench:snn's anchor: the same converted network as a dense ONNX graph (snn-graph.ts) run by
 * onnxruntime-node on the CPU, one thread. onnxruntime-node stays out of the root package: it is
 * this folder's own dependency (package.json + package-lock.json here), installed on first use
 * with `npm ci` and ONNXRUNTIME_NODE_INSTALL_CUDA=skip. When it cannot be installed or loaded,
 * `loadOnnxRuntime` says why and bench:snn prints its own figures without the anchor.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as path from 'path';
import type { FrameDataset } from '../../src/snn/dataset';
import { frameOf } from '../../src/snn/dataset';
import type { SnnNetwork } from '../../src/snn/convert';
import { snnStepGraph } from './snn-graph';

/** The part of onnxruntime-node's API the anchor uses. */
interface OrtTensor { readonly data: Float32Array; readonly dims: readonly number[] }
interface OrtSession { run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>; release?(): Promise<void> }
export interface OnnxRuntime {
  readonly version: string;
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, o: Record<string, unknown>): Promise<OrtSession> };
}

/** The folder holding this package's package.json (bench/onnx in the source tree). */
export function anchorDir(): string {
  for (let d = __dirname; ; d = path.dirname(d)) {
    const dir = path.join(d, 'bench', 'onnx');
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(d) === d) throw new Error('bench/onnx/package.json not found above ' + __dirname);
  }
}

/** onnxruntime-node, installed into bench/onnx on first use; a string says why it is not available. */
export function loadOnnxRuntime(log: (line: string) => void): OnnxRuntime | string {
  let dir: string;
  try {
    dir = anchorDir();
  } catch (err) {
    return (err as Error).message;
  }
  const req = createRequire(path.join(dir, 'package.json'));
  const load = (): OnnxRuntime => {
    const ort = req('onnxruntime-node') as Omit<OnnxRuntime, 'version'> & { env?: { versions?: { common?: string } } };
    const pkg = req('onnxruntime-node/package.json') as { version: string };
    return { ...ort, version: pkg.version };
  };
  if (!fs.existsSync(path.join(dir, 'node_modules', 'onnxruntime-node'))) {
    log(`bench:snn: installing the ONNX Runtime anchor into ${dir} (npm ci, ~300 MB, CPU only) …`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: dir, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip' }, encoding: 'utf8', timeout: 600_000 });
    if (r.status !== 0) return `npm ci in ${dir} failed (${r.error?.message ?? (r.stderr || '').trim().split('\n').pop() ?? `exit ${r.status}`})`;
  }
  try {
    return load();
  } catch (err) {
    return `onnxruntime-node does not load (${String((err as Error).message).split('\n')[0]})`;
  }
}

export interface OnnxFigures {
  /** Median ms of one step at batch 1. */
  batch1Ms: number;
  /** Sample-steps per second at batch 32 (32 / the median time of one batched step). */
  batch32PerS: number;
  /** max |O_T(onnx) − O_T(ours)| / max |O_T(ours)| over the first samples (sanity). */
  agreement: number;
}

/** Steps the dense graph over `ds` in ONNX Runtime (1 thread): batch-1 latency, batch-32 throughput, agreement with `reference` O_T. */
export async function measureOnnx(ort: OnnxRuntime, net: SnnNetwork, ds: FrameDataset, reference: (sample: number) => Float32Array): Promise<OnnxFigures> {
  const g = snnStepGraph(net);
  const session = await ort.InferenceSession.create(g.bytes, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const classes = net.classes.length, H = net.inputHeight, W = net.inputWidth, size = H * W * 2;
  const fresh = (B: number): Record<string, OrtTensor> => {
    const state: Record<string, OrtTensor> = { o: new ort.Tensor('float32', new Float32Array(B * classes), [B, classes]) };
    g.stateShapes.forEach((shape, j) => {
      const n = shape.reduce((a, b) => a * b, 1);
      state[`v${j}`] = new ort.Tensor('float32', new Float32Array(B * n).fill(g.thresholds[j] / 2), [B, ...shape]);
    });
    return state;
  };
  const step = async (state: Record<string, OrtTensor>, B: number, frame: (b: number) => Float32Array): Promise<Record<string, OrtTensor>> => {
    const x = new Float32Array(B * size);
    for (let b = 0; b < B; b++) x.set(frame(b), b * size);
    const out = await session.run({ ...state, x: new ort.Tensor('float32', x, [B, H, W, 2]) });
    const next: Record<string, OrtTensor> = { o: out.o_next };
    g.stateShapes.forEach((_, j) => (next[`v${j}`] = out[`v${j}_next`]));
    return next;
  };
  // Agreement: full T-step runs of the first samples against our runner's O_T.
  let agreement = 0;
  for (let i = 0; i < Math.min(4, ds.n); i++) {
    let st = fresh(1);
    for (let t = 0; t < ds.T; t++) st = await step(st, 1, () => frameOf(ds, i, t));
    const ours = reference(i), theirs = st.o.data;
    const scale = Math.max(1e-6, ...Array.from(ours, Math.abs));
    for (let q = 0; q < classes; q++) agreement = Math.max(agreement, Math.abs(ours[q] - theirs[q]) / scale);
  }
  const times: number[] = [];
  let st = fresh(1);
  for (let k = 0; k < 450; k++) {
    const t0 = process.hrtime.bigint();
    st = await step(st, 1, () => frameOf(ds, Math.floor(k / ds.T) % ds.n, k % ds.T));
    if (k >= 50) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  const B = 32;
  let sb = fresh(B);
  for (let k = 0; k < 5; k++) sb = await step(sb, B, (b) => frameOf(ds, b % ds.n, k % ds.T));
  const batchTimes: number[] = [];
  for (let k = 0; k < 60; k++) {
    const t0 = process.hrtime.bigint();
    sb = await step(sb, B, (b) => frameOf(ds, (b * 7) % ds.n, (k + b) % ds.T));
    batchTimes.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  batchTimes.sort((a, b) => a - b);
  await session.release?.();
  return { batch1Ms: times[Math.floor(times.length / 2)], batch32PerS: B / batchTimes[Math.floor(batchTimes.length / 2)], agreement };
}
