/**
 * The robustness report (`evaluate --robustness`): the held-out synthetic users rendered again
 * with one perturbation at a time (src/datasets/synth-gestures/perturb.ts), every label window
 * classified by the model's SNN, and per perturbation: accuracy at full T, accuracy with Dynamic
 * Confidence at the model's θ under its stop rule (the windowed calibration: every sample is a label
 * window), mean steps, the share of decisions that reached θ, and the calibration of the confidence
 * shown with the decisions (ECE).
 *
 * The perturbed recordings are written once into `cacheDir/<perturbation>/` (a DVS128-Gesture
 * folder: any other command can read them) and reused by later runs with the same options.
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateSynthGestures, SYNTH_PERTURBATIONS } from '../datasets/synth-gestures';
import { shouldStop, type StopRule } from '../confidence/decide';
import { expectedCalibrationErrorOf } from '../confidence/reliability';
import { fullTAccuracy, traceFromOutputs, type ConfidenceTrace } from '../confidence/trace';
import { wilson, type Interval } from '../confidence/stats';
import type { FrameDataset } from '../snn/dataset';
import { openDataset } from '../../streams/sources/open-dataset';
import { collectFrameDataset } from '../../streams/sinks/to-frame-dataset';
import { loadClassifierModel, type ClassifierModel } from '../snn/model/classifier-model';
import { calibratedTrace } from './confidence-fit';
import { recordSnn, type SnnRecording } from './run-snn';

export interface RobustnessOptions {
  /** Where the perturbed recordings are written (and found again). */
  readonly cacheDir: string;
  /** Held-out users rendered (default 24–29, the synthetic test split) and their seed (default 1). */
  readonly firstUser?: number;
  readonly subjects?: number;
  readonly seed?: number;
  /** Lightings per user (default 3). */
  readonly lightings?: number;
  /** Perturbation names (default all, 'none' first). */
  readonly perturbations?: readonly string[];
  readonly onProgress?: (phase: string, done: number, total: number) => void;
}

export interface RobustnessRow {
  readonly perturbation: string;
  readonly description: string;
  readonly n: number;
  readonly accT: number;
  readonly accTCi: Interval;
  readonly accDc: number;
  readonly accDcCi: Interval;
  readonly meanSteps: number;
  /** Steps saved against T (%). */
  readonly savingPct: number;
  /** Share of decisions whose confidence reached θ (the others are uncertain). */
  readonly confidentShare: number;
  /** Accuracy over the confident decisions only (what a user is shown as answers). */
  readonly accConfident: number;
  /** ECE (15 equal-width bins) of the confidence shown with each decision against its correctness. */
  readonly ece: number;
  readonly meanConfidence: number;
}

export interface RobustnessResult {
  readonly model: string;
  readonly mode: string;
  readonly T: number;
  readonly theta: number;
  readonly confidence: string;
  readonly users: string;
  readonly rows: RobustnessRow[];
}

/**
 * Scores one trace at θ under the stop rule (every sample a decision, uncertain ones included): the
 * decision is at the first step whose confidence passes θ, else at T.
 */
export function scoreTrace(trace: ConfidenceTrace, theta: number, T: number, rule: StopRule = 'paper'): Omit<RobustnessRow, 'perturbation' | 'description'> {
  const n = trace.n;
  const conf = new Float64Array(n);
  const ok = new Uint8Array(n);
  let steps = 0;
  let confident = 0;
  let okConfident = 0;
  for (let i = 0; i < n; i++) {
    const o = i * trace.steps;
    let t = 0;
    while (t < T - 1 && !shouldStop(trace.confidence[o + t], theta, rule)) t++;
    conf[i] = trace.confidence[o + t];
    ok[i] = trace.predicted[o + t] === trace.labels[i] ? 1 : 0;
    steps += t + 1;
    if (shouldStop(conf[i], theta, rule)) {
      confident++;
      okConfident += ok[i];
    }
  }
  const right = ok.reduce((a, v) => a + v, 0);
  const accT = fullTAccuracy(trace);
  return {
    n,
    accT,
    accTCi: wilson(Math.round(accT * n), n),
    accDc: right / n,
    accDcCi: wilson(right, n),
    meanSteps: steps / n,
    savingPct: 100 * (1 - steps / n / T),
    confidentShare: confident / n,
    accConfident: confident > 0 ? okConfident / confident : NaN,
    ece: expectedCalibrationErrorOf(conf, ok),
    meanConfidence: conf.reduce((a, v) => a + v, 0) / Math.max(1, n),
  };
}

/** The confidence a decision of this model shows, per sample and step: the calibrated q_t, or the paper's c_t. */
function modelTrace(model: ClassifierModel, rec: SnnRecording): ConfidenceTrace {
  if (model.stopRule === 'calibrated' && model.calibration) return calibratedTrace(rec, model.calibration);
  return traceFromOutputs(rec.outputs, rec.labels, rec.T, rec.classes, model.alpha, model.tau);
}

/** Renders (or finds) the perturbed held-out set and bins its label windows for the model. */
async function perturbedFrames(name: string, model: ClassifierModel, o: RobustnessOptions): Promise<FrameDataset> {
  const dir = path.join(o.cacheDir, name);
  const firstUser = o.firstUser ?? 24;
  const subjects = o.subjects ?? 6;
  const stamp = JSON.stringify({ perturb: name, firstUser, subjects, seed: o.seed ?? 1, lightings: o.lightings ?? 3 });
  const stampFile = path.join(dir, 'robustness.json');
  if (!(fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp)) {
    fs.rmSync(dir, { recursive: true, force: true });
    generateSynthGestures({ out: dir, firstUser, subjects, seed: o.seed ?? 1, lightings: o.lightings ?? 3, lastTrainUser: 0, perturb: name });
    fs.writeFileSync(stampFile, stamp);
  }
  const ds = await openDataset(dir, { split: 'all' });
  return collectFrameDataset(ds, { binUs: model.binUs, eventsPerBin: model.eventsPerBin, T: model.maxSteps, downsample: model.downsample, encoding: model.encoding, rampSteps: model.encodingSteps });
}

/** The robustness rows of a model: each perturbation alone, on the held-out users. */
export async function evaluateRobustness(modelDir: string, o: RobustnessOptions): Promise<RobustnessResult> {
  const model = loadClassifierModel(modelDir);
  const names = o.perturbations ?? SYNTH_PERTURBATIONS.map((p) => p.name);
  const rows: RobustnessRow[] = [];
  for (const [k, name] of names.entries()) {
    const p = SYNTH_PERTURBATIONS.find((q) => q.name === name);
    if (!p) throw new RangeError(`unknown perturbation '${name}' (known: ${SYNTH_PERTURBATIONS.map((q) => q.name).join(', ')})`);
    o.onProgress?.(`render ${name}`, k, names.length);
    const frames = await perturbedFrames(name, model, o);
    o.onProgress?.(`snn ${name}`, k, names.length);
    const rec = await recordSnn(model.net, frames, { T: model.maxSteps });
    rows.push({ perturbation: name, description: p.description, ...scoreTrace(modelTrace(model, rec), model.theta, model.maxSteps, model.stopRule) });
  }
  o.onProgress?.('done', names.length, names.length);
  const first = o.firstUser ?? 24;
  return {
    model: modelDir,
    mode: model.mode,
    T: model.maxSteps,
    theta: model.theta,
    confidence:
      model.stopRule === 'calibrated' && model.calibration
        ? `the calibrated probability q_t = max softmax(O_t/s_t) (${model.calibration.form} step scales); stop at q_t ≥ θ`
        : `c_t = max softmax(O_t/(α·τ)), α = ${model.alpha}, τ = ${model.tau}; stop at c_t > θ`,
    users: `synthetic users ${first}–${first + (o.subjects ?? 6) - 1}, seed ${o.seed ?? 1}, ${o.lightings ?? 3} lightings, label windows`,
    rows,
  };
}
