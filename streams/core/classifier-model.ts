import { alphaFor } from '../../src/confidence/confidence';
import { convertWeights, type ConversionMode, type SnnNetwork } from '../../src/snn/convert';
import { loadModel } from '../../src/snn/model-file';

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

/** Loads a model directory (see src/snn/model-file.ts), converts it, and resolves α, τ and θ. */
export function loadClassifierModel(dir: string, o: ClassifierOverrides = {}): ClassifierModel {
  const { meta, weights, spec } = loadModel(dir);
  const cal = meta.calibration ?? { alpha: null, tau: null };
  const calibratedFor = typeof cal.mode === 'string' ? (cal.mode as ConversionMode) : meta.conversion.mode;
  const mode = o.mode ?? meta.conversion.mode;
  const binning = meta.binning;
  if (!binning || (binning.binUs === undefined && binning.eventsPerBin === undefined)) {
    throw new Error(`${dir}: spikestream.json has no input binning (binUs or eventsPerBin): cannot bin events for it`);
  }
  const maxSteps = o.maxSteps ?? binning.T ?? meta.conversion.T;
  // Per-mode calibration is stored under calibration.modes[mode] when a model was calibrated for both.
  const modes = (cal.modes ?? {}) as Record<string, { alpha?: number; tau?: number; theta?: number } | undefined>;
  const forMode = modes[mode] ?? (calibratedFor === mode ? { alpha: cal.alpha ?? undefined, tau: cal.tau ?? undefined, theta: cal.theta ?? undefined } : {});
  const theta = o.theta ?? forMode.theta;
  return {
    dir,
    net: convertWeights(spec, weights, mode),
    mode,
    classes: meta.classes,
    binUs: binning.binUs,
    eventsPerBin: binning.binUs === undefined ? binning.eventsPerBin : undefined,
    downsample: binning.downsample ?? 1,
    maxSteps,
    alpha: o.alpha ?? forMode.alpha ?? alphaFor(mode === 'qffs' ? 'QFFS' : 'QCFS', maxSteps, spec.bits),
    tau: o.tau ?? forMode.tau ?? 1,
    theta: theta ?? 1,
    thetaSource: o.theta !== undefined ? 'override' : theta !== undefined ? 'calibration' : 'none',
  };
}
