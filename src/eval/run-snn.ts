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
  /**
   * 'frames' (default): frame t at step t. 'mean-frame': the mean of the sample's first T frames at
   * every step — the constant input on which a converted SNN should reproduce its ANN (the
   * conversion check; see baselines.ts).
   */
  readonly input?: 'frames' | 'mean-frame';
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
  const size = ds.height * ds.width * 2;
  const meanFrames = opts.input === 'mean-frame' ? new Float32Array(slots * size) : undefined;
  opts.onProgress?.(0, n);
  for (let start = 0; start < n; start += slots) {
    const m = Math.min(slots, n - start);
    for (let b = 0; b < m; b++) {
      slotOf[b] = runner.admit();
      lastSpikes[b] = 0;
      labels[start + b] = ds.labels[ids[start + b]];
      if (meanFrames) meanOfFirstK(ds, ids[start + b], T, meanFrames, 0, 0, b * size);
    }
    const inputs = new Array<{ slot: number; frame: Float32Array }>(m);
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < m; b++) {
        const frame = meanFrames ? meanFrames.subarray(b * size, (b + 1) * size) : frameOf(ds, ids[start + b], t);
        inputs[b] = { slot: slotOf[b], frame };
      }
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

/** Writes input j (H·W·2 values) of an ANN batch into buf at offset. */
export type AnnInputFn = (j: number, buf: Float32Array, offset: number) => void;

/**
 * ANN logits [count × C] of `count` inputs that `fill` writes one by one, in batches, on the active
 * tfjs backend. The building block of `annLogits` and of the matched baselines (baselines.ts).
 */
export async function annLogitsOf(
  spec: ResolvedSpec,
  weights: NamedWeight[],
  count: number,
  fill: AnnInputFn,
  opts: { batchSize?: number; onProgress?: ProgressFn } = {},
): Promise<Float32Array> {
  const batch = Math.max(1, opts.batchSize ?? 32);
  const { height: H, width: W } = spec.input;
  const C = spec.classes.length;
  const size = H * W * 2;
  const ann = QuantizedAnn.fromWeights(spec, weights.filter((w) => !w.name.startsWith('opt/')));
  const out = new Float32Array(count * C);
  const buf = new Float32Array(batch * size);
  try {
    opts.onProgress?.(0, count);
    for (let s = 0; s < count; s += batch) {
      const m = Math.min(batch, count - s);
      for (let b = 0; b < m; b++) fill(s + b, buf, b * size);
      const logits = tf.tidy(() => ann.forward(tf.tensor4d(buf.subarray(0, m * size), [m, H, W, 2])).dataSync() as Float32Array);
      out.set(logits.subarray(0, m * C), s * C);
      opts.onProgress?.(s + m, count);
      await yieldToLoop();
    }
  } finally {
    ann.dispose();
  }
  return out;
}

/** Throws when the frames do not fit the ANN's input. */
export function checkAnnInput(spec: ResolvedSpec, ds: FrameDataset): void {
  if (ds.height !== spec.input.height || ds.width !== spec.input.width) {
    throw new Error(`data: frames are ${ds.height}×${ds.width}, the model expects ${spec.input.height}×${spec.input.width}`);
  }
}

/**
 * ANN logits [N × C] on the mean of each sample's first T frames (all frames by default) — the
 * input the training validates on (src/snn/train.ts) and the constant input of the conversion check.
 */
export async function annLogits(
  spec: ResolvedSpec,
  weights: NamedWeight[],
  ds: FrameDataset,
  opts: { T?: number; batchSize?: number; onProgress?: ProgressFn } = {},
): Promise<Float32Array> {
  checkAnnInput(spec, ds);
  const T = Math.min(opts.T ?? ds.T, ds.T);
  return annLogitsOf(spec, weights, ds.n, (i, buf, o) => meanOfFirstK(ds, i, T, buf, 0, 0, o), opts);
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

/** The first T steps of a recording (a copy): the SNN is causal, so this is the run with T steps. */
export function truncateRecording(rec: SnnRecording, T: number): SnnRecording {
  if (!(Number.isInteger(T) && T >= 1 && T <= rec.T)) throw new RangeError(`truncateRecording: T = ${T} outside 1..${rec.T}`);
  if (T === rec.T) return rec;
  const { n, classes: C } = rec;
  const outputs = new Float32Array(n * T * C);
  const spikes = new Float64Array(n * T);
  for (let i = 0; i < n; i++) {
    outputs.set(rec.outputs.subarray(i * rec.T * C, (i * rec.T + T) * C), i * T * C);
    spikes.set(rec.spikes.subarray(i * rec.T, i * rec.T + T), i * T);
  }
  return { ...rec, T, outputs, spikes };
}
