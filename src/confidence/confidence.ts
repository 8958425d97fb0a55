/**
 * Dynamic Confidence (Li, Jones, Furber, ICCV 2023): the confidence of a spiking network's
 * accumulated output at one time step,
 *
 *     c_t = max_k softmax(O_t / (α·τ))_k
 *
 * where O_t = Σ_{s≤t} (W·spikes_s + b) is the cumulative (not mean) output of the
 * non-spiking output layer, α aligns the SNN's output scale at step T with the ANN's logits,
 * and τ is the temperature fitted on the ANN's validation logits (see temperature.ts).
 *
 * Pure functions over plain typed arrays: no I/O, no tfjs.
 */

/** Anything indexable holding numbers: Float32Array, Float64Array or a plain array. */
export type NumericArray = Float32Array | Float64Array | ArrayLike<number>;

export interface ConfidenceResult {
  /** max softmax(O/(α·τ)), in (0, 1]. NaN only when the input holds NaN. */
  readonly confidence: number;
  /** argmax O (first index on ties). -1 for an empty vector. */
  readonly predicted: number;
}

/** Conversion method that produced the SNN (decides α). */
export type SnnMode = 'QCFS' | 'QFFS';

function checkScale(alpha: number, tau: number): number {
  const s = alpha * tau;
  if (!(s > 0) || !Number.isFinite(s)) {
    throw new RangeError(`confidence: α·τ must be finite and > 0 (α=${alpha}, τ=${tau})`);
  }
  return 1 / s;
}

/**
 * Max-softmax confidence of one output vector O (length C, or the C values starting at
 * `offset`), computed stably: c = 1 / Σ_k exp((O_k − max O)/(α·τ)).
 * The argmax does not depend on α or τ (both positive).
 */
export function confidence(
  O: NumericArray,
  alpha = 1,
  tau = 1,
  offset = 0,
  classes: number = O.length - offset,
): ConfidenceResult {
  const inv = checkScale(alpha, tau);
  return confidenceAt(O, offset, classes, inv);
}

/** Inner kernel: `inv` = 1/(α·τ) already validated. */
export function confidenceAt(O: NumericArray, offset: number, classes: number, inv: number): ConfidenceResult {
  if (classes <= 0) return { confidence: NaN, predicted: -1 };
  let m = O[offset];
  let arg = 0;
  let hasNaN = m !== m;
  for (let k = 1; k < classes; k++) {
    const v = O[offset + k];
    if (v > m || (m !== m && v === v)) {
      m = v;
      arg = k;
    } else if (v !== v) hasNaN = true;
  }
  if (hasNaN || m !== m) return { confidence: NaN, predicted: m !== m ? -1 : arg };
  if (m === Infinity) {
    // exp((∞−∞)) is undefined: the mass splits evenly over the entries equal to +∞.
    let ties = 0;
    for (let k = 0; k < classes; k++) if (O[offset + k] === Infinity) ties++;
    return { confidence: 1 / ties, predicted: arg };
  }
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += Math.exp((O[offset + k] - m) * inv);
  return { confidence: 1 / sum, predicted: arg };
}

/**
 * Confidence and prediction for every row of a row-major [rows × classes] matrix (for example
 * the T steps of one sample, or the live samples of one batch step).
 */
export function confidenceBatch(
  O: NumericArray,
  rows: number,
  classes: number,
  alpha = 1,
  tau = 1,
  out?: { confidence: Float32Array | Float64Array; predicted: Int16Array | Int32Array },
): { confidence: Float32Array | Float64Array; predicted: Int16Array | Int32Array } {
  if (O.length < rows * classes) {
    throw new RangeError(`confidenceBatch: need ${rows}×${classes} values, got ${O.length}`);
  }
  const inv = checkScale(alpha, tau);
  const conf = out?.confidence ?? new Float32Array(rows);
  const pred = out?.predicted ?? new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const res = confidenceAt(O, r * classes, classes, inv);
    conf[r] = res.confidence;
    pred[r] = res.predicted;
  }
  return { confidence: conf, predicted: pred };
}

/** Numerically stable softmax(O/(α·τ)) of one vector into `out` (Float64Array of length C). */
export function softmax(O: NumericArray, alpha = 1, tau = 1, out: Float64Array = new Float64Array(O.length)): Float64Array {
  const inv = checkScale(alpha, tau);
  const C = O.length;
  let m = -Infinity;
  for (let k = 0; k < C; k++) if (O[k] > m) m = O[k];
  let sum = 0;
  for (let k = 0; k < C; k++) {
    const e = Math.exp((O[k] - m) * inv);
    out[k] = e;
    sum += e;
  }
  for (let k = 0; k < C; k++) out[k] /= sum;
  return out;
}

/**
 * The scaling factor α that brings the cumulative SNN output at step T back to the ANN's
 * logit scale, so that c_T matches the ANN's (calibrated) confidence.
 *
 * Derivation. A hidden neuron with threshold θ_l = λ_l emits spikes of size θ_l, and the output
 * layer accumulates O_T = W·(Σ_{t≤T} s_t) + T·b.
 *  - QCFS: the neuron is rate coded; its spike train carries the ANN activation a per step,
 *    Σ_t s_t ≈ T·a, so O_T ≈ T·(W·a + b) = T·z and α = T (the paper's empirical choice; the
 *    authors' code hard-codes 30 for T ≈ 27–30). The estimate ignores the unevenness error.
 *  - QFFS: the net spike count of a neuron is capped at the spike budget L = 2^b − 1 and, once
 *    the network has settled, equals the quantization level q ∈ {0..L} of the ANN activation
 *    a = λ·q/L. Hence Σ_t s_t = λ·q = L·a whatever T, and O_T = L·(W·a) + T·b. With the usual
 *    T = L (or negligible output bias) O_T = L·z, so α = 2^b − 1 (the paper: "set by the bit
 *    precision b"). When T ≠ L and the output bias matters, α lies between L and T; measure it
 *    with `fitAlpha`.
 */
export function alphaFor(mode: SnnMode, T: number, bits = 2, levels = 2 ** bits - 1): number {
  if (mode === 'QCFS') {
    if (!(T > 0)) throw new RangeError(`alphaFor: T must be > 0, got ${T}`);
    return T;
  }
  if (mode === 'QFFS') {
    if (!(bits >= 1) || !Number.isInteger(bits)) throw new RangeError(`alphaFor: bits must be a positive integer, got ${bits}`);
    if (!(levels >= 1) || !Number.isInteger(levels)) throw new RangeError(`alphaFor: levels must be a positive integer, got ${levels}`);
    return levels;
  }
  throw new RangeError(`alphaFor: unknown mode ${String(mode)}`);
}

/**
 * Measures α as the least-squares scale between the SNN's outputs at step T and the ANN's logits
 * on the same inputs (both row-major [N × C]): α = argmin_a Σ ‖O_T − a·z‖².
 *
 * By default each row is centred first (its mean removed from both O_T and z): softmax ignores a
 * constant shift per row, so only the spread of the logits should set the scale, and the
 * per-step bias accumulation (T·b, a near-constant offset when b is small) is not mistaken for
 * scale. Returns NaN when the ANN logits carry no spread at all.
 */
export function fitAlpha(
  snnOutputsAtT: NumericArray,
  annLogits: NumericArray,
  classes: number = snnOutputsAtT.length,
  centered = true,
): number {
  const n = snnOutputsAtT.length;
  if (annLogits.length !== n) throw new RangeError(`fitAlpha: length mismatch ${n} vs ${annLogits.length}`);
  if (!(classes > 0) || n % classes !== 0) throw new RangeError(`fitAlpha: ${n} values are not rows of ${classes}`);
  let num = 0;
  let den = 0;
  for (let r = 0; r < n; r += classes) {
    let mo = 0;
    let mz = 0;
    if (centered) {
      for (let k = 0; k < classes; k++) {
        mo += snnOutputsAtT[r + k];
        mz += annLogits[r + k];
      }
      mo /= classes;
      mz /= classes;
    }
    for (let k = 0; k < classes; k++) {
      const o = snnOutputsAtT[r + k] - mo;
      const z = annLogits[r + k] - mz;
      num += o * z;
      den += z * z;
    }
  }
  return den > 0 ? num / den : NaN;
}
