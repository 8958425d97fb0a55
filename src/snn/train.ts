/**
 * Training of the quantized ANN (then converted to an SNN).
 *
 * Recipe: AdamW (Adam with decoupled weight decay on kernels), cosine learning-rate schedule per
 * step, seeded init and per-epoch seeded shuffles/augmentation (the same seed gives the same model on
 * the same backend). λ starts from activation statistics of the first batch. A checkpoint (weights +
 * Adam moments + epoch) is written after every epoch and can be resumed from.
 *
 * The ANN is trained and validated on the input the SNN integrates. After k steps the first spiking
 * layer has received Σ_{t≤k}(W·x_t + b) = k·(W·x̄_k + b), x̄_k the mean of the first k frames, so a
 * rate-coded SNN at step k approximates the ANN on x̄_k. Each training sample is therefore shown as
 * x̄_k for a random k ∈ [1, T] (shifted by a random (dy, dx) ∈ [−2, 2]², zero fill), and validation
 * scores the ANN on x̄_k at k ∈ {1, ⌈T/4⌉, ⌈T/2⌉, T} (`valAccSteps`; their mean is `valAccMatched`)
 * besides `valAcc` on x̄_T, the full window alone, which on moving gestures blurs the motion and is
 * not what the SNN sees at most steps (src/eval/baselines.ts reports the whole curve).
 *
 * A sample labelled −1 has no class (a no-gesture sample of a live-style cut, `frames --live-style`):
 * its target is the uniform distribution, so the model learns to be unsure on such input and
 * Dynamic Confidence's θ keeps its decisions there uncertain. With per-step labels (`stepLabels`)
 * the prefix of k frames is shown with the class of that prefix. Accuracies count labelled samples only.
 */
import * as tf from '@tensorflow/tfjs';
import { QuantizedAnn, NamedWeight } from './ann';
import { FrameDataset, labelAt, meanOfFirstK, validateDataset } from './dataset';
import { defaultSpec, ModelSpec, ResolvedSpec, validateSpec } from './spec';
import { deriveSeed, mulberry32, randInt, shuffle } from '../prng';
import { EpochLog, hasModel, InputBinning, loadModel, ModelMeta, SavedModel, saveModel } from './model/model-file';
import type { ConversionMode } from './convert';

export interface TrainOptions {
  /** Model spec (default: defaultSpec(height, width, classes)). */
  spec?: ModelSpec | ResolvedSpec;
  /** Class names (default: data.classes, else "0".."n−1"). */
  classes?: string[];
  epochs: number;
  batchSize?: number;
  /** Peak learning rate (default 5e-3), decayed by a cosine to lr·minLrFactor (default 0.01). */
  lr?: number;
  minLrFactor?: number;
  /** Decoupled weight decay on kernels (default 1e-4). */
  weightDecay?: number;
  seed?: number;
  validation?: FrameDataset;
  /** Max random shift in pixels (default 2; 0 disables). */
  shift?: number;
  /** Train on the mean of the first k frames for random k ∈ [1, T] (default true); false: all T frames. */
  randomK?: boolean;
  /** λ init: 'stats' (default: quantile of the first batch's pre-activations) or a number. */
  lambdaInit?: 'stats' | number;
  /** Start from this trained model's weights (fine-tuning; same spec), instead of a seeded initialisation. */
  init?: SavedModel;
  /** Per-epoch checkpoint directory; with resume, training continues from it. */
  checkpointDir?: string;
  resume?: boolean;
  /** Stored in the model's spikestream.json. */
  dataset?: string;
  binning?: InputBinning;
  conversionMode?: ConversionMode;
  backend?: string;
}

export interface TrainProgress {
  phase: 'batch' | 'epoch';
  epoch: number; epochs: number;
  batch: number; batches: number;
  step: number; totalSteps: number;
  /** Running means over the epoch so far. */
  loss: number; acc: number;
  samplesPerSec: number; etaSec: number; lr: number;
  valAcc?: number;
  /** Mean validation accuracy of the ANN on the prefix means at `validationSteps(T)`. */
  valAccMatched?: number;
}

/** One epoch's log entry: EpochLog plus the matched validation (prefix lengths and accuracies). */
export type TrainEpochLog = EpochLog & { valAccSteps?: { k: number; acc: number }[]; valAccMatched?: number };

/** Prefix lengths k the validation scores the ANN on: early, middle and final steps of the SNN. */
export function validationSteps(T: number): number[] {
  return [...new Set([1, Math.ceil(T / 4), Math.ceil(T / 2), T])].filter((k) => k >= 1 && k <= T).sort((a, b) => a - b);
}

export interface TrainResult { ann: QuantizedAnn; log: EpochLog[]; model: SavedModel }

function lrAt(step: number, total: number, lr: number, minFactor: number): number {
  const p = total <= 1 ? 1 : Math.min(1, step / (total - 1));
  return lr * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Adam with decoupled weight decay; moments are tf.Variables so they can be checkpointed. */
class AdamW {
  t = 0;
  readonly m: tf.Variable[]; readonly v: tf.Variable[];
  constructor(readonly vars: tf.Variable[], readonly decay: boolean[], readonly beta1 = 0.9, readonly beta2 = 0.999, readonly eps = 1e-8) {
    this.m = vars.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
    this.v = vars.map((x) => tf.tidy(() => tf.variable(tf.zerosLike(x), false)));
  }
  apply(grads: tf.Tensor[], lr: number, wd: number, lambdaIdx: Set<number>): void {
    this.t++;
    const c1 = 1 - this.beta1 ** this.t, c2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      this.vars.forEach((w, i) => {
        const g = grads[i];
        const m = tf.add(tf.mul(this.m[i], this.beta1), tf.mul(g, 1 - this.beta1));
        const v = tf.add(tf.mul(this.v[i], this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
        this.m[i].assign(m); this.v[i].assign(v);
        let upd = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps));
        if (this.decay[i] && wd > 0) upd = tf.add(upd, tf.mul(w, lr * wd));
        let nw = tf.sub(w, upd);
        if (lambdaIdx.has(i)) nw = tf.maximum(nw, 1e-3); // λ stays positive
        w.assign(nw);
      });
    });
  }
  state(names: string[]): NamedWeight[] {
    const out: NamedWeight[] = [];
    this.vars.forEach((x, i) => {
      out.push({ name: `opt/m/${names[i]}`, shape: x.shape.slice(), data: Float32Array.from(this.m[i].dataSync() as Float32Array) });
      out.push({ name: `opt/v/${names[i]}`, shape: x.shape.slice(), data: Float32Array.from(this.v[i].dataSync() as Float32Array) });
    });
    return out;
  }
  restore(names: string[], weights: NamedWeight[], t: number): void {
    const by = new Map(weights.map((w) => [w.name, w]));
    names.forEach((n, i) => {
      const m = by.get(`opt/m/${n}`), v = by.get(`opt/v/${n}`);
      if (!m || !v) throw new Error(`checkpoint lacks optimizer state for ${n}`);
      tf.tidy(() => { this.m[i].assign(tf.tensor(m.data, this.vars[i].shape)); this.v[i].assign(tf.tensor(v.data, this.vars[i].shape)); });
    });
    this.t = t;
  }
  dispose(): void { for (const x of [...this.m, ...this.v]) x.dispose(); }
}

/** Fills `buf` with the (augmented) inputs of samples `ids`; returns the labels. */
export function makeBatch(ds: FrameDataset, ids: ArrayLike<number>, buf: Float32Array, rng: (() => number) | null, shift: number, randomK: boolean): Int32Array {
  const size = ds.height * ds.width * 2;
  const labels = new Int32Array(ids.length);
  for (let b = 0; b < ids.length; b++) {
    const i = ids[b];
    const k = rng && randomK ? randInt(rng, 1, ds.T) : ds.T;
    const dy = rng && shift ? randInt(rng, -shift, shift) : 0;
    const dx = rng && shift ? randInt(rng, -shift, shift) : 0;
    meanOfFirstK(ds, i, k, buf, dy, dx, b * size);
    labels[b] = labelAt(ds, i, k);
  }
  return labels;
}

/**
 * Training targets, one row per label: one-hot, or the uniform distribution for −1 (no class: a
 * no-gesture sample of a live-style cut), so that the model learns to be unsure there.
 */
export function targets(labels: Int32Array, classes: number): Float32Array {
  const y = new Float32Array(labels.length * classes);
  labels.forEach((l, b) => {
    if (l < 0) y.fill(1 / classes, b * classes, (b + 1) * classes);
    else y[b * classes + l] = 1;
  });
  return y;
}

/** ANN accuracy on the mean of the first k frames (default all T), in batches, over the samples with a class (label ≥ 0). */
export function annAccuracy(ann: QuantizedAnn, ds: FrameDataset, k = ds.T, batchSize = 64): number {
  const size = ds.height * ds.width * 2;
  let correct = 0;
  let labelled = 0;
  for (let s = 0; s < ds.n; s += batchSize) {
    const m = Math.min(batchSize, ds.n - s);
    const buf = new Float32Array(m * size);
    for (let b = 0; b < m; b++) meanOfFirstK(ds, s + b, Math.min(k, ds.T), buf, 0, 0, b * size);
    const pred = tf.tidy(() => ann.predict(tf.tensor4d(buf, [m, ds.height, ds.width, 2])));
    for (let b = 0; b < m; b++) {
      const label = labelAt(ds, s + b, k);
      if (label < 0) continue;
      labelled++;
      if (pred[b] === label) correct++;
    }
  }
  return labelled > 0 ? correct / labelled : NaN;
}

/** The model-file form of a trained ANN. */
export function annToSavedModel(ann: QuantizedAnn, meta: Partial<ModelMeta> & { T: number }): SavedModel {
  const lambdas: Record<string, number> = {};
  for (const [i, l] of ann.lambdas()) lambdas[String(i)] = l;
  const { T, ...rest } = meta;
  const full: ModelMeta = {
    format: 'spikestream-model', version: 1,
    spec: ann.spec, lambdas,
    conversion: meta.conversion ?? { mode: 'qcfs', T },
    classes: ann.spec.classes,
    calibration: meta.calibration ?? { alpha: null, tau: null },
    ...rest,
  } as ModelMeta;
  full.format = 'spikestream-model'; full.version = 1; full.spec = ann.spec; full.lambdas = lambdas; full.classes = ann.spec.classes;
  return { meta: full, weights: ann.getWeights() };
}

/** The network to train: the given spec or the default one for the data, checked against the data's size and labels. */
function trainingSpec(data: FrameDataset, opts: TrainOptions): ResolvedSpec {
  const classes = opts.classes ?? data.classes ?? (opts.spec ? (opts.spec as ModelSpec).classes : undefined)
    ?? Array.from({ length: Math.max(...Array.from(data.labels)) + 1 }, (_, i) => String(i));
  const spec = opts.spec ? validateSpec(opts.spec) : defaultSpec(data.height, data.width, classes);
  if (spec.input.height !== data.height || spec.input.width !== data.width)
    throw new Error(`spec input ${spec.input.height}×${spec.input.width} does not match the data's ${data.height}×${data.width}`);
  for (const l of [...data.labels, ...(data.stepLabels ?? [])]) if (l < -1 || l >= spec.classes.length) throw new Error(`label ${l} outside the ${spec.classes.length} classes (or −1, no class)`);
  return spec;
}

/**
 * Where training starts: a checkpoint to resume (weights, optimizer state, epoch and log: returned),
 * a model to fine-tune, or fresh weights with each λ set from activation statistics of 64 samples.
 */
function initialWeights(
  ann: QuantizedAnn,
  opt: AdamW,
  names: string[],
  spec: ResolvedSpec,
  data: FrameDataset,
  opts: TrainOptions,
): { startEpoch: number; log: EpochLog[] } | undefined {
  const ckpt = opts.checkpointDir;
  if (ckpt && opts.resume && hasModel(ckpt)) {
    const saved = loadModel(ckpt);
    if (!saved.meta.checkpoint) throw new Error(`${ckpt} is a model, not a training checkpoint`);
    if (JSON.stringify(saved.spec) !== JSON.stringify(spec)) throw new Error(`checkpoint ${ckpt} was trained with a different spec`);
    ann.setWeights(saved.weights.filter((w) => !w.name.startsWith('opt/')));
    opt.restore(names, saved.weights, saved.meta.checkpoint.step);
    const startEpoch = saved.meta.checkpoint.epoch + 1;
    return { startEpoch, log: (saved.meta.training?.log ?? []).slice(0, startEpoch) };
  } else if (opts.init) {
    if (JSON.stringify(opts.init.meta.spec) !== JSON.stringify(spec)) throw new Error('the model to start from (init) has a different spec');
    ann.setWeights(opts.init.weights.filter((w) => !w.name.startsWith('opt/')));
  } else if (opts.lambdaInit === undefined || opts.lambdaInit === 'stats') {
    const size = data.height * data.width * 2;
    const m = Math.min(data.n, 64), buf = new Float32Array(m * size);
    const ids = Array.from({ length: m }, (_, i) => i);
    makeBatch(data, ids, buf, null, 0, false);
    const x = tf.tensor4d(buf, [m, data.height, data.width, 2]);
    ann.calibrateLambdas(x);
    x.dispose();
  }
  return undefined;
}

/** The epoch's validation accuracy at each k of validationSteps (the mean of the first k frames) and at T. */
function addValidation(entry: TrainEpochLog, ann: QuantizedAnn, val: FrameDataset): void {
  entry.valAccSteps = validationSteps(val.T).map((k) => ({ k, acc: k === val.T ? NaN : annAccuracy(ann, val, k) }));
  entry.valAcc = annAccuracy(ann, val);
  for (const v of entry.valAccSteps) if (v.k === val.T) v.acc = entry.valAcc;
  entry.valAccMatched = entry.valAccSteps.reduce((a, v) => a + v.acc, 0) / entry.valAccSteps.length;
}

export async function trainAnn(data: FrameDataset, opts: TrainOptions, onProgress?: (p: TrainProgress) => void): Promise<TrainResult> {
  validateDataset(data, 'training data');
  if (opts.validation) validateDataset(opts.validation, 'validation data');
  const spec = trainingSpec(data, opts);
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error('epochs must be a positive integer');
  const batchSize = opts.batchSize ?? 32, lr = opts.lr ?? 5e-3, minLrFactor = opts.minLrFactor ?? 0.01;
  const wd = opts.weightDecay ?? 1e-4, seed = opts.seed ?? 0, shift = opts.shift ?? 2, randomK = opts.randomK ?? true;
  const batches = Math.ceil(data.n / batchSize), totalSteps = batches * opts.epochs;
  const size = data.height * data.width * 2;

  const ann = QuantizedAnn.create(spec, seed, typeof opts.lambdaInit === 'number' ? opts.lambdaInit : 4);
  const vars = ann.variables(), names = ann.variableNames();
  const lambdaIdx = new Set(names.map((n, i) => (n.endsWith('/lambda') ? i : -1)).filter((i) => i >= 0));
  const opt = new AdamW(vars, ann.decayMask());
  let log: EpochLog[] = [];
  const baseMeta = (): Partial<ModelMeta> & { T: number } => ({
    T: data.T, seed, dataset: opts.dataset, binning: opts.binning ?? { T: data.T },
    conversion: { mode: opts.conversionMode ?? 'qcfs', T: data.T },
    training: { epochs: opts.epochs, batchSize, lr, minLrFactor, weightDecay: wd, shift, randomK, backend: opts.backend ?? tf.getBackend(), log },
  });

  const ckpt = opts.checkpointDir;
  const resumed = initialWeights(ann, opt, names, spec, data, opts);
  const startEpoch = resumed?.startEpoch ?? 0;
  if (resumed) log = resumed.log;

  const buf = new Float32Array(batchSize * size);
  const t0 = Date.now();
  let samplesDone = 0;
  for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
    const te = Date.now();
    const rng = mulberry32(deriveSeed(seed, epoch));
    const order = shuffle(Int32Array.from({ length: data.n }, (_, i) => i), rng);
    let lossSum = 0, correct = 0, seen = 0, labelled = 0;
    let lrNow = lr;
    for (let b = 0; b < batches; b++) {
      const ids = order.subarray(b * batchSize, Math.min(data.n, (b + 1) * batchSize));
      const m = ids.length;
      const labels = makeBatch(data, ids, buf, rng, shift, randomK);
      lrNow = lrAt(opt.t, totalSteps, lr, minLrFactor);
      const stats = tf.tidy(() => {
        const x = tf.tensor4d(buf.subarray(0, m * size), [m, data.height, data.width, 2]);
        const y = tf.tensor2d(targets(labels, spec.classes.length), [m, spec.classes.length]);
        let hits: tf.Tensor | null = null;
        const { value, grads } = tf.variableGrads(() => {
          const logits = ann.forward(x, { train: true });
          hits = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.tensor1d(labels, 'int32')), 'float32')));
          return tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
        }, vars);
        opt.apply(vars.map((v) => grads[v.name]), lrNow, wd, lambdaIdx);
        const out = tf.stack([value, hits!]).dataSync();
        tf.dispose(hits!);
        return out;
      });
      lossSum += stats[0] * m; correct += stats[1]; seen += m; samplesDone += m;
      for (const l of labels) if (l >= 0) labelled++;
      const elapsed = (Date.now() - t0) / 1000;
      const sps = samplesDone / Math.max(elapsed, 1e-3);
      const remaining = (opts.epochs - epoch - 1) * data.n + (data.n - seen);
      onProgress?.({ phase: 'batch', epoch, epochs: opts.epochs, batch: b, batches, step: opt.t, totalSteps, loss: lossSum / seen, acc: correct / Math.max(1, labelled),
        samplesPerSec: sps, etaSec: remaining / sps, lr: lrNow });
      if (onProgress) await new Promise((r) => setImmediate(r));
    }
    const seconds = (Date.now() - te) / 1000;
    const entry: TrainEpochLog = { epoch, loss: lossSum / seen, acc: correct / Math.max(1, labelled), lr: lrNow, seconds, samplesPerSec: seen / seconds };
    if (opts.validation) addValidation(entry, ann, opts.validation);
    log.push(entry);
    const elapsed = (Date.now() - t0) / 1000, sps = samplesDone / Math.max(elapsed, 1e-3);
    onProgress?.({ phase: 'epoch', epoch, epochs: opts.epochs, batch: batches - 1, batches, step: opt.t, totalSteps, loss: entry.loss, acc: entry.acc,
      samplesPerSec: entry.samplesPerSec, etaSec: ((opts.epochs - epoch - 1) * data.n) / sps, lr: lrNow, valAcc: entry.valAcc, valAccMatched: entry.valAccMatched });
    if (ckpt) {
      const model = annToSavedModel(ann, baseMeta());
      model.meta.checkpoint = { epoch, step: opt.t };
      saveModel(ckpt, { meta: model.meta, weights: [...model.weights, ...opt.state(names)] });
    }
  }
  opt.dispose();
  return { ann, log, model: annToSavedModel(ann, baseMeta()) };
}
