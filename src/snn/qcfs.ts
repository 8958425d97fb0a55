/**
 * QCFS activation (quantization-clip-floor-shift), Bu et al. 2022, as used by Dynamic Confidence:
 *
 *   a = λ · clip(floor(x·L/λ + φ) / L, 0, 1),   L levels (2^bits − 1 by default), λ trainable (one per
 *                                                 layer), shift φ = 1/2 (Bu et al.) or 0 (a plain floor).
 *
 * Gradients (tf.customGrad):
 *   ∂a/∂x = 1 for 0 < x < λ, else 0                       (straight-through inside the range)
 *   ∂a/∂λ = (a − x)/λ for 0 < x < λ;  1 for x ≥ λ;  0 for x ≤ 0   (LSQ: a = s·round(x/s), λ = L·s)
 */
import * as tf from '@tensorflow/tfjs';

/** Plain-number reference of the forward function (for tests and the SNN side). */
export function qcfsValue(x: number, lambda: number, L: number, shift = 0.5): number {
  const q = Math.floor((x * L) / lambda + shift);
  return (lambda * Math.min(Math.max(q, 0), L)) / L;
}

/**
 * Forward only (no gradient bookkeeping). The floor's argument is computed as PyTorch's QCFS module
 * does (x / λ, then · L, then + φ: the same float32 operations in the same order), so an imported
 * network quantizes the same pre-activations to the same levels.
 */
export function qcfsForward(x: tf.Tensor, lambda: tf.Tensor, L: number, shift = 0.5): tf.Tensor {
  return tf.tidy(() => {
    const q = tf.clipByValue(tf.floor(tf.add(tf.mul(tf.div(x, lambda), L), shift)), 0, L);
    return tf.mul(q, tf.div(lambda, L));
  });
}

/** QCFS with straight-through / LSQ gradients; `lambda` is a scalar tensor (usually a tf.Variable). */
export function qcfs(x: tf.Tensor, lambda: tf.Tensor, L: number, shift = 0.5): tf.Tensor {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xi = args[0] as tf.Tensor, li = args[1] as tf.Tensor, save = args[2] as tf.GradSaveFunc;
    const a = qcfsForward(xi, li, L, shift);
    save([xi, li, a]);
    return {
      value: a,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ls, as] = saved;
        // The masks are built with tf.step (x > 0 ? 1 : 0) and arithmetic instead of comparisons,
        // logicalAnd and where: on the wasm backend those are ~10× slower per element, and this
        // gives bit-identical gradients (λ − x > 0 ⇔ x < λ for finite floats; 0·v = 0 and 1·v = v).
        const s0 = tf.step(xs);                // x > 0
        const sl = tf.step(tf.sub(ls, xs));    // x < λ
        const inside = tf.mul(s0, sl);         // 0 < x < λ
        const dx = tf.mul(dy, inside);
        // dl = 1 for x ≥ λ (1 − sl), (a − x)/λ inside, 0 for x ≤ 0
        const dl = tf.add(tf.sub(1, sl), tf.mul(inside, tf.div(tf.sub(as, xs), ls)));
        const dlam = tf.reshape(tf.sum(tf.mul(dy, dl)), ls.shape);
        return [dx, dlam];
      },
    };
  });
  return f(x, lambda);
}
