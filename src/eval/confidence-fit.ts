/**
 * The calibrated confidence of one operating point (step-calibration.ts) fitted on the SNN's validation
 * recordings: windowed samples, and live-style ones for live streams (calibrate.ts, step 3).
 */
import { chooseStepCalibration, concatRows, rowsFromOutputs, stepScale, traceWithStepScales, type ConfidenceTrace, type StepCalibration, type StepCalibrationChoice } from '../confidence';
import type { ConversionMode, SnnNetwork } from '../snn/convert';
import { labelAt, type FrameDataset } from '../snn/dataset';
import { recordSnn, truncateRecording, type SnnRecording } from './run-snn';

/** The calibrated confidence of one operating point: the fitted step scales and how they were chosen. */
export interface ConfidenceCalibration extends StepCalibrationChoice {
  /** What the rows came from (windowed validation samples, live-style validation samples). */
  readonly fittedOn: string;
}

/** Live-style validation samples recorded for the confidence fit: each step labelled (−1: no gesture). */
export interface LiveStyleRecording {
  readonly rec: SnnRecording;
  /** The class of sample i at 0-based step t. */
  readonly labelAt: (i: number, t: number) => number;
}

/**
 * Fits the calibrated confidence of one operating point. Windowed samples (one label window each, the
 * paper's setting) and live samples (cut from a stream by activity and by the previous decision, often
 * between gestures) are right at different rates for the same O_t, so each kind of sample gets its own
 * step scales: `windowed` on the windowed validation samples; `live` on those plus the live-style
 * validation samples (no-gesture steps labelled −1, never right), when given.
 */
export function fitConfidence(rec: SnnRecording, paperScale: number, liveStyle?: LiveStyleRecording): { windowed: ConfidenceCalibration; live?: ConfidenceCalibration } {
  const { T, classes } = rec;
  const windowedRows = rowsFromOutputs(rec.outputs, rec.n, T, classes, (i) => rec.labels[i]);
  const windowed = { ...chooseStepCalibration(windowedRows, T, paperScale), fittedOn: `${rec.n} windowed validation samples, every step` };
  if (!liveStyle) return { windowed };
  const ls = truncateRecording(liveStyle.rec, T);
  const rows = concatRows([windowedRows, rowsFromOutputs(ls.outputs, ls.n, T, classes, liveStyle.labelAt, rec.n)]);
  const fittedOn = `${rec.n} windowed and ${ls.n} live-style validation samples (no-gesture steps labelled −1), every step`;
  return { windowed, live: { ...chooseStepCalibration(rows, T, paperScale), fittedOn } };
}

/** The calibrated-confidence trace of a recording. */
export function calibratedTrace(rec: SnnRecording, cal: StepCalibration): ConfidenceTrace {
  return traceWithStepScales(rec.outputs, rec.labels, rec.T, rec.classes, (t) => stepScale(cal, t));
}

/** Records the SNN over live-style validation frames for the confidence fit. */
export async function recordLiveStyle(
  net: SnnNetwork,
  ds: FrameDataset,
  T: number,
  mode: ConversionMode,
  o: { readonly name?: string; readonly slots?: number; readonly onProgress?: (phase: string, done: number, total: number) => void },
): Promise<LiveStyleRecording> {
  if (ds.T < T) throw new Error(`${o.name ?? 'live-style data'}: ${ds.T} frames per sample, ${mode} needs ${T}`);
  const rec = await recordSnn(net, ds, { T, slots: o.slots, onProgress: o.onProgress ? (d, t) => o.onProgress!(`snn ${mode} live-style`, d, t) : undefined });
  return { rec, labelAt: (i, t) => labelAt(ds, i, t + 1) };
}
