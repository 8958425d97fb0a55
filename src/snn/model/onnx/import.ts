/**
 * `importOnnx`: a QCFS network trained in PyTorch and exported to ONNX becomes a spikestream model
 * (spec, weights in our layout, spikestream.json), which calibrate / evaluate / replay / serve / start
 * take like a model trained here.
 *
 * Layout: PyTorch is NCHW, spikestream NHWC. Conv weights [out, in, kH, kW] become [kH, kW, in, out];
 * linear weights [out, in] become [in, out]; the first linear layer after the convolutions has its
 * input rows reordered from PyTorch's flatten order (c·H·W + y·W + x) to ours ((y·W + x)·C + c).
 * Input channel 0 is OFF, 1 is ON, in both.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import type { NamedWeight } from '../../weights';
import type { ConversionMode } from '../../convert';
import type { InputBinning, ModelMeta, SavedModel } from '../model-file';
import { LayerSpec, ResolvedSpec, validateSpec } from '../../spec';
import { readOnnx } from './read';
import { OnnxImportError } from './refuse';
import { walkGraph, type Walk, type WalkedConv, type WalkedDense } from './walk';

export interface ImportOptions {
  /** Class names (one per output); default "0", "1", …. */
  classes?: string[];
  /** Time bin per step in ms (default 100, the bundled gesture model's). */
  binMs?: number;
  /** Steps per sample T (default 16, the bundled gesture model's). */
  steps?: number;
  /** Sensor → model input downsample factor; default derived from `sensor` and the input size. */
  downsample?: number;
  /** The sensor the model reads (default 128×128, DVS128 Gesture). */
  sensor?: { width: number; height: number };
  /** Default conversion mode (default qcfs). */
  mode?: ConversionMode;
  /** Name of the source recorded in the model (default the path, or "bytes"). */
  source?: string;
}

/** What the importer found, for the user to check against their PyTorch model. */
export interface ImportSummary {
  source: string;
  sha256: string;
  producer: string;
  opset: number;
  input: { channels: 2; height: number; width: number; batch: number | string; scale: number };
  /** One line per layer, in order, e.g. "conv 3×3 → 16 (node /conv1/Conv) + BN + QCFS λ = 2.41". */
  layers: string[];
  activations: { count: number; levels: number; shift: number; shiftMeaning: string; ops: string[]; lambdas: number[] };
  batchNormsFolded: number;
  classes: number;
  binning: InputBinning;
}

export interface ImportedModel extends SavedModel { spec: ResolvedSpec; summary: ImportSummary }

function convKernel(l: WalkedConv): Float32Array {
  const { k, inC, outC, weight } = l;
  const out = new Float32Array(k * k * inC * outC);
  for (let o = 0; o < outC; o++) for (let i = 0; i < inC; i++) for (let y = 0; y < k; y++) for (let x = 0; x < k; x++) {
    out[((y * k + x) * inC + i) * outC + o] = weight[((o * inC + i) * k + y) * k + x];
  }
  return out;
}

function denseKernel(l: WalkedDense): Float32Array {
  const { inF, outF, weight } = l;
  const out = new Float32Array(inF * outF);
  const [C, H, W] = l.flattenedFrom ?? [inF, 1, 1];
  for (let c = 0; c < C; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const torchIndex = (c * H + y) * W + x, ours = (y * W + x) * C + c;
    for (let o = 0; o < outF; o++) out[ours * outF + o] = weight[o * inF + torchIndex];
  }
  return out;
}

/** The one L and shift of every activation (spikestream runs one of each per network). */
function quantization(walk: Walk): { levels: number; shift: number } {
  const acts = walk.layers.flatMap((l) => (l.kind !== 'avgpool' && l.act ? [{ l, a: l.act }] : []));
  if (acts.length === 0) throw new OnnxImportError(walk.input.name, 'graph', 'no QCFS activation found: this is not a QCFS network', 'put the QCFS module after every hidden Conv / Linear layer');
  const first = acts[0].a;
  for (const { a } of acts) {
    if (a.levels !== first.levels || Math.abs(a.shift - first.shift) > 1e-9) {
      const node = a.nodes[0];
      throw new OnnxImportError(node.name, node.op, `this activation has L = ${a.levels}, shift ${a.shift}; the first has L = ${first.levels}, shift ${first.shift}`,
        'use one L and one shift for every QCFS layer (λ may differ)');
    }
  }
  return { levels: first.levels, shift: first.shift };
}

function layerLine(l: Walk['layers'][number]): string {
  if (l.kind === 'avgpool') return `avgpool ${l.size}×${l.size} (${l.node})`;
  const head = l.kind === 'conv'
    ? `conv ${l.k}×${l.k}/${l.stride} pad [${l.padding.top}, ${l.padding.left}, ${l.padding.bottom}, ${l.padding.right}] → ${l.outC} (${l.node})`
    : `linear ${l.inF} → ${l.outF} (${l.node})${l.flattenedFrom ? ` after flatten of [${l.flattenedFrom}]` : ''}`;
  const bn = l.batchNorm ? ` + BatchNorm (${l.batchNorm}, folded)` : '';
  return `${head}${bn}${l.act ? ` + QCFS λ = ${l.act.lambda.toPrecision(5)}` : ' (output)'}`;
}

function specAndWeights(walk: Walk, classes: string[], q: { levels: number; shift: number }): { spec: ResolvedSpec; weights: NamedWeight[]; lambdas: Record<string, number> } {
  const layers: LayerSpec[] = [], weights: NamedWeight[] = [], lambdas: Record<string, number> = {};
  const last = walk.layers.length - 1;
  walk.layers.forEach((l, i) => {
    const prefix = i === last ? 'out' : `l${i}`;
    if (l.kind === 'avgpool') { layers.push({ type: 'avgpool', size: l.size }); return; }
    const units = l.kind === 'conv' ? l.outC : l.outF;
    const kernel = l.kind === 'conv' ? convKernel(l) : denseKernel(l);
    const shape = l.kind === 'conv' ? [l.k, l.k, l.inC, l.outC] : [l.inF, l.outF];
    weights.push({ name: `${prefix}/kernel`, shape, data: kernel }, { name: `${prefix}/bias`, shape: [units], data: Float32Array.from(l.bias) });
    if (i === last) return;
    layers.push(l.kind === 'conv' ? { type: 'conv', kernel: l.k, channels: l.outC, stride: l.stride, padding: l.padding } : { type: 'dense', units });
    const lambda = Math.fround(l.act!.lambda);
    weights.push({ name: `${prefix}/lambda`, shape: [], data: Float32Array.of(lambda) });
    lambdas[String(i)] = lambda;
  });
  const out = walk.layers[last] as WalkedDense;
  if (classes.length !== out.outF) {
    throw new OnnxImportError(out.node, 'Gemm', `the output layer has ${out.outF} units but ${classes.length} class names were given`, `give --classes ${out.outF} names`);
  }
  const spec = validateSpec({ input: { height: walk.input.height, width: walk.input.width, channels: 2, scale: walk.inputScale }, layers, levels: q.levels, shift: q.shift, classes });
  return { spec, weights, lambdas };
}

/** The downsample factor f with ceil(sensor / f) = the model's input size, or an error naming the fix. */
function deriveDownsample(walk: Walk, sensor: { width: number; height: number }): number {
  for (let f = 1; f <= 64; f++) {
    if (Math.ceil(sensor.width / f) === walk.input.width && Math.ceil(sensor.height / f) === walk.input.height) return f;
  }
  throw new OnnxImportError(walk.input.name, 'graph input', `a ${walk.input.width}×${walk.input.height} input is no whole downsampling of the ${sensor.width}×${sensor.height} sensor`,
    'give --downsample and --sensor, or export with an input of the sensor size divided by a whole factor');
}

function checkOptions(o: ImportOptions): void {
  const positive = (v: number | undefined, what: string, int: boolean) => {
    if (v !== undefined && !(v > 0 && Number.isFinite(v) && (!int || Number.isInteger(v)))) throw new RangeError(`importOnnx: ${what} must be a positive ${int ? 'integer' : 'number'} (got ${v})`);
  };
  positive(o.binMs, 'binMs', false); positive(o.steps, 'steps', true); positive(o.downsample, 'downsample', true);
  if (o.mode !== undefined && o.mode !== 'qcfs' && o.mode !== 'qffs') throw new RangeError(`importOnnx: mode must be qcfs or qffs (got ${String(o.mode)})`);
}

/**
 * Imports an ONNX QCFS network (the file's path or its bytes). Throws OnnxImportError (one line: the
 * node, its op, why, what to change) for anything it cannot run, OnnxFormatError for bytes that are
 * not ONNX. Save the result with saveModel(dir, result).
 */
export function importOnnx(bytesOrPath: Uint8Array | string, options: ImportOptions = {}): ImportedModel {
  checkOptions(options);
  const bytes = typeof bytesOrPath === 'string' ? fs.readFileSync(bytesOrPath) : bytesOrPath;
  const graph = readOnnx(bytes);
  const walk = walkGraph(graph);
  const q = quantization(walk);
  const out = walk.layers[walk.layers.length - 1] as WalkedDense;
  const classes = options.classes ?? Array.from({ length: out.outF }, (_, i) => String(i));
  const { spec, weights, lambdas } = specAndWeights(walk, classes, q);
  const T = options.steps ?? 16;
  const downsample = options.downsample ?? deriveDownsample(walk, options.sensor ?? { width: 128, height: 128 });
  const binning: InputBinning = { binUs: Math.round((options.binMs ?? 100) * 1000), T, downsample };
  const acts = walk.layers.flatMap((l) => (l.kind !== 'avgpool' && l.act ? [l.act] : []));
  const summary: ImportSummary = {
    source: options.source ?? (typeof bytesOrPath === 'string' ? bytesOrPath : 'bytes'),
    sha256: crypto.createHash('sha256').update(bytes).digest('hex'),
    producer: graph.producer, opset: graph.opset,
    input: { channels: 2, height: walk.input.height, width: walk.input.width, batch: walk.input.batch, scale: walk.inputScale },
    layers: walk.layers.map(layerLine),
    activations: {
      count: acts.length, levels: q.levels, shift: q.shift, ops: acts[0].ops, lambdas: acts.map((a) => a.lambda),
      shiftMeaning: q.shift === 0.5 ? 'round to the nearest level (Bu et al.); SNN membranes start at θ/2'
        : `${q.shift === 0 ? 'plain floor (no shift)' : `shift ${q.shift}`}; the SNN adds (φ − ½)·λ/L to each hidden bias, membranes start at θ/2`,
    },
    batchNormsFolded: walk.layers.filter((l) => l.kind !== 'avgpool' && l.batchNorm).length,
    classes: classes.length, binning,
  };
  const meta: ModelMeta = {
    format: 'spikestream-model', version: 1, spec, lambdas, conversion: { mode: options.mode ?? 'qcfs', T }, binning, classes: [...classes],
    calibration: { alpha: null, tau: null },
    imported: { from: 'onnx', source: summary.source, sha256: summary.sha256, producer: summary.producer, opset: summary.opset, activations: summary.activations, layers: summary.layers },
  };
  return { meta, weights, spec, summary };
}
