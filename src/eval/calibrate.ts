/**
 * Calibration of a saved model for Dynamic Confidence, on a validation frames dataset.
 *
 *  1. The ANN on the mean of the first t frames of every validation sample, t = 1..T (the input the
 *     SNN has integrated at step t and the ANN's training input; see baselines.ts).
 *  2. For each conversion mode and each of its operating points' T (operating-points.ts: QCFS at the
 *     model's T; QFFS at T ∈ {L, 4, 6}): τ by temperature scaling of the ANN's logits on the same
 *     T-frame window; the converted SNN's O_t over T steps (one recording per mode, cut at each T:
 *     the SNN is causal); α = alphaFor(mode, T, bits) ('auto'), the least-squares fit of O_T against
 *     the ANN logits ('fit'), or a given number; the paper's confidence trace softmax(O_t/(α·τ)).
 *  3. The calibrated confidence (step-calibration.ts): step scales s_t fitted on the SNN's own O_t at
 *     every step of the windowed validation samples, and — with live-style samples — a second set for
 *     live streams; q_t = max softmax(O_t/s_t) is the probability that argmax O_t is right.
 *  4. θ of each stop rule — calibrated (q_t ≥ θ; the deployed one when fitted) and the paper's
 *     (c_t > θ), and live streams' (q_t with the live scales) — by the deployed θ rule
 *     (theta-rules.ts): the paper's (lowest mean steps with validation accuracy ≥ full-T − ε) over
 *     every distinct θ or over the paper's 0.1 grid (or that grid extended by 0.95 and 0.99), or the
 *     non-inferiority rule on the grid. The paper rule's alternatives for c_t are reported
 *     (`rules`), not stored.
 *  5. The result is merged into the model's spikestream.json (calibration-store.ts).
 */
import { perStepAccuracy, traceFromOutputs } from '../confidence';
import { convertWeights, type ConversionMode } from '../snn/convert';
import type { FrameDataset } from '../snn/dataset';
import { annPrefixLogits, logitsAtStep } from './baselines';
import { binningFor, candidateSteps, CONVERSION_MODES, defaultStoredSteps } from '../snn/model/operating-points';
import { accuracyOf, recordSnn, truncateRecording } from './run-snn';
import { recordLiveStyle } from './confidence-fit';
import { calibrateMode, checkData, chooseAlpha, temperatureAt } from './calibrate-mode';
import type { CalibrateOptions, CalibrationReport, LoadedModel, ModeCalibration, TemperatureReport } from './calibration-types';

export { CONVERSION_MODES, modelSteps } from '../snn/model/operating-points';
export { calibratedTrace, fitConfidence, recordLiveStyle, type ConfidenceCalibration, type LiveStyleRecording } from './confidence-fit';

export { parseAlpha, parseModes, parseThetaRule, parseThetaSearch, snnMode, type AlphaChoice, type ThetaSearch } from './options';
export * from './calibration-types';
export { calibrateMode, checkData, chooseAlpha, type ModeCalibrationInputs } from './calibrate-mode';

/** What calibrateModel shares with each mode's calibration: the data, the options, and the per-T ANN figures. */
interface ModeCalibrationContext {
  readonly model: LoadedModel;
  readonly val: FrameDataset;
  readonly opts: CalibrateOptions;
  readonly T: number;
  readonly epsilon: number;
  readonly alphaChoice: NonNullable<CalibrateOptions['alpha']>;
  readonly notes: string[];
  readonly logitsAt: (t: number) => Float32Array;
  readonly temperatureFor: (t: number) => TemperatureReport;
}

/**
 * One conversion mode at each of its candidate T: the SNN is recorded once at the largest T and cut
 * for the smaller ones (a prefix of the same run), so every T sees the same spikes. Returns the list
 * and the T stored as the mode's operating point.
 */
async function calibrateAtEachT(ctx: ModeCalibrationContext, mode: ConversionMode): Promise<{ list: ModeCalibration[]; storedT: number }> {
  const { model, val, opts, T, notes } = ctx;
  const { spec, weights, meta } = model;
  const C = spec.classes.length;
  const steps = candidateSteps(mode, T, spec.levels);
  const stored = mode === 'qffs' && opts.qffsSteps !== undefined ? opts.qffsSteps : defaultStoredSteps(mode, T, spec.levels);
  if (!steps.includes(stored)) throw new RangeError(`calibrate: ${mode} is calibrated at T ∈ {${steps.join(', ')}}, not ${stored}`);
  const net = convertWeights(spec, weights, mode);
  const full = await recordSnn(net, val, {
    T: steps[steps.length - 1],
    slots: opts.slots,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!(`snn ${mode}`, d, t) : undefined,
  });
  const liveStyle = opts.liveStyle && opts.calibrateConfidence !== false ? await recordLiveStyle(net, opts.liveStyle, steps[steps.length - 1], mode, { name: opts.liveStyleName, slots: opts.slots, onProgress: opts.onProgress }) : undefined;
  const list: ModeCalibration[] = [];
  for (const t of steps) {
    const rec = truncateRecording(full, t);
    const logits = ctx.logitsAt(t);
    const alpha = chooseAlpha(ctx.alphaChoice, mode, t, spec.levels, rec, logits);
    if (alpha.note) notes.push(alpha.note);
    list.push(
      calibrateMode(mode, rec, {
        alpha,
        temperature: ctx.temperatureFor(t),
        annAccuracy: accuracyOf(logits, val.labels, C),
        binning: binningFor(meta, t),
        epsilon: ctx.epsilon,
        search: opts.search,
        thetaRule: opts.thetaRule,
        maxLoss: opts.maxLoss,
        bootstrap: opts.bootstrap,
        calibrateConfidence: opts.calibrateConfidence,
        liveStyle,
      }),
    );
  }
  return { list, storedT: stored };
}

/** Runs the whole calibration (see the file comment). The tfjs backend must be initialised. */
export async function calibrateModel(model: LoadedModel, val: FrameDataset, opts: CalibrateOptions = {}): Promise<CalibrationReport> {
  const modes = opts.modes ?? CONVERSION_MODES;
  if (modes.length === 0) throw new RangeError('calibrate: no modes');
  const epsilon = opts.epsilon ?? 0;
  if (!(epsilon >= 0 && epsilon < 1)) throw new RangeError(`calibrate: epsilon must be in [0, 1) (got ${epsilon})`);
  const alphaChoice = opts.alpha ?? 'auto';
  const T = checkData(model, val, opts.validationName ?? 'validation data');
  const { spec, weights, meta } = model;
  const C = spec.classes.length;
  const notes: string[] = [];
  if (val.n < 1) throw new Error('calibrate: the validation set is empty');
  const stepsOf = (mode: ConversionMode) => candidateSteps(mode, T, spec.levels);
  const Tmax = Math.max(T, ...modes.flatMap(stepsOf));

  const prefix = await annPrefixLogits(spec, weights, val, Tmax, {
    batchSize: opts.batchSize,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!('ann', d, t) : undefined,
  });
  const logitsAt = (t: number) => logitsAtStep(prefix, val.n, Tmax, C, t);
  const annAccuracyPerStep = Array.from(perStepAccuracy(traceFromOutputs(prefix, val.labels, Tmax, C, 1, 1))).slice(0, T);
  const temps = new Map<number, TemperatureReport>();
  const temperatureFor = (t: number): TemperatureReport => {
    if (!temps.has(t)) {
      const r = temperatureAt(logitsAt(t), val.labels, C);
      if (r.atBound) notes.push(`T=${t}: τ hit its search bound (${r.atBound}): the ANN's validation logits are ${r.atBound === 'min' ? 'separable' : 'uninformative'}`);
      temps.set(t, r);
    }
    return temps.get(t)!;
  };

  const out: Partial<Record<ConversionMode, ModeCalibration>> = {};
  const all: Partial<Record<ConversionMode, ModeCalibration[]>> = {};
  const ctx: ModeCalibrationContext = { model, val, opts, T, epsilon, alphaChoice, notes, logitsAt, temperatureFor };
  for (const mode of modes) {
    const { list, storedT } = await calibrateAtEachT(ctx, mode);
    all[mode] = list;
    out[mode] = list.find((c) => c.T === storedT)!;
  }

  const report: CalibrationReport = {
    model: model.dir,
    validation: opts.validationName ?? 'validation',
    n: val.n,
    T,
    classes: C,
    bits: spec.bits,
    levels: spec.levels,
    defaultMode: meta.conversion.mode,
    annAccuracy: annAccuracyPerStep[T - 1],
    annAccuracyPerStep,
    temperature: temperatureFor(T),
    modes: out,
    operatingPoints: all,
    notes,
  };
  return report;
}
