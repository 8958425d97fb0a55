import { alphaFor } from '../../confidence/confidence';
import type { StopRule } from '../../confidence/decide';
import type { StepCalibration } from '../../confidence/step-calibration';
import { convertWeights, type ConversionMode, type SnnNetwork } from '../convert';
import { loadModel } from './model-file';
import { storedAtSteps, storedOperatingPoint } from './operating-points';
import { resolveModelDir } from './bundled';
import { parseInputEncoding, type InputEncoding } from '../input-encoding';

/** Everything the streaming classifier needs from a model directory, with overrides applied. */
export interface ClassifierModel {
  readonly dir: string;
  readonly net: SnnNetwork;
  readonly mode: ConversionMode;
  readonly classes: readonly string[];
  /** Time bin (µs) or events per bin; exactly one is set. */
  readonly binUs?: number;
  readonly eventsPerBin?: number;
  readonly downsample: number;
  /** What the input's two channels count ('polarity' for every model made before the time encodings existed). */
  readonly encoding: InputEncoding;
  /** The steps a time-ramp input's ramp spans (the model's binning.rampSteps, else the T it was trained with; whatever maxSteps is). */
  readonly encodingSteps: number;
  /** T: the most steps a sample may use. */
  readonly maxSteps: number;
  readonly alpha: number;
  readonly tau: number;
  /**
   * θ of the stop rule. To set your own, pass `loadClassifierModel(dir, { theta })` (or mark a copy
   * `thetaSource: 'override'`): a calibrated θ is replaced by the live one for live streams.
   */
  readonly theta: number;
  /** Where θ came from: the model's calibration, an override, or none (never early). */
  readonly thetaSource: 'calibration' | 'override' | 'none';
  /** How a calibrated θ was chosen, in words (e.g. "the paper's no-loss rule on validation, ε = 0"). */
  readonly thetaChosenBy?: string;
  /**
   * What a decision shows as `confidence` and the stop rule compares with θ: 'calibrated', the
   * probability q_t = max softmax(O_t/s_t) that the shown class is right (stop at q_t ≥ θ); or
   * 'paper', c_t = max softmax(O_t/(α·τ)) (stop at c_t > θ). c_t is on every decision either way.
   */
  readonly stopRule: StopRule;
  /** The step scales s_t of the calibrated confidence (absent when the model has none). */
  readonly calibration?: StepCalibration;
  /** Live streams' own calibrated confidence and θ (see `forLiveStreams`). */
  readonly live?: { readonly calibration: StepCalibration; readonly theta: number; readonly thetaChosenBy: string };
  /** Which samples the calibration and θ in force are for. */
  readonly samples?: 'windowed' | 'live';
}

/**
 * The model as live streams run it: a live sample (cut by activity and by the previous decision,
 * often between gestures) is right less often than a label window with the same O_t, so under the
 * calibrated rule it shows the probability calibrated with live-style samples and stops at its own
 * θ (an explicit --theta still wins). Unchanged for the paper rule or a model without them.
 */
export function forLiveStreams(m: ClassifierModel): ClassifierModel {
  if (m.samples === 'live' || m.stopRule !== 'calibrated' || !m.live) return m;
  const override = m.thetaSource === 'override';
  return {
    ...m,
    calibration: m.live.calibration,
    theta: override ? m.theta : m.live.theta,
    ...(override ? {} : { thetaChosenBy: m.live.thetaChosenBy }),
    samples: 'live',
  };
}

/** θ for people: three decimals at most (the stored value is exact; this is only what is printed). */
export function formatTheta(theta: number): string {
  return String(Number(theta.toFixed(3)));
}

/** Where θ came from, in words: given, not calibrated, or the rule that chose it. */
export function thetaOrigin(m: Pick<ClassifierModel, 'thetaSource' | 'thetaChosenBy'>): string {
  if (m.thetaSource === 'override') return 'given with --theta';
  if (m.thetaSource === 'none') return 'not calibrated at this T: never early';
  return `chosen by ${m.thetaChosenBy ?? 'the stored calibration'}`;
}

export interface ClassifierOverrides {
  mode?: ConversionMode;
  theta?: number;
  alpha?: number;
  tau?: number;
  maxSteps?: number;
  /** 'paper': show and stop on the paper's c_t (reproduces the paper); default: the model's stored rule. */
  stopRule?: StopRule;
}

function maxStepsOf(o: ClassifierOverrides, stored: number): number {
  return o.maxSteps ?? stored;
}

/**
 * Loads a model directory (see src/snn/model/model-file.ts) or a bundled model by name ('gesture',
 * 'saccade-mnist', 'saccade-fashion'; see bundled.ts), converts it, and resolves T, binning, α, τ
 * and θ: the operating point stored for the conversion mode (calibration.modes[mode]: QFFS is
 * calibrated at its own short T), or, with a `maxSteps` override, the point calibrated at that T
 * when there is one. Explicit overrides win.
 */
export function loadClassifierModel(dirOrName: string, o: ClassifierOverrides = {}): ClassifierModel {
  const dir = resolveModelDir(dirOrName);
  const { meta, weights, spec } = loadModel(dir);
  const mode = o.mode ?? meta.conversion.mode;
  if (!meta.binning || (meta.binning.binUs === undefined && meta.binning.eventsPerBin === undefined)) {
    throw new Error(`${dir}: spikestream.json has no input binning (binUs or eventsPerBin): cannot bin events for it`);
  }
  const stored = storedOperatingPoint(meta, mode);
  const atSteps = o.maxSteps !== undefined && o.maxSteps !== stored.T ? storedAtSteps(meta, mode, o.maxSteps) : stored;
  const maxSteps = o.maxSteps ?? stored.T;
  const binning = atSteps?.binning ?? stored.binning;
  const calibration = atSteps?.confidence;
  const stopRule: StopRule = o.stopRule ?? (calibration ? (atSteps?.stopRule ?? 'paper') : 'paper');
  if (stopRule === 'calibrated' && !calibration) throw new Error(`${dir}: no calibrated confidence stored for ${mode} at T = ${maxStepsOf(o, stored.T)} (run \`spikestream calibrate\`, or use --confidence paper)`);
  const theta = o.theta ?? atSteps?.thetas[stopRule];
  return {
    dir,
    net: convertWeights(spec, weights, mode),
    mode,
    classes: meta.classes,
    binUs: binning.binUs,
    eventsPerBin: binning.binUs === undefined ? binning.eventsPerBin : undefined,
    downsample: binning.downsample ?? 1,
    encoding: parseInputEncoding(meta.binning.encoding, `${dir}: spikestream.json binning.encoding`),
    encodingSteps: meta.binning.rampSteps ?? meta.binning.T,
    maxSteps,
    // α and τ calibrated for another T do not carry over: α defaults to the QCFS/QFFS value for this T.
    alpha: o.alpha ?? atSteps?.alpha ?? alphaFor(mode === 'qffs' ? 'QFFS' : 'QCFS', maxSteps, spec.bits, spec.levels),
    tau: o.tau ?? atSteps?.tau ?? 1,
    theta: theta ?? 1,
    thetaSource: o.theta !== undefined ? 'override' : theta !== undefined ? 'calibration' : 'none',
    ...(o.theta === undefined && atSteps?.thetaChosenBy[stopRule] ? { thetaChosenBy: atSteps.thetaChosenBy[stopRule] } : {}),
    stopRule,
    ...(calibration ? { calibration } : {}),
    ...(stopRule === 'calibrated' && atSteps?.live ? { live: atSteps.live } : {}),
    samples: 'windowed',
  };
}
