/**
 * Baselines matched to what the SNN has actually seen, so that a reader can tell where the SNN's
 * accuracy comes from and judge the conversion:
 *
 *  - ANN on the prefix mean: at step t the first spiking layer has integrated Σ_{s≤t}(W·x_s + b)
 *    = t·(W·x̄_t + b), x̄_t the mean of the first t frames, so a rate-coded SNN at step t is the ANN
 *    on x̄_t up to quantization and unevenness error. This is also the input the ANN is trained on
 *    (src/snn/train.ts: the mean of the first k frames for a random k), so it is the ANN's own
 *    input distribution. Acc(ANN) "on the mean of the T frames" is its last point only.
 *  - ANN logit ensemble: the mean of the ANN's logits over frames 1..t, each frame alone. Event
 *    frames of a moving gesture differ from their mean; an SNN without negative spikes keeps spikes
 *    a transient input caused, which makes it behave partly like this ensemble.
 *  - Conversion check: the SNN fed a constant input — the mean of the first T frames at every one of
 *    T steps — against the ANN on that same mean frame: accuracy of both and argmax agreement. This
 *    isolates the conversion (quantization, unevenness) from the temporal structure of the input.
 */
import type { NamedWeight } from '../snn/ann';
import type { SnnNetwork } from '../snn/convert';
import { frameOf, meanOfFirstK, type FrameDataset } from '../snn/dataset';
import type { ResolvedSpec } from '../snn/spec';
import type { ConversionCheck } from '../confidence/report';
import { traceFromOutputs, type ConfidenceTrace } from '../confidence/trace';
import { annLogits, annLogitsOf, argmaxRows, checkAnnInput, finalOutputs, recordSnn, type ProgressFn } from './run-snn';

/** Per-step ANN predictions on the validation or test split (traces with α = τ = 1). */
export interface MatchedAnnTraces {
  /** ANN on the mean of the first t frames, at [i·T + t−1]. */
  readonly prefixMean: ConfidenceTrace;
  /** argmax of the mean ANN logits over frames 1..t, each alone. */
  readonly ensemble: ConfidenceTrace;
  /** The prefix-mean logits [N × T × C] (τ is fitted on their slice at an operating point's T). */
  readonly prefixLogits: Float32Array;
}

/**
 * Runs the ANN on every sample's prefix means and single frames for t = 1..T (2·N·T forward
 * passes, batched). Uses the active tfjs backend.
 */
export async function matchedAnnTraces(
  spec: ResolvedSpec,
  weights: NamedWeight[],
  ds: FrameDataset,
  T: number,
  opts: { batchSize?: number; onProgress?: (phase: string, done: number, total: number) => void } = {},
): Promise<MatchedAnnTraces> {
  const C = spec.classes.length;
  const progress = (phase: string): ProgressFn | undefined => (opts.onProgress ? (d, t) => opts.onProgress!(phase, d, t) : undefined);
  const prefixLogits = await annPrefixLogits(spec, weights, ds, T, { batchSize: opts.batchSize, onProgress: progress('ann prefix means') });
  const frameLogits = await annLogitsOf(spec, weights, ds.n * T, (j, buf, o) => buf.set(frameOf(ds, (j / T) | 0, j % T), o), {
    batchSize: opts.batchSize,
    onProgress: progress('ann single frames'),
  });
  return {
    prefixMean: traceFromOutputs(prefixLogits, ds.labels, T, C, 1, 1),
    ensemble: traceFromOutputs(frameLogits, ds.labels, T, C, 1, 1, { outputs: 'increments' }),
    prefixLogits,
  };
}

/** ANN logits [N × T × C] on the mean of the first t frames of every sample, t = 1..T. */
export function annPrefixLogits(
  spec: ResolvedSpec,
  weights: NamedWeight[],
  ds: FrameDataset,
  T: number,
  opts: { batchSize?: number; onProgress?: ProgressFn } = {},
): Promise<Float32Array> {
  checkAnnInput(spec, ds);
  if (!(Number.isInteger(T) && T >= 1 && T <= ds.T)) throw new RangeError(`ANN prefix means: T = ${T} outside 1..${ds.T}`);
  return annLogitsOf(spec, weights, ds.n * T, (j, buf, o) => meanOfFirstK(ds, (j / T) | 0, (j % T) + 1, buf, 0, 0, o), opts);
}

/** The logits of step t (1-based) of a row-major [N × T × C] array, as [N × C]. */
export function logitsAtStep(logits: Float32Array, n: number, T: number, C: number, t: number): Float32Array {
  if (!(t >= 1 && t <= T)) throw new RangeError(`logitsAtStep: t = ${t} outside 1..${T}`);
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) out.set(logits.subarray((i * T + t - 1) * C, (i * T + t) * C), i * C);
  return out;
}

/**
 * The conversion check (see the file comment). `annMeanLogits` ([N × C] on the mean of the first T
 * frames) is computed when not given.
 */
export async function conversionCheck(
  net: SnnNetwork,
  spec: ResolvedSpec,
  weights: NamedWeight[],
  ds: FrameDataset,
  T: number,
  opts: { annMeanLogits?: Float32Array; slots?: number; batchSize?: number; onProgress?: ProgressFn } = {},
): Promise<ConversionCheck> {
  const C = spec.classes.length;
  const logits = opts.annMeanLogits ?? (await annLogits(spec, weights, ds, { T, batchSize: opts.batchSize }));
  const rec = await recordSnn(net, ds, { T, slots: opts.slots, input: 'mean-frame', onProgress: opts.onProgress });
  const snnPred = argmaxRows(finalOutputs(rec), C);
  const annPred = argmaxRows(logits, C);
  let correctAnn = 0;
  let correctSnn = 0;
  let agree = 0;
  for (let i = 0; i < ds.n; i++) {
    if (annPred[i] === ds.labels[i]) correctAnn++;
    if (snnPred[i] === ds.labels[i]) correctSnn++;
    if (snnPred[i] === annPred[i]) agree++;
  }
  const n = ds.n;
  return { T, n, correctAnn, correctSnn, agree, accAnn: correctAnn / n, accSnn: correctSnn / n, agreement: agree / n };
}
