/**
 * The robustness report (`evaluate --robustness`): the held-out synthetic users rendered again
 * with one perturbation at a time (src/datasets/synth-gestures/perturb.ts), every label window
 * classified by the model's SNN, and per perturbation: accuracy at full T, accuracy with Dynamic
 * Confidence at the model's θ, mean steps, the share of decisions that reached θ, and the
 * calibration of the confidence shown with the decisions (ECE, 15 bins).
 *
 * The perturbed recordings are written once into `cacheDir/<perturbation>/` (a DVS128-Gesture
 * folder: any other command can read them) and reused by later runs with the same options.
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateSynthGestures, SYNTH_PERTURBATIONS } from '../datasets/synth-gestures';
import { decide } from '../confidence/decide';
import { fullTAccuracy, traceFromOutputs, type ConfidenceTrace } from '../confidence/trace';
import { wilson, type Interval } from '../confidence/stats';
import type { FrameDataset } from '../snn/dataset';
import { openDataset } from '../../streams/sources/open-dataset';
import { collectFrameDataset } from '../../streams/sinks/to-frame-dataset';
import { loadClassifierModel, type ClassifierModel } from '../snn/model/classifier-model';
import { recordSnn } from './run-snn';

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

/** ECE with equal-width bins over (confidence, correct) pairs. */
export function decisionEce(confidence: ArrayLike<number>, correct: ArrayLike<number>, bins = 15): number {
  const count = new Float64Array(bins);
  const sumConf = new Float64Array(bins);
  const sumOk = new Float64Array(bins);
  for (let i = 0; i < confidence.length; i++) {
    const c = Math.min(1, Math.max(0, confidence[i]));
    const b = Math.min(bins - 1, Math.floor(c * bins));
    count[b]++;
    sumConf[b] += c;
    sumOk[b] += correct[i];
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) e += Math.abs(sumOk[b] - sumConf[b]);
  return confidence.length > 0 ? e / confidence.length : NaN;
}

/** Scores one trace at θ (every sample a decision, uncertain ones included). */
export function scoreTrace(trace: ConfidenceTrace, theta: number, T: number): Omit<RobustnessRow, 'perturbation' | 'description'> {
  const n = trace.n;
  const conf = new Float64Array(n);
  const ok = new Uint8Array(n);
  let steps = 0;
  let confident = 0;
  let okConfident = 0;
  for (let i = 0; i < n; i++) {
    const d = decide(trace.confidence, trace.predicted, theta, T, i * trace.steps);
    conf[i] = d.confidence;
    ok[i] = d.predicted === trace.labels[i] ? 1 : 0;
    steps += d.steps;
    if (d.confidence > theta) {
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
    ece: decisionEce(conf, ok),
    meanConfidence: conf.reduce((a, v) => a + v, 0) / Math.max(1, n),
  };
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
  return collectFrameDataset(ds, { binUs: model.binUs, eventsPerBin: model.eventsPerBin, T: model.maxSteps, downsample: model.downsample });
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
    const trace = traceFromOutputs(rec.outputs, rec.labels, model.maxSteps, rec.classes, model.alpha, model.tau);
    rows.push({ perturbation: name, description: p.description, ...scoreTrace(trace, model.theta, model.maxSteps) });
  }
  o.onProgress?.('done', names.length, names.length);
  const first = o.firstUser ?? 24;
  return {
    model: modelDir,
    mode: model.mode,
    T: model.maxSteps,
    theta: model.theta,
    confidence: `c_t = max softmax(O_t/(α·τ)), α = ${model.alpha}, τ = ${model.tau}; stop at c_t > θ`,
    users: `synthetic users ${first}–${first + (o.subjects ?? 6) - 1}, seed ${o.seed ?? 1}, ${o.lightings ?? 3} lightings, label windows`,
    rows,
  };
}
