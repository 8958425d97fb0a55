/**
 * Evaluation of a calibrated model with Dynamic Confidence on a test frames dataset, in the
 * paper's terms (Li, Jones, Furber, ICCV 2023, tables 1–3 and figures 2–3), for each conversion mode:
 *
 *  - Table 1: Acc(ANN) on the mean of the T frames; the SNN at T; the SNN with Dynamic Confidence at
 *    the θ chosen on validation (never on test) — accuracy, mean steps, latency saving; both oracles.
 *  - Table 2: measured wall-clock ms per inference at batch 1: each of a subset of test samples runs
 *    alone through a 1-slot runner, all T steps (without) and stopping at the first c_t > θ (with);
 *    median (the table) and mean (notes). Backend: the js typed-array runner.
 *  - Table 3: spikes per neuron per inference (spiking layers), all T steps vs. the steps used.
 *  - Decision latency in sensor time: steps × binUs / 1000 ms, mean and p95, without and with.
 *  - Per-step accuracy and mean confidence with α and without (α = 1: saturation); the curve of
 *    every θ with its Pareto front and the chosen θ; the histogram of termination steps.
 *
 * Files: REPORT_DIR/report.md (renderMarkdown per mode, figure links), report.json (the
 * EvaluationResult objects), and three SVGs per mode (renderPlots).
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  alphaFor,
  analyzeTrace,
  confidence,
  decisionLatencies,
  downsampleCurve,
  latencyStats,
  percentile,
  renderMarkdown,
  renderPlots,
  spikesPerNeuron,
  traceFromOutputs,
  type EvaluationResult,
} from '../confidence';
import { convertWeights, type ConversionMode, type SnnNetwork } from '../snn/convert';
import { frameOf, type FrameDataset } from '../snn/dataset';
import type { InputBinning, ModelMeta } from '../snn/model-file';
import { SnnRunner } from '../snn/runner';
import {
  calibrateModel,
  checkData,
  CONVERSION_MODES,
  snnMode,
  storedCalibration,
  type AlphaChoice,
  type CalibrationReport,
  type LoadedModel,
  type PhaseProgressFn,
} from './calibrate';
import { accuracyOf, annLogits, recordSnn } from './run-snn';

export const SNN_BACKEND = 'js typed-array runner';

export interface TimingStats {
  readonly median: number;
  readonly mean: number;
  readonly p95: number;
}

/** One mode's result: the EvaluationResult plus the measurement details renderMarkdown does not show. */
export interface ModeEvaluation extends EvaluationResult {
  readonly conversion: ConversionMode;
  /** Table 2 details: ms per inference, batch 1 (wallMsPerInference holds the medians). */
  readonly wallMs?: { readonly samples: number; readonly without: TimingStats; readonly with: TimingStats };
  /** Where α, τ, θ came from. */
  readonly calibrationSource: 'stored' | 'calibrated now';
  readonly binning?: InputBinning;
}

export interface EvaluateOptions {
  readonly modes?: readonly ConversionMode[];
  /** Validation data to calibrate with first when a mode has no stored θ. */
  readonly validation?: FrameDataset;
  readonly validationName?: string;
  /** Test data name for the report (default 'test'). */
  readonly dataName?: string;
  /** Binning of the test frames (its header); decides the sensor-time latency. */
  readonly binning?: InputBinning;
  /** Report directory; nothing is written without it. */
  readonly outDir?: string;
  /** Samples timed alone at batch 1 (default 100; 0 skips Table 2). */
  readonly timingSamples?: number;
  readonly slots?: number;
  readonly batchSize?: number;
  /** For calibration when needed. */
  readonly epsilon?: number;
  readonly alpha?: AlphaChoice;
  /** Name of the tfjs backend that computed Acc(ANN) (noted in the report). */
  readonly annBackend?: string;
  readonly onProgress?: PhaseProgressFn;
}

export interface EvaluateOutput {
  readonly results: ModeEvaluation[];
  /** The calibration run first (only when one was needed). */
  readonly calibration?: CalibrationReport;
  readonly files?: { readonly markdown: string; readonly json: string; readonly figures: string[] };
}

/** Evenly spread sample indices, k of n. */
export function spreadIndices(n: number, k: number): Int32Array {
  const m = Math.max(0, Math.min(n, Math.floor(k)));
  const out = new Int32Array(m);
  for (let j = 0; j < m; j++) out[j] = Math.floor((j * n) / m);
  return out;
}

function stats(ms: number[]): TimingStats {
  let s = 0;
  for (const v of ms) s += v;
  return { median: percentile(ms, 50), mean: ms.length ? s / ms.length : NaN, p95: percentile(ms, 95) };
}

/**
 * Table 2: each sample alone through a 1-slot runner, all T steps vs. stopping at the first step
 * with c_t > θ (confidence computed each step). The order of the two runs alternates per sample.
 * Returns the timings and the steps each sample used with Dynamic Confidence.
 */
export async function timeBatchOne(
  net: SnnNetwork,
  ds: FrameDataset,
  indices: ArrayLike<number>,
  T: number,
  alpha: number,
  tau: number,
  theta: number,
  onProgress?: (done: number, total: number) => void,
): Promise<{ without: number[]; with: number[]; stepsWith: Int32Array }> {
  const runner = new SnnRunner(net, 1);
  const runFull = (i: number): void => {
    const slot = runner.admit();
    for (let t = 0; t < T; t++) runner.step([{ slot, frame: frameOf(ds, i, t) }]);
    runner.read(slot);
    runner.release(slot);
  };
  const runDc = (i: number): number => {
    const slot = runner.admit();
    let t = 0;
    for (; t < T; t++) {
      runner.step([{ slot, frame: frameOf(ds, i, t) }]);
      const c = confidence(runner.read(slot).output, alpha, tau).confidence;
      // Float32 rounding as in the recorded trace, so the decision is the same.
      if (t < T - 1 && Math.fround(c) > theta) break;
    }
    runner.release(slot);
    return Math.min(t, T - 1) + 1;
  };
  const n = indices.length;
  // Warm-up (JIT) on a few samples.
  for (let j = 0; j < Math.min(3, n); j++) {
    runFull(indices[j]);
    runDc(indices[j]);
  }
  const without: number[] = [];
  const withDc: number[] = [];
  const stepsWith = new Int32Array(n);
  onProgress?.(0, n);
  for (let j = 0; j < n; j++) {
    const i = indices[j];
    const order = j % 2 === 0 ? [0, 1] : [1, 0];
    for (const which of order) {
      const t0 = process.hrtime.bigint();
      if (which === 0) runFull(i);
      else stepsWith[j] = runDc(i);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      (which === 0 ? without : withDc).push(ms);
    }
    if (j % 10 === 9 || j === n - 1) {
      onProgress?.(j + 1, n);
      await new Promise((r) => setImmediate(r));
    }
  }
  return { without, with: withDc, stepsWith };
}

/** binUs → ms per step, from the test data's binning, else the model's. */
function binMs(meta: ModelMeta, binning?: InputBinning): number | undefined {
  const us = binning?.binUs ?? (binning?.eventsPerBin === undefined ? meta.binning?.binUs : undefined);
  return us !== undefined && us > 0 ? us / 1000 : undefined;
}

/** Runs the evaluation (see the file comment). The tfjs backend must be initialised (for Acc(ANN)). */
export async function evaluateModel(model: LoadedModel, test: FrameDataset, opts: EvaluateOptions = {}): Promise<EvaluateOutput> {
  const modes = opts.modes ?? CONVERSION_MODES;
  const dataName = opts.dataName ?? 'test';
  const T = checkData(model, test, dataName);
  if (test.n < 1) throw new Error('evaluate: the test set is empty');

  // Calibrate first when a mode has no stored θ.
  let calibration: CalibrationReport | undefined;
  let meta = model.meta;
  const missing = modes.filter((m) => storedCalibration(meta, m).theta === undefined);
  if (missing.length > 0) {
    if (!opts.validation) {
      throw new Error(`model ${model.dir} has no calibrated θ for ${missing.join(', ')}: run \`spikestream calibrate\` or pass --val`);
    }
    calibration = await calibrateModel(model, opts.validation, {
      modes: missing,
      epsilon: opts.epsilon,
      alpha: opts.alpha,
      batchSize: opts.batchSize,
      slots: opts.slots,
      validationName: opts.validationName,
      onProgress: opts.onProgress,
    });
    meta = JSON.parse(fs.readFileSync(path.join(model.dir, 'spikestream.json'), 'utf8')) as ModelMeta;
  }

  const { spec, weights } = model;
  const C = spec.classes.length;
  const logits = await annLogits(spec, weights, test, {
    T,
    batchSize: opts.batchSize,
    onProgress: opts.onProgress ? (d, t) => opts.onProgress!('ann', d, t) : undefined,
  });
  const accAnn = accuracyOf(logits, test.labels, C);
  const cal = meta.calibration as Record<string, unknown>;
  const temp = cal.temperature as { nllBefore?: number; nllAfter?: number; eceBefore?: number; eceAfter?: number } | undefined;
  const calibSummary =
    temp && [temp.nllBefore, temp.nllAfter, temp.eceBefore, temp.eceAfter].every((v) => typeof v === 'number')
      ? { nllBefore: temp.nllBefore!, nllAfter: temp.nllAfter!, eceBefore: temp.eceBefore!, eceAfter: temp.eceAfter! }
      : undefined;
  const stepMs = binMs(meta, opts.binning);
  const binNote =
    opts.binning && meta.binning && (opts.binning.binUs !== meta.binning.binUs || opts.binning.eventsPerBin !== meta.binning.eventsPerBin)
      ? `WARNING: the test frames' binning (${JSON.stringify(opts.binning)}) differs from the model's (${JSON.stringify(meta.binning)})`
      : undefined;
  const modelName = path.basename(path.resolve(model.dir));
  const results: ModeEvaluation[] = [];

  for (const mode of modes) {
    const stored = storedCalibration(meta, mode);
    const alpha = stored.alpha ?? alphaFor(snnMode(mode), T, spec.bits);
    const tau = stored.tau ?? 1;
    const theta = stored.theta!;
    const notes: string[] = binNote ? [binNote] : [];
    if (stored.alpha === undefined) notes.push(`no stored α for ${mode}: used alphaFor = ${alpha}`);
    if (stored.tau === undefined) notes.push(`no stored τ for ${mode}: used τ = 1`);
    const net = convertWeights(spec, weights, mode);
    const rec = await recordSnn(net, test, {
      T,
      slots: opts.slots,
      onProgress: opts.onProgress ? (d, t) => opts.onProgress!(`snn ${mode}`, d, t) : undefined,
    });
    const trace = traceFromOutputs(rec.outputs, rec.labels, T, C, alpha, tau);
    const traceNoAlpha = traceFromOutputs(rec.outputs, rec.labels, T, C, 1, tau);
    const a = analyzeTrace(trace, { theta, traceNoAlpha });
    const dc = a.chosen;

    // Table 2.
    let wallMs: ModeEvaluation['wallMs'];
    const k = opts.timingSamples ?? 100;
    if (k > 0) {
      const idx = spreadIndices(test.n, k);
      const tm = await timeBatchOne(net, test, idx, T, alpha, tau, theta, opts.onProgress ? (d, t) => opts.onProgress!(`timing ${mode}`, d, t) : undefined);
      wallMs = { samples: idx.length, without: stats(tm.without), with: stats(tm.with) };
      let mismatched = 0;
      for (let j = 0; j < idx.length; j++) if (tm.stepsWith[j] !== a.stepsUsed[idx[j]]) mismatched++;
      if (mismatched > 0) notes.push(`WARNING: ${mismatched} of ${idx.length} timed samples stopped at a different step than the batched trace`);
      notes.push(
        `Table 2: ${idx.length} test samples, each run alone (batch 1, 1-slot ${SNN_BACKEND}, one Node thread); ` +
          `median shown; mean ${wallMs.without.mean.toFixed(3)} ms without, ${wallMs.with.mean.toFixed(3)} ms with; ` +
          `p95 ${wallMs.without.p95.toFixed(3)} / ${wallMs.with.p95.toFixed(3)} ms. With Dynamic Confidence, c_t is computed after every step.`,
      );
    }

    // Table 3 and sensor-time latency.
    const spn = {
      without: spikesPerNeuron(rec.spikes, T, rec.neurons),
      with: spikesPerNeuron(rec.spikes, T, rec.neurons, a.stepsUsed),
    };
    let decisionLatencyMs: EvaluationResult['decisionLatencyMs'];
    if (stepMs !== undefined) {
      const full = new Int32Array(test.n).fill(T);
      decisionLatencyMs = {
        without: latencyStats(decisionLatencies(full, T, stepMs)),
        with: latencyStats(decisionLatencies(a.stepsUsed, T, stepMs)),
      };
      notes.push(`Decision latency: steps used × ${stepMs} ms bins, from the sample's start to the end of its deciding frame.`);
    } else {
      notes.push('Decision latency in sensor time omitted: the frames are binned by event count (no fixed bin width).');
    }
    notes.push(`Acc(ANN): the quantized ANN on the mean of each sample's ${T} frames${opts.annBackend ? ` (tfjs backend ${opts.annBackend})` : ''}.`);
    notes.push(
      `θ = ${theta} was chosen on the validation split (${calibration?.modes[mode] ? `calibrated now on ${opts.validationName ?? 'validation'}` : 'stored calibration'}), ` +
        `never on this test split; α = ${alpha}, τ = ${tau}. The "no α" confidence curve uses α = 1.`,
    );

    results.push({
      model: modelName,
      dataset: dataName,
      mode: snnMode(mode),
      conversion: mode,
      backend: SNN_BACKEND,
      T,
      bits: spec.bits,
      alpha,
      tau,
      n: test.n,
      split: 'test',
      thetaChosenOn: 'validation',
      calibration: calibSummary,
      accAnn,
      accSnnT: a.accSnnT,
      dc: { accuracy: dc.accuracy, meanSteps: dc.meanSteps, theta, earlyFraction: dc.earlyFraction },
      latencySavingPct: a.latencySavingPct,
      oracles: a.oracles,
      wallMsPerInference: wallMs ? { without: wallMs.without.median, with: wallMs.with.median } : undefined,
      wallMs,
      spikesPerNeuron: spn,
      decisionLatencyMs,
      perStep: a.perStep,
      curve: { points: downsampleCurve(a.curve), pareto: a.pareto, grid: a.grid },
      chosen: dc,
      terminationHistogram: a.terminationHistogram,
      notes,
      calibrationSource: calibration?.modes[mode] ? 'calibrated now' : 'stored',
      binning: opts.binning ?? meta.binning,
    });
  }

  const files = opts.outDir ? writeReport(opts.outDir, results) : undefined;
  return { results, calibration, files };
}

function atomicWrite(file: string, data: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** JSON with non-finite numbers as null and typed arrays as plain arrays. */
export function toJson(x: unknown): string {
  return JSON.stringify(
    x,
    (_k, v) => {
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
      return v;
    },
    2,
  );
}

/** Writes report.md, report.json and the SVG figures; returns their paths. */
export function writeReport(outDir: string, results: readonly ModeEvaluation[]): { markdown: string; json: string; figures: string[] } {
  fs.mkdirSync(outDir, { recursive: true });
  const figures: string[] = [];
  const sections: string[] = [];
  const first = results[0];
  sections.push(`# spikestream evaluation — ${first ? `${first.model} on ${first.dataset ?? 'test'}` : 'no results'}`);
  sections.push('');
  if (results.length > 1) {
    sections.push('| Mode | Acc(ANN)(%) | Acc(SNN, T)(%) | Acc(DC)(%) | Mean steps | T | Latency saving(%) | θ |');
    sections.push('|---|---|---|---|---|---|---|---|');
    for (const r of results) {
      sections.push(
        `| ${r.mode} | ${(r.accAnn * 100).toFixed(2)} | ${(r.accSnnT * 100).toFixed(2)} | ${(r.dc.accuracy * 100).toFixed(2)} | ` +
          `${r.dc.meanSteps.toFixed(2)} | ${r.T} | ${r.latencySavingPct.toFixed(0)} | ${r.dc.theta.toPrecision(6)} |`,
      );
    }
    sections.push('');
  }
  for (const r of results) {
    const plots = renderPlots(r);
    const names: { accuracyConfidence?: string; pareto?: string; histogram?: string } = {};
    const put = (key: keyof typeof names, name: string, svg: string | undefined) => {
      if (!svg) return;
      atomicWrite(path.join(outDir, name), svg);
      figures.push(path.join(outDir, name));
      names[key] = name;
    };
    put('accuracyConfidence', `${r.conversion}-accuracy-confidence.svg`, plots.accuracyConfidence);
    put('pareto', `${r.conversion}-pareto.svg`, plots.pareto);
    put('histogram', `${r.conversion}-termination.svg`, plots.histogram);
    // One H1 per file: the per-mode reports become H2 sections.
    const md = renderMarkdown(r, { figures: names }).replace(/^# (.*)$/m, `# ${r.mode}: $1`);
    sections.push(md.replace(/^(#+) /gm, '#$1 '));
  }
  const markdown = path.join(outDir, 'report.md');
  const json = path.join(outDir, 'report.json');
  atomicWrite(markdown, sections.join('\n'));
  atomicWrite(json, toJson({ format: 'spikestream-evaluation', version: 1, results }) + '\n');
  return { markdown, json, figures };
}
