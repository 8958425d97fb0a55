/**
 * The confidence a decision shows: the calibrated probability that its class is right, fitted on the
 * SNN's own accumulated outputs O_t, step by step.
 *
 *     q_t = max_k softmax(O_t / s_t)_k
 *
 * The paper's c_t = max softmax(O_t/(α·τ)) is the special case s_t = α·τ for every t. That constant
 * is wrong for a cumulative output: O_t grows roughly like t, and τ is fitted on the ANN's logits
 * for the mean of T frames, not on the SNN at the step where it stops, nor on live input. Here s_t
 * is fitted by the negative log-likelihood of the event that matters — "the shown class argmax O_t is
 * right" — on every step of validation samples, windowed and live-style:
 *
 *     NLL(s) = −mean [ y·log q(s) + (1 − y)·log(1 − q(s)) ],   y = [argmax O_t = label_t]
 *
 * (a Bernoulli likelihood of the top label rather than the softmax's categorical one, because a
 * live-style "no gesture" step, label −1, has no class whose probability could be scored: the shown
 * class is simply wrong there). The argmax does not depend on s_t, so calibration never changes an
 * answer, only the probability shown with it.
 *
 * Two forms, chosen by the ECE they reach on held-out samples (two folds by sample):
 *  - 'per-step': one s_t per step (T parameters), each a 1-D fit on that step's rows;
 *  - 'power':    s_t = a·(t+1)^b (two parameters), one fit over all rows.
 * Steps past the fitted ones (a run with a larger T) scale the last s linearly with t, as O_t does.
 *
 * Pure functions over typed arrays: no I/O.
 */
import { confidenceAt, type ConfidenceResult, type NumericArray } from './confidence';
import { expectedCalibrationErrorOf } from './reliability';

export type StepScaleForm = 'per-step' | 'power';

/** What a model stores (spikestream.json, calibration.modes[mode].confidence) and a runner applies. */
export interface StepCalibration {
  readonly method: 'step-temperature';
  readonly form: StepScaleForm;
  /** s_t for 0-based step t = 0..T−1. */
  readonly scales: readonly number[];
  /** The power form's s_t = a·(t+1)^b (present for 'power'). */
  readonly power?: { readonly a: number; readonly b: number };
}

/**
 * Validation rows for the fit: one per (sample, step), each holding O_t centred on its maximum
 * (values ≤ 0; q(s) = 1 / Σ_k exp(d_k / s)), whether argmax O_t is right, its 0-based step and
 * the sample it came from (for held-out folds).
 */
export interface CalibrationRows {
  readonly n: number;
  readonly classes: number;
  readonly centred: Float32Array;
  readonly correct: Uint8Array;
  readonly step: Int32Array;
  readonly group: Int32Array;
}

/** Rows from a recording [N × T × C] of accumulated outputs; labelAt(i, t) is the true class of sample i at step t (−1: none). */
export function rowsFromOutputs(
  outputs: NumericArray,
  n: number,
  T: number,
  classes: number,
  labelAt: (i: number, t: number) => number,
  groupOffset = 0,
): CalibrationRows {
  if (outputs.length < n * T * classes) throw new RangeError(`rowsFromOutputs: need ${n}×${T}×${classes} outputs, got ${outputs.length}`);
  const rows = n * T;
  const centred = new Float32Array(rows * classes);
  const correct = new Uint8Array(rows);
  const step = new Int32Array(rows);
  const group = new Int32Array(rows);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      const r = i * T + t;
      const o = r * classes;
      let m = outputs[o];
      let arg = 0;
      for (let k = 1; k < classes; k++) if (outputs[o + k] > m) (m = outputs[o + k]), (arg = k);
      for (let k = 0; k < classes; k++) centred[o + k] = outputs[o + k] - m;
      correct[r] = arg === labelAt(i, t) ? 1 : 0;
      step[r] = t;
      group[r] = groupOffset + i;
    }
  }
  return { n: rows, classes, centred, correct, step, group };
}

/** Several row sets as one (their groups must already be distinct). */
export function concatRows(parts: readonly CalibrationRows[]): CalibrationRows {
  const classes = parts[0]?.classes ?? 0;
  if (parts.some((p) => p.classes !== classes)) throw new RangeError('concatRows: row sets of different class counts');
  const n = parts.reduce((a, p) => a + p.n, 0);
  const out = { n, classes, centred: new Float32Array(n * classes), correct: new Uint8Array(n), step: new Int32Array(n), group: new Int32Array(n) };
  let at = 0;
  for (const p of parts) {
    out.centred.set(p.centred, at * classes);
    out.correct.set(p.correct, at);
    out.step.set(p.step, at);
    out.group.set(p.group, at);
    at += p.n;
  }
  return out;
}

/** The rows selected by `keep(row)`. */
export function selectRows(rows: CalibrationRows, keep: (r: number) => boolean): CalibrationRows {
  const idx: number[] = [];
  for (let r = 0; r < rows.n; r++) if (keep(r)) idx.push(r);
  const C = rows.classes;
  const out = { n: idx.length, classes: C, centred: new Float32Array(idx.length * C), correct: new Uint8Array(idx.length), step: new Int32Array(idx.length), group: new Int32Array(idx.length) };
  idx.forEach((r, j) => {
    out.centred.set(rows.centred.subarray(r * C, (r + 1) * C), j * C);
    out.correct[j] = rows.correct[r];
    out.step[j] = rows.step[r];
    out.group[j] = rows.group[r];
  });
  return out;
}

/** q = max softmax(d/s) of one centred row. */
function topProbability(centred: Float32Array, o: number, classes: number, inv: number): number {
  let sum = 0;
  for (let k = 0; k < classes; k++) sum += Math.exp(centred[o + k] * inv);
  return 1 / sum;
}

const P_MIN = 1e-9;

/** Σ Bernoulli NLL of rows `idx` (all rows when undefined) with the scale of each row from `scaleOf(step)`. */
function nllSum(rows: CalibrationRows, scaleOf: (t: number) => number, idx?: Int32Array): number {
  const C = rows.classes;
  let f = 0;
  const count = idx ? idx.length : rows.n;
  for (let j = 0; j < count; j++) {
    const r = idx ? idx[j] : j;
    const q = Math.min(1 - P_MIN, Math.max(P_MIN, topProbability(rows.centred, r * C, C, 1 / scaleOf(rows.step[r]))));
    f -= rows.correct[r] ? Math.log(q) : Math.log(1 - q);
  }
  return f;
}

/** Minimises f over u ∈ [lo, hi]: a coarse grid, then golden-section search around its best point. */
function minimise1d(f: (u: number) => number, lo: number, hi: number, grid = 40, iterations = 40): number {
  let best = lo;
  let bestF = Infinity;
  const h = (hi - lo) / grid;
  for (let g = 0; g <= grid; g++) {
    const v = f(lo + g * h);
    if (v < bestF) (bestF = v), (best = lo + g * h);
  }
  let a = Math.max(lo, best - h);
  let b = Math.min(hi, best + h);
  const r = (Math.sqrt(5) - 1) / 2;
  let c = b - r * (b - a);
  let d = a + r * (b - a);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < iterations; i++) {
    if (fc < fd) (b = d), (d = c), (fd = fc), (c = b - r * (b - a)), (fc = f(c));
    else (a = c), (c = d), (fc = fd), (d = a + r * (b - a)), (fd = f(d));
  }
  const u = (a + b) / 2;
  return f(u) <= bestF ? u : best;
}

/** ln s is searched in [ln 1e-3, ln 1e5]: O_t of a 2-bit SNN spans a few units to a few hundred. */
const LOG_S_MIN = Math.log(1e-3);
const LOG_S_MAX = Math.log(1e5);

/** The scale of 0-based step t under a calibration (past the fitted steps: the last scale grown like t). */
export function stepScale(cal: StepCalibration, t: number): number {
  const T = cal.scales.length;
  if (t < T) return cal.scales[t];
  if (cal.power) return cal.power.a * Math.pow(t + 1, cal.power.b);
  return (cal.scales[T - 1] * (t + 1)) / T;
}

/** The paper's confidence as a calibration of the same shape: s_t = α·τ at every step. */
export function constantScale(scale: number, T: number): StepCalibration {
  if (!(scale > 0 && Number.isFinite(scale))) throw new RangeError(`constantScale: α·τ must be finite and > 0 (got ${scale})`);
  return { method: 'step-temperature', form: 'per-step', scales: new Array<number>(T).fill(scale) };
}

/** Fits one s_t per step on the rows of that step (a step without rows takes its neighbour's scale). */
export function fitPerStep(rows: CalibrationRows, T: number): StepCalibration {
  const byStep: number[][] = Array.from({ length: T }, () => []);
  for (let r = 0; r < rows.n; r++) if (rows.step[r] < T) byStep[rows.step[r]].push(r);
  const scales = new Array<number>(T).fill(NaN);
  for (let t = 0; t < T; t++) {
    if (byStep[t].length === 0) continue;
    const idx = Int32Array.from(byStep[t]);
    scales[t] = Math.exp(minimise1d((u) => nllSum(rows, () => Math.exp(u), idx), LOG_S_MIN, LOG_S_MAX));
  }
  for (let t = 1; t < T; t++) if (!(scales[t] > 0)) scales[t] = scales[t - 1];
  for (let t = T - 2; t >= 0; t--) if (!(scales[t] > 0)) scales[t] = scales[t + 1];
  if (!(scales[0] > 0)) throw new RangeError('fitPerStep: no rows to fit');
  return { method: 'step-temperature', form: 'per-step', scales };
}

/** Fits s_t = a·(t+1)^b on all rows (b in [−1, 3]; for each b the best a). */
export function fitPower(rows: CalibrationRows, T: number): StepCalibration {
  if (rows.n === 0) throw new RangeError('fitPower: no rows to fit');
  const bestLogA = (b: number) => minimise1d((u) => nllSum(rows, (t) => Math.exp(u) * Math.pow(t + 1, b)), LOG_S_MIN, LOG_S_MAX, 12, 20);
  const profile = (bb: number): number => {
    const a = Math.exp(bestLogA(bb));
    return nllSum(rows, (t) => a * Math.pow(t + 1, bb));
  };
  const b = minimise1d(profile, -1, 3, 8, 16);
  const a = Math.exp(bestLogA(b));
  const scales = Array.from({ length: T }, (_, t) => a * Math.pow(t + 1, b));
  return { method: 'step-temperature', form: 'power', scales, power: { a, b } };
}

/** Fits a form. */
export function fitStepCalibration(rows: CalibrationRows, T: number, form: StepScaleForm): StepCalibration {
  return form === 'power' ? fitPower(rows, T) : fitPerStep(rows, T);
}

/** The calibrated probability q of every row under `cal`. */
export function rowConfidences(rows: CalibrationRows, cal: StepCalibration): Float64Array {
  const C = rows.classes;
  const q = new Float64Array(rows.n);
  for (let r = 0; r < rows.n; r++) q[r] = topProbability(rows.centred, r * C, C, 1 / stepScale(cal, rows.step[r]));
  return q;
}

/** Mean Bernoulli NLL of the rows under `cal`. */
export function rowsNll(rows: CalibrationRows, cal: StepCalibration): number {
  return rows.n > 0 ? nllSum(rows, (t) => stepScale(cal, t)) / rows.n : NaN;
}

/** One form's held-out figures (two folds by sample: fit on one, measure on the other, both ways). */
export interface HeldOutFigures {
  readonly ece: number;
  readonly nll: number;
}

/** The fitted calibration, the form chosen and why. */
export interface StepCalibrationChoice {
  readonly calibration: StepCalibration;
  /** Held-out ECE (10 bins, every step's pair) and NLL of each form, and of the paper's constant α·τ when given. */
  readonly heldOut: Readonly<Record<StepScaleForm, HeldOutFigures>> & { readonly paper?: HeldOutFigures };
  /** The same figures on all the rows with the chosen (refitted) calibration, and with the paper's. */
  readonly inSample: { readonly ece: number; readonly nll: number; readonly paperEce?: number; readonly paperNll?: number };
  readonly rows: number;
  readonly samples: number;
}

const FORMS: readonly StepScaleForm[] = ['per-step', 'power'];

/** Fits both forms, picks the one with the lower held-out ECE (ties: fewer parameters), refits it on all rows. */
export function chooseStepCalibration(rows: CalibrationRows, T: number, paperScale?: number): StepCalibrationChoice {
  if (rows.n === 0) throw new RangeError('chooseStepCalibration: no rows');
  const folds = [selectRows(rows, (r) => rows.group[r] % 2 === 0), selectRows(rows, (r) => rows.group[r] % 2 === 1)];
  const heldOut = (fit: (train: CalibrationRows) => StepCalibration): HeldOutFigures => {
    let ece = 0;
    let nll = 0;
    let weight = 0;
    for (let k = 0; k < 2; k++) {
      const train = folds[k];
      const test = folds[1 - k];
      if (train.n === 0 || test.n === 0) continue;
      const cal = fit(train);
      ece += test.n * expectedCalibrationErrorOf(rowConfidences(test, cal), test.correct);
      nll += test.n * rowsNll(test, cal);
      weight += test.n;
    }
    return weight > 0 ? { ece: ece / weight, nll: nll / weight } : { ece: NaN, nll: NaN };
  };
  const figures = Object.fromEntries(FORMS.map((form) => [form, heldOut((train) => fitStepCalibration(train, T, form))])) as Record<StepScaleForm, HeldOutFigures>;
  const paper = paperScale !== undefined ? heldOut(() => constantScale(paperScale, T)) : undefined;
  const form = figures.power.ece <= figures['per-step'].ece ? 'power' : 'per-step';
  const calibration = fitStepCalibration(rows, T, form);
  const paperCal = paperScale !== undefined ? constantScale(paperScale, T) : undefined;
  return {
    calibration,
    heldOut: { ...figures, ...(paper ? { paper } : {}) },
    inSample: {
      ece: expectedCalibrationErrorOf(rowConfidences(rows, calibration), rows.correct),
      nll: rowsNll(rows, calibration),
      ...(paperCal ? { paperEce: expectedCalibrationErrorOf(rowConfidences(rows, paperCal), rows.correct), paperNll: rowsNll(rows, paperCal) } : {}),
    },
    rows: rows.n,
    samples: new Set(rows.group).size,
  };
}

/** The calibrated confidence and the prediction of one output vector O_t at 0-based step t. */
export function calibratedConfidence(O: NumericArray, step: number, cal: StepCalibration): ConfidenceResult {
  return confidenceAt(O, 0, O.length, 1 / stepScale(cal, step));
}
