/**
 * The one error an import raises for a graph spikestream cannot run: one line naming the node, its op,
 * why, and what to change in the PyTorch model.
 */
import type { OnnxNode } from './read';

export class OnnxImportError extends Error {
  constructor(readonly node: string, readonly op: string, readonly why: string, readonly fix: string) {
    super(`cannot import node "${node}" (${op}): ${why} — ${fix}`);
    this.name = 'OnnxImportError';
  }
}

const ACTIVATION_FIX = 'use the QCFS activation module instead (docs/bring-your-own-model.md)';

/** What to change in the PyTorch model, per op that spikestream does not import. */
const FIXES: Record<string, { why: string; fix: string }> = {
  MaxPool: { why: 'max pooling has no spiking equivalent in QCFS conversion', fix: 'replace nn.MaxPool2d with nn.AvgPool2d' },
  GlobalMaxPool: { why: 'max pooling has no spiking equivalent in QCFS conversion', fix: 'replace the global max pool with nn.AdaptiveAvgPool2d(1)' },
  Relu: { why: 'ReLU is not a quantized (QCFS) activation, so the converted SNN would not match it', fix: ACTIVATION_FIX },
  Softmax: { why: 'the output must be the logits', fix: 'export the network without its final softmax' },
  LogSoftmax: { why: 'the output must be the logits', fix: 'export the network without its final log-softmax' },
  Concat: { why: 'branches that join are not a feed-forward chain', fix: 'export a plain chain of layers (no torch.cat)' },
  Sum: { why: 'a sum of computed tensors is a residual connection', fix: 'remove the skip connection' },
  Shape: { why: 'the reshape is computed from the tensor\'s shape at run time', fix: 'flatten with nn.Flatten() or torch.flatten(x, 1)' },
  Resize: { why: 'resizing is not a layer the SNN runs', fix: 'resize the input before the model (--downsample)' },
};
for (const op of ['LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Elu', 'Selu', 'Celu', 'HardSigmoid', 'HardSwish', 'Gelu', 'Softplus', 'Mish', 'Erf']) {
  FIXES[op] = { why: `${op} is not a quantized (QCFS) activation, so the converted SNN would not match it`, fix: ACTIVATION_FIX };
}

/** Refuses an op that has no place in an importable network. */
export function unsupportedOp(node: OnnxNode): OnnxImportError {
  const known = FIXES[node.op];
  if (known) return new OnnxImportError(node.name, node.op, known.why, known.fix);
  return new OnnxImportError(node.name, node.op, 'spikestream imports Conv, BatchNormalization, AveragePool, Flatten, Gemm / MatMul + Add and QCFS activations only',
    'export a network built from nn.Conv2d, nn.BatchNorm, nn.AvgPool2d, nn.Flatten, nn.Linear and the QCFS module');
}

export function refuse(node: OnnxNode, why: string, fix: string): OnnxImportError {
  return new OnnxImportError(node.name, node.op, why, fix);
}
