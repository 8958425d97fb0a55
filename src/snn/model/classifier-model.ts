import { alphaFor } from '../../confidence/confidence';
import { convertWeights, type ConversionMode, type SnnNetwork } from '../convert';
import { loadModel } from './model-file';
import { storedAtSteps, storedOperatingPoint } from './operating-points';
import { resolveModelDir } from './bundled';

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
  /** T: the most steps a sample may use. */
  readonly maxSteps: number;
  readonly alpha: number;
  readonly tau: number;
  readonly theta: number;
  /** Where θ came from: the model's calibration, an override, or none (never early). */
  readonly thetaSource: 'calibration' | 'override' | 'none';
}

export interface ClassifierOverrides {
  mode?: ConversionMode;
  theta?: number;
  alpha?: number;
  tau?: number;
  maxSteps?: number;
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
  const theta = o.theta ?? atSteps?.theta;
  return {
    dir,
    net: convertWeights(spec, weights, mode),
    mode,
    classes: meta.classes,
    binUs: binning.binUs,
    eventsPerBin: binning.binUs === undefined ? binning.eventsPerBin : undefined,
    downsample: binning.downsample ?? 1,
    maxSteps,
    // α and τ calibrated for another T do not carry over: α defaults to the QCFS/QFFS value for this T.
    alpha: o.alpha ?? atSteps?.alpha ?? alphaFor(mode === 'qffs' ? 'QFFS' : 'QCFS', maxSteps, spec.bits),
    tau: o.tau ?? atSteps?.tau ?? 1,
    theta: theta ?? 1,
    thetaSource: o.theta !== undefined ? 'override' : theta !== undefined ? 'calibration' : 'none',
  };
}
