/**
 * The ANN's logits for input laid out as PyTorch takes it (N×C×H×W float32, channel 0 = OFF), so a
 * user can check an import against PyTorch's own output on the same tensor.
 */
import type { NamedWeight } from '../../weights';
import type { ResolvedSpec } from '../../spec';

/**
 * Logits [N × classes] of `model`'s quantized ANN (the one calibration and evaluation use) for `input`,
 * one or more C×H×W tensors back to back (PyTorch's NCHW). Runs on the current TF.js backend.
 * `quantize: false` gives the same network with each QCFS replaced by clip(x + (φ − ½)·λ/L, 0, λ): the
 * limit the converted SNN's firing rates approach as T grows.
 */
export function annLogits(model: { spec: ResolvedSpec; weights: NamedWeight[] }, input: Float32Array, opts: { quantize?: boolean } = {}): Float32Array {
  const { height: H, width: W } = model.spec.input;
  const size = 2 * H * W;
  if (input.length === 0 || input.length % size !== 0) {
    throw new RangeError(`annLogits: input has ${input.length} values, not a whole number of 2×${H}×${W} (C×H×W) tensors`);
  }
  const N = input.length / size;
  const nhwc = new Float32Array(input.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < 2; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    nhwc[((n * H + y) * W + x) * 2 + c] = input[((n * 2 + c) * H + y) * W + x];
  }
  // Loaded on first use: importing 'spikestream' does not load TF.js.
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  const { QuantizedAnn } = require('../../ann') as typeof import('../../ann');
  const ann = QuantizedAnn.fromWeights(model.spec, model.weights);
  try {
    return tf.tidy(() => Float32Array.from(ann.forward(tf.tensor4d(nhwc, [N, H, W, 2]), { quantize: opts.quantize }).dataSync()));
  } finally {
    ann.dispose();
  }
}
