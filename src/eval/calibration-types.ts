/** What calibration takes and gives (calibrate.ts, calibrate-mode.ts): options, per-mode results, the report. */
import type { BootstrapOptions, StopRule, Interval, ThetaRuleName } from '../confidence';
import type { NamedWeight } from '../snn/ann';
import type { ConversionMode } from '../snn/convert';
import type { FrameDataset } from '../snn/dataset';
import type { InputBinning, ModelMeta } from '../snn/model/model-file';
import type { ResolvedSpec } from '../snn/spec';
import type { AlphaChoice, ThetaSearch } from './options';
import type { ConfidenceCalibration } from './confidence-fit';

/** Progress of a named phase ('ann', 'snn qcfs', …) in samples. */
export type PhaseProgressFn = (phase: string, done: number, total: number) => void;

export interface TemperatureReport {
  readonly tau: number;
  readonly nllBefore: number;
  readonly nllAfter: number;
  readonly eceBefore: number;
  readonly eceAfter: number;
  readonly atBound: 'min' | 'max' | null;
}

/** One θ rule's choice on validation, with its paired intervals against the full-T SNN. */
export interface RuleSummary {
  readonly rule: ThetaRuleName;
  readonly grid: 'exact' | 'paper' | 'extended';
  /** ε (paper) or δ (non-inferior). */
  readonly tolerance: number;
  readonly theta: number;
  readonly accuracy: number;
  readonly meanSteps: number;
  /** DC − full-T accuracy, paired bootstrap. */
  readonly accuracyDiff: Interval;
  readonly meanStepsInterval: Interval;
  readonly mcnemarP: number;
}

/** One stop rule's θ, chosen on validation, with its validation figures (the rule that chose θ named in `rule`/`grid`). */
export interface StopRuleSummary extends RuleSummary {
  readonly stopRule: StopRule;
  readonly earlyFraction: number;
  readonly thetaInterval: [number | null, number | null];
}

export interface ModeCalibration {
  readonly mode: ConversionMode;
  /** The deployed stop rule: 'calibrated' when the step calibration was fitted, else 'paper'. `theta` and the figures below are its. */
  readonly stopRule: StopRule;
  /** Each stop rule's θ with its validation figures; `calibratedLive` is θ of live streams, on their own calibrated probability. */
  readonly stopRules: { readonly calibrated?: StopRuleSummary; readonly calibratedLive?: StopRuleSummary; readonly paper: StopRuleSummary };
  /** The calibrated confidence of windowed samples (absent when not fitted). */
  readonly confidence?: ConfidenceCalibration;
  /** The calibrated confidence of live streams (fitted with live-style validation samples; absent without them). */
  readonly liveConfidence?: ConfidenceCalibration;
  readonly alpha: number;
  readonly alphaSource: 'auto' | 'fit' | 'given';
  /** alphaFor(mode, T, bits, L) and the least-squares fit (both reported whatever the choice). */
  readonly alphaAuto: number;
  readonly alphaFit: number;
  readonly tau: number;
  /** Temperature scaling of the ANN's logits on this operating point's T-frame window. */
  readonly temperature: TemperatureReport;
  /** The deployed θ (from `thetaRule`). */
  readonly theta: number;
  readonly thetaRule: ThetaRuleName;
  /** Every θ in [thetaMin, thetaMax) gives the same validation result (null = ∓∞); a grid θ is its own interval. */
  readonly thetaMin: number | null;
  readonly thetaMax: number | null;
  readonly epsilon: number;
  /** How the paper rule searched θ. */
  readonly search: ThetaSearch;
  /** The paper's c_t: each θ rule's choice with its validation intervals (the paper rule on every θ and on the grid, the non-inferior rule). Reported, not stored. */
  readonly rules: { readonly paperExact: RuleSummary; readonly paper: RuleSummary; readonly nonInferior: RuleSummary };
  /** Which of `rules` gives the paper stop rule's θ. */
  readonly deployedRule: 'paperExact' | 'paper' | 'nonInferior';
  readonly T: number;
  readonly binning: InputBinning;
  readonly n: number;
  /** The ANN on the mean of the first T frames (validation). */
  readonly annAccuracy: number;
  /** SNN accuracy at T on the validation split. */
  readonly accFullT: number;
  /** SNN accuracy with Dynamic Confidence at θ (validation). */
  readonly accAtTheta: number;
  readonly meanSteps: number;
  readonly earlyFraction: number;
  readonly latencySavingPct: number;
  readonly spikesPerNeuronFullT: number;
}

export interface CalibrationReport {
  readonly model: string;
  readonly validation: string;
  readonly n: number;
  /** The model's T. */
  readonly T: number;
  readonly classes: number;
  readonly bits: number;
  readonly levels: number;
  readonly defaultMode: ConversionMode;
  /** The ANN on the mean of all T frames, and on the mean of the first t frames for t = 1..T. */
  readonly annAccuracy: number;
  readonly annAccuracyPerStep: number[];
  /** τ at the model's T (each operating point has its own in `modes`). */
  readonly temperature: TemperatureReport;
  /** The stored operating point of each mode. */
  readonly modes: Partial<Record<ConversionMode, ModeCalibration>>;
  /** Every calibrated T of each mode (ascending T). */
  readonly operatingPoints: Partial<Record<ConversionMode, ModeCalibration[]>>;
  readonly notes: string[];
  /** spikestream.json written (by `calibrateAndWrite`; absent from `calibrateModel`). */
  readonly written?: string;
}

export interface CalibrateOptions {
  readonly modes?: readonly ConversionMode[];
  readonly epsilon?: number;
  /** θ search of the paper rule: 'exact' (default), 'paper' or 'extended'. */
  readonly search?: ThetaSearch;
  /** Which rule's θ is deployed (default 'paper'). */
  readonly thetaRule?: ThetaRuleName;
  /** Non-inferiority margin δ (default 0.01). */
  readonly maxLoss?: number;
  /** Paired bootstrap settings (default 2000 resamples, seed 1). */
  readonly bootstrap?: BootstrapOptions;
  /** T of the stored QFFS operating point (default 4, the paper's setting; must be a candidate). */
  readonly qffsSteps?: number;
  readonly alpha?: AlphaChoice;
  /** ANN batch size (default 32). */
  readonly batchSize?: number;
  /** SNN runner slots (default 64). */
  readonly slots?: number;
  /** Name of the validation data recorded in the file (default 'validation'). */
  readonly validationName?: string;
  /** Fit the calibrated confidence and deploy its stop rule (default true; false keeps the paper's c_t rule). */
  readonly calibrateConfidence?: boolean;
  /** Live-style validation frames (with step labels) added to the confidence fit, and their name. */
  readonly liveStyle?: FrameDataset;
  readonly liveStyleName?: string;
  readonly onProgress?: PhaseProgressFn;
}

/** What calibration needs from a loaded model. */
export interface LoadedModel {
  readonly dir: string;
  readonly meta: ModelMeta;
  readonly weights: NamedWeight[];
  readonly spec: ResolvedSpec;
}
