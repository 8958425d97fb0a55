/**
 * One step of a converted QCFS SNN as a dense ONNX graph (opset 13), written with our own
 * protobuf encoder: the anchor bench:snn runs in ONNX Runtime beside our event-driven runner.
 *
 * Inputs: `x` [B, H, W, 2] (the frame, NHWC as our runners take it), `v{j}` the membranes of
 * spiking layer j (NCHW for conv layers, [B, units] for dense), `o` O_{t−1} [B, classes].
 * Outputs: `v{j}_next`, `o_next`. Per spiking layer: z = W∗s + b (Conv or MatMul), v = v + z,
 * s = θ·[v ≥ θ], v = v − s; avgpool stays AveragePool; dense layers flatten in NHWC order (as
 * our weights are) by a Transpose first.
 */
import type { SnnNetwork } from '../../src/snn/convert';
import { bytes, concat, float, int, type Field } from './protobuf';

const FLOAT = 1;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

type Attr = { name: string; f?: number; i?: number; ints?: number[] };

function attribute(a: Attr): Field {
  const parts = [bytes(1, a.name)];
  if (a.f !== undefined) parts.push(float(2, a.f), int(20, ATTR.FLOAT));
  else if (a.i !== undefined) parts.push(int(3, a.i), int(20, ATTR.INT));
  else parts.push(...(a.ints ?? []).map((v) => int(8, v)), int(20, ATTR.INTS));
  return bytes(5, parts);
}

function node(op: string, inputs: string[], outputs: string[], attrs: Attr[] = []): Field {
  return bytes(1, [...inputs.map((s) => bytes(1, s)), ...outputs.map((s) => bytes(2, s)), bytes(3, `${op}_${outputs[0]}`), bytes(4, op), ...attrs.map(attribute)]);
}

function tensor(name: string, dims: number[], data: Float32Array): Field {
  return bytes(5, [...dims.map((d) => int(1, d)), int(2, FLOAT), bytes(8, name), bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength))]);
}

/** A graph input (field 11) or output (12): a float tensor whose first dimension is the batch `B`. */
function valueInfo(field: 11 | 12, name: string, dims: number[]): Field {
  const shape = bytes(2, [bytes(1, [bytes(2, 'B')]), ...dims.map((d) => bytes(1, [int(1, d)]))]);
  return bytes(field, [bytes(1, name), bytes(2, [bytes(1, [int(1, FLOAT), shape])])]);
}

/** [k, k, inC, outC] → ONNX's [outC, inC, k, k]. */
function convWeights(w: Float32Array, k: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) for (let ci = 0; ci < inC; ci++) for (let co = 0; co < outC; co++) {
    out[((co * inC + ci) * k + ky) * k + kx] = w[((ky * k + kx) * inC + ci) * outC + co];
  }
  return out;
}

export interface SnnGraph {
  readonly bytes: Uint8Array;
  /** Per spiking layer: the membrane's shape after the batch dimension. */
  readonly stateShapes: number[][];
  readonly thresholds: number[];
}

export function snnStepGraph(net: SnnNetwork): SnnGraph {
  if (net.mode !== 'qcfs') throw new Error('snnStepGraph: QCFS networks only');
  const nodes: Field[] = [], inits: Field[] = [], inputs: Field[] = [], outputs: Field[] = [];
  const stateShapes: number[][] = [], thresholds: number[] = [];
  const H = net.inputHeight, W = net.inputWidth;
  inputs.push(valueInfo(11, 'x', [H, W, 2]));
  inits.push(tensor('scale', [], Float32Array.of(net.inputScale)));
  nodes.push(node('Transpose', ['x'], ['x_nchw'], [{ name: 'perm', ints: [0, 3, 1, 2] }]), node('Mul', ['x_nchw', 'scale'], ['s_in']));
  let s = 's_in', layout: 'nchw' | 'flat' = 'nchw', j = 0;
  const flat = (name: string): string => {
    if (layout === 'flat') return name;
    nodes.push(node('Transpose', [name], [`${name}_nhwc`], [{ name: 'perm', ints: [0, 2, 3, 1] }]), node('Flatten', [`${name}_nhwc`], [`${name}_flat`], [{ name: 'axis', i: 1 }]));
    layout = 'flat';
    return `${name}_flat`;
  };
  net.layers.forEach((l, li) => {
    if (l.kind === 'avgpool') {
      nodes.push(node('AveragePool', [s], [`pool${li}`], [{ name: 'kernel_shape', ints: [l.size, l.size] }, { name: 'strides', ints: [l.size, l.size] }]));
      s = `pool${li}`;
      return;
    }
    let z: string;
    if (l.kind === 'conv') {
      const bottom = Math.max(0, (l.outH - 1) * l.stride + l.k - l.inH - l.padTop), right = Math.max(0, (l.outW - 1) * l.stride + l.k - l.inW - l.padLeft);
      inits.push(tensor(`w${li}`, [l.outC, l.inC, l.k, l.k], convWeights(l.weights, l.k, l.inC, l.outC)), tensor(`b${li}`, [l.outC], l.bias));
      nodes.push(node('Conv', [s, `w${li}`, `b${li}`], [`z${li}`], [{ name: 'kernel_shape', ints: [l.k, l.k] }, { name: 'strides', ints: [l.stride, l.stride] }, { name: 'pads', ints: [l.padTop, l.padLeft, bottom, right] }]));
      z = `z${li}`;
    } else {
      inits.push(tensor(`w${li}`, [l.inSize, l.outSize], l.weights), tensor(`b${li}`, [l.outSize], l.bias));
      nodes.push(node('MatMul', [flat(s), `w${li}`], [`m${li}`]), node('Add', [`m${li}`, `b${li}`], [`z${li}`]));
      z = `z${li}`;
    }
    if (l.kind === 'output') {
      inputs.push(valueInfo(11, 'o', [l.outSize]));
      outputs.push(valueInfo(12, 'o_next', [l.outSize]));
      nodes.push(node('Add', ['o', z], ['o_next']));
      return;
    }
    const shape = l.kind === 'conv' ? [l.outC, l.outH, l.outW] : [l.outSize];
    stateShapes.push(shape);
    thresholds.push(l.threshold);
    inputs.push(valueInfo(11, `v${j}`, shape));
    outputs.push(valueInfo(12, `v${j}_next`, shape));
    inits.push(tensor(`th${li}`, [], Float32Array.of(l.threshold)));
    nodes.push(
      node('Add', [`v${j}`, z], [`u${li}`]),
      node('GreaterOrEqual', [`u${li}`, `th${li}`], [`f${li}`]),
      node('Cast', [`f${li}`], [`c${li}`], [{ name: 'to', i: FLOAT }]),
      node('Mul', [`c${li}`, `th${li}`], [`s${li}`]),
      node('Sub', [`u${li}`, `s${li}`], [`v${j}_next`]),
    );
    s = `s${li}`;
    j++;
  });
  const graph = bytes(7, [...nodes, bytes(2, 'snn_step'), ...inits, ...inputs, ...outputs]);
  const model = concat([int(1, 8), bytes(2, 'spikestream bench'), graph, bytes(8, [bytes(1, ''), int(2, 13)])]);
  return { bytes: model, stateShapes, thresholds };
}
