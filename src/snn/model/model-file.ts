/**
 * Model files — the only module of the SNN engine that touches the file system (with frames-file.ts
 * for datasets).
 *
 * A model directory holds:
 *   model.json        TF.js-style weights manifest: { format, generatedBy, weightsManifest:
 *                     [{ paths: ["weights.bin"], weights: [{ name, shape, dtype: "float32" }] }] }
 *   weights.bin       the weights, little-endian float32, concatenated in manifest order
 *   spikestream.json  everything else needed to run and reproduce the model (ModelMeta below)
 * Weight names are those of ann.ts (`l{i}/kernel`, `l{i}/bias`, `l{i}/lambda`, `out/kernel`, `out/bias`);
 * a training checkpoint adds the optimizer's moments as `opt/m/<name>` and `opt/v/<name>`.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { NamedWeight } from '../weights';
import { ModelSpec, ResolvedSpec, validateSpec } from '../spec';
import type { ConversionMode } from '../convert';
import type { InputEncoding } from '../input-encoding';

export interface InputBinning {
  /** Time window per frame in µs (or eventsPerBin for count binning). */
  binUs?: number;
  eventsPerBin?: number;
  /** Steps per sample (the SNN's maximum T). */
  T: number;
  /** Spatial downsample factor from the sensor to the model input. */
  downsample?: number;
  /** What the input's two channels count (absent: 'polarity', OFF and ON). */
  encoding?: InputEncoding;
  /** time-ramp: the steps the ramp takes from 0 to 1 (absent: T). */
  rampSteps?: number;
}

export interface EpochLog { epoch: number; loss: number; acc: number; valAcc?: number; lr: number; seconds: number; samplesPerSec: number }

export interface ModelMeta {
  format: 'spikestream-model';
  version: 1;
  spec: ModelSpec | ResolvedSpec;
  /** λ per hidden layer (spec layer index → λ); also stored as `l{i}/lambda` weights. */
  lambdas: Record<string, number>;
  conversion: { mode: ConversionMode; T: number };
  binning?: InputBinning;
  classes: string[];
  dataset?: string;
  seed?: number;
  training?: { epochs: number; batchSize: number; lr: number; weightDecay: number; backend?: string; log: EpochLog[]; [k: string]: unknown };
  /** Filled later by calibration (confidence/): α (output scale) and τ (temperature). */
  calibration: { alpha: number | null; tau: number | null; theta?: number | null; [k: string]: unknown };
  /** Training-state of a checkpoint (epoch completed, optimizer step). */
  checkpoint?: { epoch: number; step: number };
  [k: string]: unknown;
}

export interface SavedModel { meta: ModelMeta; weights: NamedWeight[] }

interface WeightsManifestEntry { paths: string[]; weights: Array<{ name: string; shape: number[]; dtype: 'float32' }> }

/** Writes model.json + weights.bin + spikestream.json into dir (created if needed; files replaced atomically). */
export function saveModel(dir: string, model: SavedModel): void {
  fs.mkdirSync(dir, { recursive: true });
  const total = model.weights.reduce((a, w) => a + w.data.length, 0);
  const bin = new Float32Array(total);
  let o = 0;
  for (const w of model.weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    if (size !== w.data.length) throw new Error(`saveModel: weight ${w.name} has ${w.data.length} values for shape [${w.shape}]`);
    bin.set(w.data, o); o += w.data.length;
  }
  const manifest: WeightsManifestEntry[] = [{ paths: ['weights.bin'], weights: model.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }];
  const modelJson = { format: 'spikestream-weights', generatedBy: 'spikestream', convertedBy: null, modelTopology: null, weightsManifest: manifest };
  const write = (name: string, data: string | Uint8Array) => {
    const tmp = path.join(dir, `.${name}.tmp`);
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, path.join(dir, name));
  };
  write('weights.bin', new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength));
  write('model.json', JSON.stringify(modelJson, null, 2) + '\n');
  write('spikestream.json', JSON.stringify(model.meta, null, 2) + '\n');
}

/** Reads a model directory written by saveModel (validates the manifest, sizes and spec). */
export function loadModel(dir: string): SavedModel & { spec: ResolvedSpec } {
  const readJson = (name: string) => {
    const p = path.join(dir, name);
    if (!fs.existsSync(p)) throw new Error(`loadModel: missing ${p}`);
    try { return JSON.parse(fs.readFileSync(p, 'utf8')); } catch (e) { throw new Error(`loadModel: ${p}: ${(e as Error).message}`); }
  };
  const modelJson = readJson('model.json') as { weightsManifest?: WeightsManifestEntry[] };
  const meta = readJson('spikestream.json') as ModelMeta;
  if (meta.format !== 'spikestream-model') throw new Error(`loadModel: ${dir}/spikestream.json is not a spikestream model (format ${JSON.stringify(meta.format)})`);
  if (!Array.isArray(modelJson.weightsManifest)) throw new Error(`loadModel: ${dir}/model.json has no weightsManifest`);
  const weights: NamedWeight[] = [];
  for (const group of modelJson.weightsManifest) {
    const buffers = group.paths.map((p) => fs.readFileSync(path.join(dir, p)));
    const buf = Buffer.concat(buffers);
    let o = 0;
    for (const w of group.weights) {
      if (w.dtype !== 'float32') throw new Error(`loadModel: weight ${w.name} has dtype ${w.dtype} (float32 expected)`);
      const size = w.shape.reduce((a, b) => a * b, 1);
      if (o + size * 4 > buf.length) throw new Error(`loadModel: weights file too short for ${w.name}`);
      const data = new Float32Array(size);
      for (let i = 0; i < size; i++) data[i] = buf.readFloatLE(o + 4 * i);
      o += size * 4;
      weights.push({ name: w.name, shape: w.shape, data });
    }
    if (o !== buf.length) throw new Error(`loadModel: weights file has ${buf.length - o} trailing bytes`);
  }
  const spec = validateSpec(meta.spec);
  return { meta, weights, spec };
}

/** True when dir holds a saved model or checkpoint. */
export function hasModel(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'spikestream.json')) && fs.existsSync(path.join(dir, 'model.json'));
}
