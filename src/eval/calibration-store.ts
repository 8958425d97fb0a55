/**
 * Writes a calibration into a model's spikestream.json (weights untouched, atomic rename). Layout:
 *
 *   calibration.modes[mode] = { T, binning, alpha, tau,            the paper's c_t = max softmax(O_t/(α·τ))
 *                               confidence: { method, form, scales, … }   the calibrated q_t of windowed samples
 *                               liveConfidence, liveTheta           … and of live streams (and their θ)
 *                               stopRule, theta, thetaRule, search, epsilon, thetaInterval,
 *                               accFullT, accAtTheta, meanSteps, …  the deployed θ and its figures only
 *                               stopRules: { calibrated, calibratedLive, paper }   each stop rule's θ, labelled by rule
 *                               operatingPoints: [ the same per candidate T ] }
 *   calibration.{mode, stopRule, alpha, tau, theta, …}   the model's default mode (meta.conversion.mode)
 *
 * `alpha`, `tau`, `confidence`, `stopRule`, `theta` of modes[mode] are what a runner uses
 * (streams/core/classifier-model.ts reads them); `T` and `binning` say how many steps of which bins
 * they were calibrated for (operating-points.ts, `storedOperatingPoint`). The paper rule's
 * alternatives (every θ, the grid, non-inferiority) are reported by `calibrate`, not stored: the
 * file holds figures of deployable θs only, and a θ chosen on live streams (`evaluate --live
 * --store-theta`) is dropped by a new calibration, which chooses θ again.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ModelMeta } from '../snn/model/model-file';
import type { FrameDataset } from '../snn/dataset';
import { calibrateModel, type CalibrateOptions, type CalibrationReport, type LoadedModel, type ModeCalibration } from './calibrate';

/** JSON with non-finite numbers as null. */
function clean<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as T;
}

/** The stored calibrated confidence: what a runner applies, and how it was chosen. */
function storedConfidence(c: NonNullable<ModeCalibration['confidence']>): Record<string, unknown> {
  const { calibration, heldOut, inSample, rows, samples, fittedOn } = c;
  return { ...calibration, fittedOn, rows, samples, chosenBy: 'the lower held-out ECE (10 bins; two folds by sample)', heldOut, inSample };
}

/** The stored form of one mode at one T. */
export function storedEntry(c: ModeCalibration): Record<string, unknown> {
  return {
    T: c.T,
    binning: c.binning,
    alpha: c.alpha,
    tau: c.tau,
    stopRule: c.stopRule,
    ...(c.confidence ? { confidence: storedConfidence(c.confidence) } : {}),
    ...(c.liveConfidence ? { liveConfidence: storedConfidence(c.liveConfidence) } : {}),
    ...(c.stopRules.calibratedLive ? { liveTheta: c.stopRules.calibratedLive.theta } : {}),
    theta: c.theta,
    thetaRule: c.thetaRule,
    search: c.search,
    accFullT: c.accFullT,
    accAtTheta: c.accAtTheta,
    meanSteps: c.meanSteps,
    latencySavingPct: c.latencySavingPct,
    earlyFraction: c.earlyFraction,
    thetaInterval: [c.thetaMin, c.thetaMax],
    epsilon: c.epsilon,
    alphaSource: c.alphaSource,
    alphaAuto: c.alphaAuto,
    alphaFit: c.alphaFit,
    annAccuracy: c.annAccuracy,
    temperature: c.temperature,
    spikesPerNeuronFullT: c.spikesPerNeuronFullT,
    stopRules: c.stopRules,
    n: c.n,
  };
}

/**
 * Merges a calibration report into DIR/spikestream.json (re-read just before writing; other keys and
 * other modes' entries kept) and replaces the file atomically. Returns its path.
 */
export function writeCalibration(dir: string, report: CalibrationReport): string {
  const file = path.join(dir, 'spikestream.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelMeta;
  if (meta.format !== 'spikestream-model') throw new Error(`${file} is not a spikestream model`);
  const prev = (meta.calibration ?? { alpha: null, tau: null }) as ModelMeta['calibration'];
  const prevModes = (prev.modes && typeof prev.modes === 'object' ? prev.modes : {}) as Record<string, unknown>;
  const modes: Record<string, unknown> = { ...prevModes };
  for (const [mode, c] of Object.entries(report.modes)) {
    if (!c) continue;
    const candidates = report.operatingPoints[mode as keyof typeof report.operatingPoints] ?? [c];
    modes[mode] = { ...storedEntry(c), operatingPoints: candidates.map(storedEntry) };
  }
  const next: Record<string, unknown> = { ...prev, modes };
  // A θ chosen on live streams belonged to the previous calibration.
  delete next.live;
  const def = report.modes[report.defaultMode];
  if (def) {
    Object.assign(next, {
      mode: report.defaultMode,
      stopRule: def.stopRule,
      thetaRule: def.thetaRule,
      alpha: def.alpha,
      tau: def.tau,
      theta: def.theta,
      accFullT: def.accFullT,
      accAtTheta: def.accAtTheta,
      meanSteps: def.meanSteps,
      latencySavingPct: def.latencySavingPct,
    });
  }
  next.temperature = { ...report.temperature };
  next.ann = { accuracy: report.annAccuracy, input: `mean of the first ${report.T} frames`, accuracyPerStep: report.annAccuracyPerStep };
  next.validation = { data: report.validation, n: report.n, T: report.T };
  next.calibratedAt = new Date().toISOString();
  meta.calibration = clean(next) as ModelMeta['calibration'];
  const tmp = path.join(dir, `.spikestream.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** Calibrates `model` on `val` (see `calibrateModel`) and writes the result into its spikestream.json. */
export async function calibrateAndWrite(model: LoadedModel, val: FrameDataset, opts: CalibrateOptions = {}): Promise<CalibrationReport> {
  const report = await calibrateModel(model, val, opts);
  return { ...report, written: writeCalibration(model.dir, report) };
}
