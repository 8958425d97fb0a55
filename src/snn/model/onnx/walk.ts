/**
 * Walks an ONNX graph as a feed-forward chain from its input to its output and collects the layers in
 * PyTorch's terms (NCHW, weights [out, in, kH, kW] and [out, in]): Conv, BatchNormalization folded
 * into the layer before it, QCFS activations, AveragePool, Flatten, Gemm / MatMul + Add. Everything
 * else, forks (residual connections) and dynamic shapes are refused with an OnnxImportError.
 */
import type { ConvPadding } from '../../spec';
import { matchQcfs, QCFS_OPS, QcfsMismatch, scalarOperand, type QcfsMatch } from './qcfs-pattern';
import type { OnnxConstant, OnnxGraph, OnnxNode } from './read';
import { OnnxImportError, refuse, unsupportedOp } from './refuse';

export interface WalkedConv {
  kind: 'conv'; node: string; inC: number; outC: number; k: number; stride: number; padding: ConvPadding;
  /** [outC, inC, k, k] */ weight: Float64Array; bias: Float64Array; batchNorm?: string; act?: QcfsMatch;
}
export interface WalkedPool { kind: 'avgpool'; node: string; size: number }
export interface WalkedDense {
  kind: 'dense'; node: string; inF: number; outF: number;
  /** [outF, inF] (PyTorch's nn.Linear layout) */ weight: Float64Array; bias: Float64Array;
  /** Set on the first dense after the conv part: the [C, H, W] shape PyTorch flattened. */
  flattenedFrom?: [number, number, number]; batchNorm?: string; act?: QcfsMatch;
}
export type WalkedLayer = WalkedConv | WalkedPool | WalkedDense;

export interface Walk {
  input: { name: string; height: number; width: number; batch: number | string };
  /** A scalar the input is multiplied by before the first layer (1 when there is none). */
  inputScale: number;
  layers: WalkedLayer[];
}

/** The shape flowing through the chain: [C, H, W] before Flatten, [F] after. */
type Shape = [number, number, number] | [number];

class Walker {
  private readonly consumers = new Map<string, OnnxNode[]>();
  readonly layers: WalkedLayer[] = [];
  private pending: WalkedConv | WalkedDense | undefined;
  inputScale = 1;

  constructor(private readonly graph: OnnxGraph, public shape: Shape) {
    for (const n of graph.nodes) for (const t of n.inputs) if (t) this.consumers.set(t, [...(this.consumers.get(t) ?? []), n]);
  }

  /** The one node that consumes `tensor`; undefined at the graph's output. */
  next = (tensor: string): OnnxNode | undefined => {
    // A Shape node reads only the tensor's shape (x.view(x.size(0), -1)); the Reshape it feeds is refused as dynamic.
    const users = (this.consumers.get(tensor) ?? []).filter((u) => u.op !== 'Shape');
    if (users.length > 1) {
      throw new OnnxImportError(users[1].name, users[1].op, `tensor "${tensor}" feeds ${users.length} nodes (${users.map((u) => u.name).join(', ')}): a branch or residual connection`,
        'spikestream imports plain feed-forward chains; remove the skip connection');
    }
    return users[0];
  };

  constant(node: OnnxNode, index: number, what: string): OnnxConstant {
    const c = this.graph.constants.get(node.inputs[index] ?? '');
    if (!c) throw refuse(node, `its ${what} (${node.inputs[index] ?? 'missing'}) is computed, not a constant`, 'export in eval mode with constant weights (model.eval(), do_constant_folding=True)');
    return c;
  }

  /** Handles one node; returns the tensor the chain continues from. */
  visit(n: OnnxNode): string {
    switch (n.op) {
      case 'Identity': case 'Dropout': return n.outputs[0];
      case 'Conv': return this.conv(n);
      case 'BatchNormalization': return this.batchNorm(n);
      case 'AveragePool': case 'GlobalAveragePool': return this.pool(n);
      case 'Flatten': case 'Reshape': return this.flatten(n);
      case 'Gemm': case 'MatMul': return this.dense(n);
      default:
        if (QCFS_OPS.has(n.op)) return this.elementwise(n);
        throw unsupportedOp(n);
    }
  }

  private needNoPending(n: OnnxNode): void {
    if (this.pending) {
      throw refuse(n, `it follows ${this.pending.kind === 'conv' ? 'Conv' : 'linear'} node "${this.pending.node}" with no QCFS activation between them`,
        'put a QCFS activation after every hidden Conv / Linear layer (only the last Linear, the output, has none)');
    }
  }

  private conv(n: OnnxNode): string {
    this.needNoPending(n);
    if (this.shape.length !== 3) throw refuse(n, 'a convolution after Flatten', 'keep every Conv before the Flatten');
    const w = this.constant(n, 1, 'weight');
    const [outC, inC, kh, kw] = w.dims;
    const ints = (name: string, dflt: number[]) => { const a = n.attrs.get(name); return Array.isArray(a) ? a : dflt; };
    const strides = ints('strides', [1, 1]), pads = ints('pads', [0, 0, 0, 0]), dil = ints('dilations', [1, 1]);
    const autoPad = n.attrs.get('auto_pad');
    if (w.dims.length !== 4 || kh !== kw) throw refuse(n, `kernel ${kh}×${kw}: spikestream takes square 2-D kernels`, 'use nn.Conv2d with a square kernel_size');
    if ((n.attrs.get('group') ?? 1) !== 1 || inC !== this.shape[0]) throw refuse(n, `grouped convolution (groups = ${String(n.attrs.get('group'))})`, 'use groups=1');
    if (dil.some((d) => d !== 1)) throw refuse(n, `dilation ${dil.join('×')}`, 'use dilation=1');
    if (strides[0] !== strides[1]) throw refuse(n, `stride ${strides.join('×')}: spikestream takes one stride for both axes`, 'use the same stride for height and width');
    if (typeof autoPad === 'string' && autoPad !== 'NOTSET') throw refuse(n, `auto_pad ${autoPad}`, 'give nn.Conv2d an explicit padding=p');
    const padding = { top: pads[0], left: pads[1], bottom: pads[2], right: pads[3] };
    const [, h, wd] = this.shape;
    const oh = Math.floor((h + padding.top + padding.bottom - kh) / strides[0]) + 1, ow = Math.floor((wd + padding.left + padding.right - kw) / strides[0]) + 1;
    if (oh < 1 || ow < 1) throw refuse(n, `kernel ${kh} does not fit the ${h}×${wd} input`, 'use a smaller kernel or more padding');
    const bias = n.inputs[2] ? this.constant(n, 2, 'bias').values : new Float64Array(outC);
    this.pending = { kind: 'conv', node: n.name, inC, outC, k: kh, stride: strides[0], padding, weight: w.values, bias: Float64Array.from(bias) };
    this.shape = [outC, oh, ow];
    return n.outputs[0];
  }

  /** Folds y = γ·(x − μ)/√(σ² + ε) + β into the weights and bias of the layer before it. */
  private batchNorm(n: OnnxNode): string {
    const p = this.pending;
    if (!p || p.batchNorm) throw refuse(n, 'batch norm that does not directly follow a Conv or Linear layer cannot be folded', 'place BatchNorm right after a Conv2d / Linear (before the activation)');
    if (n.outputs.filter(Boolean).length > 1) throw refuse(n, 'batch norm in training mode', 'export after model.eval()');
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => this.constant(n, i, ['scale', 'bias', 'mean', 'variance'][i - 1]).values);
    const eps = n.attrs.get('epsilon');
    const epsilon = typeof eps === 'number' ? eps : 1e-5;
    const units = p.kind === 'conv' ? p.outC : p.outF;
    if (gamma.length !== units) throw refuse(n, `${gamma.length} channels after a layer of ${units}`, 'check the exported model');
    const per = p.weight.length / units;
    for (let o = 0; o < units; o++) {
      const s = gamma[o] / Math.sqrt(variance[o] + epsilon);
      for (let i = 0; i < per; i++) p.weight[o * per + i] *= s;
      p.bias[o] = (p.bias[o] - mean[o]) * s + beta[o];
    }
    p.batchNorm = n.name;
    return n.outputs[0];
  }

  private elementwise(n: OnnxNode): string {
    const x = n.inputs.find((t) => !this.graph.constants.has(t)) ?? n.inputs[0];
    if (!this.pending) {
      const k = n.op === 'Mul' || n.op === 'Div' ? scalarOperand(this.graph, n, x) : undefined;
      // A scale of the input before the first layer (x·k or x/k) becomes the spec's input.scale.
      if (this.layers.length === 0 && k !== undefined && typeof k !== 'string' && (n.op === 'Mul' || k.xFirst)) {
        this.inputScale *= n.op === 'Mul' ? k.value : 1 / k.value;
        return n.outputs[0];
      }
      throw refuse(n, `an element-wise ${n.op} that is not part of a QCFS activation after a Conv / Linear layer`, 'apply the QCFS activation right after each hidden Conv / Linear (BatchNorm between them is fine)');
    }
    let match: QcfsMatch;
    try {
      match = matchQcfs(this.graph, n, x, this.next);
    } catch (e) {
      if (!(e instanceof QcfsMismatch)) throw e;
      throw refuse(e.node, `${e.message} (the activation after "${this.pending.node}")`, 'use the QCFS module: x/λ → floor(x·L + 0.5)/L → clamp(0, 1) → ·λ, one scalar λ per layer');
    }
    this.pending.act = match;
    this.layers.push(this.pending);
    this.pending = undefined;
    return match.output;
  }

  private pool(n: OnnxNode): string {
    this.needNoPending(n);
    if (this.shape.length !== 3) throw refuse(n, 'pooling after Flatten', 'pool before flattening');
    const [c, h, w] = this.shape;
    let size: number;
    if (n.op === 'GlobalAveragePool') {
      if (h !== w) throw refuse(n, `global pooling of a non-square ${h}×${w} map`, 'use square feature maps or nn.AvgPool2d with a square window');
      size = h;
    } else {
      const ints = (name: string, dflt: number[]) => { const a = n.attrs.get(name); return Array.isArray(a) ? a : dflt; };
      const k = ints('kernel_shape', []), s = ints('strides', [1, 1]), pads = ints('pads', [0, 0, 0, 0]);
      const autoPad = n.attrs.get('auto_pad');
      if (typeof autoPad === 'string' && autoPad !== 'NOTSET' && autoPad !== 'VALID') throw refuse(n, `auto_pad ${autoPad}`, 'use nn.AvgPool2d(k) without padding');
      const ceil = n.attrs.get('ceil_mode') === 1 && (h % k[0] !== 0 || w % k[0] !== 0);
      if (k.length !== 2 || k[0] !== k[1] || s[0] !== k[0] || s[1] !== k[1] || pads.some((p) => p !== 0) || ceil) {
        throw refuse(n, `average pooling with kernel [${k}], stride [${s}], pads [${pads}]${ceil ? ', ceil_mode' : ''}: spikestream pools non-overlapping square windows`,
          'use nn.AvgPool2d(k) (stride = kernel size, no padding, ceil_mode=False)');
      }
      size = k[0];
    }
    this.layers.push({ kind: 'avgpool', node: n.name, size });
    this.shape = [c, Math.floor(h / size), Math.floor(w / size)];
    return n.outputs[0];
  }

  private flatten(n: OnnxNode): string {
    this.needNoPending(n);
    const size = this.shape.reduce((a, b) => a * b, 1);
    if (n.op === 'Flatten') {
      const axis = n.attrs.get('axis');
      if (axis !== undefined && axis !== 1) throw refuse(n, `Flatten(axis=${String(axis)}) keeps no batch axis`, 'flatten with nn.Flatten() (start_dim=1)');
    } else {
      const target = this.graph.constants.get(n.inputs[1] ?? '');
      if (!target) throw refuse(n, 'the target shape is computed at run time (a dynamic shape)', 'flatten with nn.Flatten() or torch.flatten(x, 1)');
      const t = Array.from(target.values);
      if (t.length !== 2 || !(t[1] === -1 || t[1] === size) || (t[0] === -1 && t[1] === -1)) {
        throw refuse(n, `reshape to [${t}] is not a flatten of the [${this.shape}] activation`, 'flatten with nn.Flatten() or torch.flatten(x, 1)');
      }
    }
    this.flattenedFrom = this.shape.length === 3 ? this.shape : this.flattenedFrom;
    this.shape = [size];
    return n.outputs[0];
  }

  private flattenedFrom: [number, number, number] | undefined;

  private dense(n: OnnxNode): string {
    this.needNoPending(n);
    if (this.shape.length !== 1) throw refuse(n, `a linear layer on the unflattened [${this.shape}] activation`, 'put nn.Flatten() before the first nn.Linear');
    const inF = this.shape[0];
    const w = this.constant(n, 1, 'weight');
    const num = (name: string, dflt: number) => { const a = n.attrs.get(name); return typeof a === 'number' ? a : dflt; };
    if (n.op === 'Gemm' && num('transA', 0) !== 0) throw refuse(n, 'Gemm with transA', 'export nn.Linear as is');
    const transB = n.op === 'Gemm' && num('transB', 0) === 1;
    const [rows, cols] = w.dims;
    const outF = transB ? rows : cols;
    if (w.dims.length !== 2 || (transB ? cols : rows) !== inF) throw refuse(n, `weight [${w.dims}] does not take ${inF} inputs`, 'check the exported model');
    const alpha = n.op === 'Gemm' ? num('alpha', 1) : 1, beta = n.op === 'Gemm' ? num('beta', 1) : 1;
    const weight = new Float64Array(outF * inF);
    for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) weight[o * inF + i] = alpha * w.values[transB ? o * inF + i : i * outF + o];
    let bias = new Float64Array(outF), out = n.outputs[0];
    if (n.op === 'Gemm' && n.inputs[2]) bias = this.constant(n, 2, 'bias').values.map((b) => b * beta);
    if (n.op === 'MatMul') {
      const add = this.next(out);
      const c = add?.op === 'Add' ? this.graph.constants.get(add.inputs.find((t) => t !== out) ?? '') : undefined;
      if (add && c && c.values.length === outF) { bias = Float64Array.from(c.values); out = add.outputs[0]; }
    }
    if (bias.length !== outF) throw refuse(n, `bias of ${bias.length} values for ${outF} outputs`, 'check the exported model');
    this.pending = { kind: 'dense', node: n.name, inF, outF, weight, bias: Float64Array.from(bias) };
    if (this.flattenedFrom && !this.layers.some((l) => l.kind === 'dense')) this.pending.flattenedFrom = this.flattenedFrom;
    this.shape = [outF];
    return out;
  }

  /** At the graph's output: the pending linear layer (no activation) is the output layer. */
  finish(last: string, lastNode: OnnxNode | undefined): WalkedLayer[] {
    const p = this.pending;
    if (!p || p.kind !== 'dense') {
      const at = lastNode ?? { name: last, op: 'output', inputs: [], outputs: [], attrs: new Map() };
      throw refuse(at, 'the network does not end with a linear layer without activation', 'end the model with nn.Linear(…, classes) and export its logits');
    }
    return [...this.layers, p];
  }
}

/** The data input's shape [N, 2, H, W]; dynamic dims other than the batch are refused. */
function inputShape(graph: OnnxGraph): Walk['input'] {
  const inputNode = (why: string, fix: string) => new OnnxImportError(graph.inputs[0]?.name ?? '(none)', 'graph input', why, fix);
  if (graph.inputs.length !== 1) throw inputNode(`the graph has ${graph.inputs.length} data inputs`, 'export a model that takes one tensor [N, 2, H, W]');
  if (graph.outputs.length !== 1) throw inputNode(`the graph has ${graph.outputs.length} outputs`, 'export a model with one output, the logits');
  const { name, dims } = graph.inputs[0];
  if (dims.length !== 4) throw inputNode(`input of rank ${dims.length}`, 'export with an input of shape [N, 2, H, W] (OFF, ON event counts)');
  const [batch, c, h, w] = dims;
  const dynamic = dims.slice(1).findIndex((d) => typeof d !== 'number');
  if (dynamic >= 0) throw inputNode(`dimension ${dynamic + 1} is dynamic ("${String(dims[dynamic + 1])}")`, 'export with a fixed input size (only the batch axis may be dynamic)');
  if (c !== 2) throw inputNode(`${String(c)} input channels`, 'the model must take 2 channels: OFF and ON event counts (channel 0 = OFF)');
  return { name, height: h as number, width: w as number, batch };
}

/** Walks the graph from its input to its output. */
export function walkGraph(graph: OnnxGraph): Walk {
  const input = inputShape(graph);
  const w = new Walker(graph, [2, input.height, input.width]);
  let cur = input.name, lastNode: OnnxNode | undefined;
  for (let n = w.next(cur); n; n = w.next(cur)) {
    cur = w.visit(n);
    lastNode = n;
  }
  if (cur !== graph.outputs[0]) throw new OnnxImportError(cur, 'tensor', 'the chain from the input ends before the graph\'s output', 'export a single feed-forward chain');
  return { input, inputScale: w.inputScale, layers: w.finish(cur, lastNode) };
}
