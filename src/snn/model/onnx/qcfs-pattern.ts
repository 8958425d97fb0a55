/**
 * Recognises a QCFS activation in an ONNX graph, whatever the exact sequence of ops, by following its
 * element-wise arithmetic symbolically. PyTorch's QCFS module (Bu et al.; the Dynamic Confidence code)
 *
 *     x = x / λ;  x = floor(x·L + φ) / L;  x = clamp(x, 0, 1);  x = x · λ
 *
 * exports as Div → Mul → Add(φ) → Floor → Div → Clip(0, 1) → Mul. Any chain of Mul / Div / Add / Sub
 * by scalar constants, one Floor, more of them, one Clip and more of them is reduced to
 *
 *     out = s·clip(floor(a·x + c)·d + e, lo, hi) + f
 *
 * and accepted when it equals (λ/L)·clip(floor(x·L/λ + φ), 0, L): the clip's range in floor units is
 * [0, L] with L a whole number, the output has no offset, and the input scale a equals L/λ (so the
 * SNN's threshold θ = λ reproduces it). φ = c is the shift: ½ (round to the nearest level) or 0 (floor).
 */
import type { OnnxGraph, OnnxNode } from './read';

export interface QcfsMatch {
  lambda: number;
  levels: number;
  shift: number;
  /** The ops in graph order, e.g. ['Div', 'Mul', 'Add', 'Floor', 'Div', 'Clip', 'Mul']. */
  ops: string[];
  /** The nodes that form the activation (first and last name it in messages). */
  nodes: OnnxNode[];
  /** The tensor the activation outputs. */
  output: string;
}

/** Why a chain that starts like an activation is not a QCFS one; the importer adds node and advice. */
export class QcfsMismatch extends Error {
  constructor(readonly node: OnnxNode, message: string) { super(message); this.name = 'QcfsMismatch'; }
}

const AFFINE = new Set(['Mul', 'Div', 'Add', 'Sub']);
/** Ops that can start or continue a QCFS chain. */
export const QCFS_OPS = new Set([...AFFINE, 'Floor', 'Clip']);

/** The scalar constant operand of a binary node whose other operand is `x`, or why there is none. */
export function scalarOperand(graph: OnnxGraph, node: OnnxNode, x: string): { value: number; xFirst: boolean } | string {
  if (node.inputs.length !== 2) return `${node.op} has ${node.inputs.length} inputs`;
  const xFirst = node.inputs[0] === x;
  const other = node.inputs[xFirst ? 1 : 0];
  const c = graph.constants.get(other);
  if (!c) return `${node.op} combines two computed tensors (${node.inputs.join(', ')}), as a residual connection does`;
  if (c.values.length !== 1) return `${node.op} uses a constant of ${c.values.length} values (${other}); a QCFS layer has one scalar λ`;
  return { value: c.values[0], xFirst };
}

interface Affine { a: number; c: number }

/** Applies one Mul / Div / Add / Sub by a scalar to the affine map x ↦ a·x + c. */
function applyAffine(m: Affine, node: OnnxNode, k: number, xFirst: boolean): Affine {
  switch (node.op) {
    case 'Mul': return { a: m.a * k, c: m.c * k };
    case 'Add': return { a: m.a, c: m.c + k };
    case 'Sub': return xFirst ? { a: m.a, c: m.c - k } : { a: -m.a, c: k - m.c };
    default:
      if (!xFirst) throw new QcfsMismatch(node, 'Div divides a constant by the activation');
      return { a: m.a / k, c: m.c / k };
  }
}

function clipBounds(graph: OnnxGraph, node: OnnxNode): [number, number] {
  const value = (i: number, attr: string, dflt: number): number => {
    const name = node.inputs[i];
    if (name) {
      const c = graph.constants.get(name);
      if (!c || c.values.length !== 1) throw new QcfsMismatch(node, `Clip's bound ${name} is not a scalar constant`);
      return c.values[0];
    }
    const a = node.attrs.get(attr);
    return typeof a === 'number' ? a : dflt;
  };
  return [value(1, 'min', -Infinity), value(2, 'max', Infinity)];
}

const near = (x: number, y: number, tol: number) => Math.abs(x - y) <= tol * Math.max(1, Math.abs(y));

/**
 * Follows the chain that starts at `start` (consuming tensor `x`). `next(tensor)` gives the single
 * node that consumes a tensor (undefined at the graph's output or a fork, which ends the chain).
 */
export function matchQcfs(graph: OnnxGraph, start: OnnxNode, x: string, next: (tensor: string) => OnnxNode | undefined): QcfsMatch {
  const stages: Affine[] = [{ a: 1, c: 0 }];   // before Floor, between Floor and Clip, after Clip
  let floorAt = -1, clip: [number, number] | undefined;
  const nodes: OnnxNode[] = [];
  let node: OnnxNode | undefined = start, cur = x;
  while (node && QCFS_OPS.has(node.op)) {
    if (node.op === 'Floor') {
      if (floorAt >= 0) break;
      floorAt = nodes.length; stages.push({ a: 1, c: 0 });
    } else if (node.op === 'Clip') {
      if (floorAt < 0 || clip) break;
      clip = clipBounds(graph, node); stages.push({ a: 1, c: 0 });
    } else {
      const k = scalarOperand(graph, node, cur);
      if (typeof k === 'string') throw new QcfsMismatch(node, k);
      stages[stages.length - 1] = applyAffine(stages[stages.length - 1], node, k.value, k.xFirst);
    }
    nodes.push(node);
    cur = node.outputs[0];
    node = next(cur);
  }
  const last = nodes[nodes.length - 1] ?? start;
  if (floorAt < 0) throw new QcfsMismatch(last, `the element-wise ops ${nodes.map((n) => n.op).join(' → ')} have no Floor: not a QCFS activation`);
  if (!clip) throw new QcfsMismatch(last, `the activation ${nodes.map((n) => n.op).join(' → ')} has no Clip (clamp to [0, 1]): not a QCFS activation`);
  const [pre, mid, post] = stages;
  return { ...canonical(last, pre, mid, clip, post), ops: nodes.map((n) => n.op), nodes, output: cur };
}

/** Reduces out = post(clip(mid(floor(pre(x))), lo, hi)) to λ, L, φ, or explains why it is not QCFS. */
function canonical(node: OnnxNode, pre: Affine, mid: Affine, [lo, hi]: [number, number], post: Affine): { lambda: number; levels: number; shift: number } {
  if (!(mid.a > 0) || !(post.a > 0) || !(pre.a > 0)) throw new QcfsMismatch(node, 'the activation is not increasing in its input');
  // clip(mid.a·q + mid.c, lo, hi) = mid.a·clip(q, qLo, qHi) + mid.c, in whole floor steps q.
  const qLo = (lo - mid.c) / mid.a, qHi = (hi - mid.c) / mid.a;
  const L = Math.round(qHi);
  if (!near(qLo, 0, 1e-5)) throw new QcfsMismatch(node, `the clip's lower bound is ${qLo.toPrecision(6)} levels, not 0`);
  if (!Number.isFinite(qHi) || L < 1 || !near(qHi, L, 1e-5)) throw new QcfsMismatch(node, `the clip's upper bound is ${qHi.toPrecision(6)} levels, not a whole number of levels L ≥ 1`);
  const step = post.a * mid.a, offset = post.a * mid.c + post.c;
  const lambda = step * L;
  if (!near(offset, 0, 1e-6 * lambda)) throw new QcfsMismatch(node, `the activation is offset by ${offset.toPrecision(6)} (a QCFS output is 0 below threshold)`);
  if (!near(pre.a, L / lambda, 1e-5)) {
    throw new QcfsMismatch(node, `the input is scaled by ${pre.a.toPrecision(6)} before the floor, but L/λ = ${(L / lambda).toPrecision(6)} (λ = ${lambda.toPrecision(6)}, L = ${L}): the SNN threshold θ = λ would not reproduce it`);
  }
  if (!(pre.c >= 0 && pre.c < 1)) throw new QcfsMismatch(node, `the shift before the floor is ${pre.c}; spikestream takes a shift in [0, 1) (½ or 0)`);
  return { lambda, levels: L, shift: pre.c };
}
