/**
 * Offline runs of a converted SNN and of its source ANN over a frames dataset — the measurements
 * that calibration (calibrate.ts) and evaluation (evaluate.ts) are built from.
 *
 *  - `recordSnn` steps every sample for T steps through an SnnRunner with many slots (all live
 *    samples of a chunk advance together, one `step()` call per time step) and records the
 *    accumulated output O_t of every sample and step (row-major [N × T × C]) and the spike events
 *    emitted at every step by all spiking layers together ([N × T], negative QFFS spikes counted by
 *    magnitude, output layer excluded). The runner's per-sample arithmetic does not depend on the
 *    slot or the batch, so the recording equals running each sample alone.
 *  - `annLogits` evaluates the quantized ANN (tfjs) on the input it was validated on during
 *    training: the mean of the sample's T frames (see src/snn/train.ts, `annAccuracy`).
 *
 * Progress is reported through a callback (done, total) so that callers choose the display; the
 * functions yield to the event loop between chunks so that a progress bar can redraw.
 */
import * as tf from '@tensorflow/tfjs';
import { QuantizedAnn, type NamedWeight } from '../snn/ann';
import type { SnnNetwork } from '../snn/convert';
import { frameOf, meanOfFirstK, type FrameDataset } from '../snn/dataset';
import { SnnRunner } from '../snn/runner';
import type { ResolvedSpec } from '../snn/spec';

export type ProgressFn = (done: number, total: number) => void;

export interface SnnRecording {
  readonly n: number;
  readonly T: number;
  readonly classes: number;
  /** O_t at [(i·T + t)·C + k]. */
  readonly outputs: Float32Array;
  /** Spike events of sample i at 0-based step t, over all spiking layers, at [i·T + t]. */
  readonly spikes: Float64Array;
  /** Neurons in the spiking layers (output layer excluded). */
  readonly neurons: number;
  readonly labels: Int32Array;
}

export interface RecordOptions {
  /** Steps to run (default ds.T); the dataset must have at least that many frames per sample. */
  readonly T?: number;
  /** Runner slots, i.e. samples stepped together (default 64). */
  readonly slots?: number;
  /** Only these sample indices (default all), in this order. */
  readonly indices?: ArrayLike<number>;
  readonly onProgress?: ProgressFn;
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Checks that the dataset's frames fit the network's input. */
export function checkInput(net: SnnNetwork, ds: FrameDataset, what = 'data'): void {
  if (ds.height !== net.inputHeight || ds.width !== net.inputWidth) {
    throw new Error(`${what}: frames are ${ds.height}×${ds.width}, the model expects ${net.inputHeight}×${net.inputWidth}`);
  }
}

/** Runs the SNN for T steps over the dataset (batched over slots) and records O_t and spikes. */
export async function recordSnn(net: SnnNetwork, ds: FrameDataset, opts: RecordOptions = {}): Promise<SnnRecording> {
  checkInput(net, ds);
  const T = opts.T ?? ds.T;
  if (!Number.isInteger(T) || T < 1 || T > ds.T) throw new Error(`recordSnn: T = ${T} outside 1..${ds.T} (frames per sample)`);
  const ids = opts.indices ? Int32Array.from(opts.indices) : Int32Array.from({ length: ds.n }, (_, i) => i);
  const n = ids.length;
  const C = net.classes.length;
  const slots = Math.max(1, Math.min(opts.slots ?? 64, n || 1));
  const runner = new SnnRunner(net, slots);
  const outputs = new Float32Array(n * T * C);
  const spikes = new Float64Array(n * T);
  const labels = new Int32Array(n);
  const slotOf = new Int32Array(slots);
  const lastSpikes = new Float64Array(slots);
  opts.onProgress?.(0, n);
  for (let start = 0; start < n; start += slots) {
    const m = Math.min(slots, n - start);
    for (let b = 0; b < m; b++) {
      slotOf[b] = runner.admit();
      lastSpikes[b] = 0;
      labels[start + b] = ds.labels[ids[start + b]];
    }
    const inputs = new Array<{ slot: number; frame: Float32Array }>(m);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < m; b++) inputs[b] = { slot: slotOf[b], frame: frameOf(ds, ids[start + b], t) };
      runner.step(inputs);
      for (let b = 0; b < m; b++) {
        const r = runner.read(slotOf[b]);
        const i = start + b;
        outputs.set(r.output, (i * T + t) * C);
        let total = 0;
        for (const s of r.spikes) total += s;
        spikes[i * T + t] = total - lastSpikes[b];
        lastSpikes[b] = total;
      }
    }
    for (let b = 0; b < m; b++) runner.release(slotOf[b]);
    opts.onProgress?.(start + m, n);
    await yieldToLoop();
  }
  return { n, T, classes: C, outputs, spikes, neurons: runner.totalNeurons, labels };
}

/** O_T (the last step) of every sample, row-major [N × C]. */
export function finalOutputs(rec: SnnRecording): Float32Array {
  const { n, T, classes: C } = rec;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) out.set(rec.outputs.subarray(((i * T) + T - 1) * C, (i * T + T) * C), i * C);
  return out;
}

/**
 * ANN logits [N × C] on the mean of each sample's first T frames (all frames by default) — the
 * input `annAccuracy` validates on during training. Uses the active tfjs backend.
 */
export async function annLogits(
  spec: ResolvedSpec,
  weights: NamedWeight[],
  ds: FrameDataset,
  opts: { T?: number; batchSize?: number; onProgress?: ProgressFn } = {},
): Promise<Float32Array> {
  if (ds.height !== spec.input.height || ds.width !== spec.input.width) {
    throw new Error(`data: frames are ${ds.height}×${ds.width}, the model expects ${spec.input.height}×${spec.input.width}`);
  }
  const T = Math.min(opts.T ?? ds.T, ds.T);
  const batch = Math.max(1, opts.batchSize ?? 32);
  const C = spec.classes.length;
  const size = ds.height * ds.width * 2;
  const ann = QuantizedAnn.fromWeights(spec, weights.filter((w) => !w.name.startsWith('opt/')));
  const out = new Float32Array(ds.n * C);
  try {
    opts.onProgress?.(0, ds.n);
    for (let s = 0; s < ds.n; s += batch) {
      const m = Math.min(batch, ds.n - s);
      const buf = new Float32Array(m * size);
      for (let b = 0; b < m; b++) meanOfFirstK(ds, s + b, T, buf, 0, 0, b * size);
      const logits = tf.tidy(() => ann.forward(tf.tensor4d(buf, [m, ds.height, ds.width, 2])).dataSync() as Float32Array);
      out.set(logits.subarray(0, m * C), s * C);
      opts.onProgress?.(s + m, ds.n);
      await yieldToLoop();
    }
  } finally {
    ann.dispose();
  }
  return out;
}

/** argmax of each row of a row-major [N × C] matrix. */
export function argmaxRows(x: ArrayLike<number>, C: number): Int32Array {
  const n = Math.floor(x.length / C);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let k = 1; k < C; k++) if (x[i * C + k] > x[i * C + a]) a = k;
    out[i] = a;
  }
  return out;
}

/** Fraction of rows whose argmax equals the label. */
export function accuracyOf(x: ArrayLike<number>, labels: ArrayLike<number>, C: number): number {
  const p = argmaxRows(x, C);
  let c = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) c++;
  return p.length > 0 ? c / p.length : NaN;
}
