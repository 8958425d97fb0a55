/**
 * Evaluation of a calibrated model with Dynamic Confidence on a test frames dataset, in the paper's
 * terms (Li, Jones, Furber, ICCV 2023, tables 1–3 and figures 1–4), for every operating point of
 * every conversion mode (operating-points.ts: QCFS at the model's T; QFFS at each calibrated
 * T ∈ {L, 4, 6}), each with its own baseline, θ (chosen on validation, never on test) and saving
 * against its own T (evaluate-point.ts):
 *
 *  - Table 1 with Wilson 95 % intervals: Acc(ANN) on the mean of the same T frames; the SNN at T;
 *    the SNN with Dynamic Confidence — accuracy, mean steps, latency saving; both oracles.
 *  - The paired comparison of Dynamic Confidence with the SNN at T (bootstrap, McNemar): the "no
 *    loss" claim with its interval; both θ rules from validation and what they give on test.
 *  - Matched baselines per step (the ANN on the mean of frames 1..t, the ANN logit ensemble) and the
 *    conversion check on a constant input (baselines.ts).
 *  - Table 2 (ms per inference at batch 1), Table 3 (spikes per neuron), sensor-time latency.
 *  - Figures: Fig. 1 accuracy against mean steps, Fig. 2 accuracy and confidence against t with and
 *    without α, Fig. 3 the θ grid, Fig. 4 the termination histogram.
 *
 * Files: REPORT_DIR/report.md, report.json (the results) and four SVGs per operating point.
 */
import * as fs from 'fs';
import * as path from 'path';
import { renderMarkdown, renderPlots, type BootstrapOptions, type FigureFiles } from '../confidence';
import { rulePromise } from '../confidence/markdown-evidence';
import { num, numCi, pctCi, pointsCi, table, thetaStr } from '../confidence/markdown-format';
import { convertWeights, type ConversionMode } from '../snn/convert';
import type { FrameDataset } from '../snn/dataset';
import type { InputBinning, ModelMeta } from '../snn/model/model-file';
import { matchedAnnTraces } from './baselines';
import { calibrateAndWrite } from './calibration-store';
import { checkData, type CalibrateOptions, type CalibrationReport, type LoadedModel, type PhaseProgressFn } from './calibrate';
import { evaluatePoint, type ModeEvaluation } from './evaluate-point';
import { CONVERSION_MODES, storedAtSteps, storedOperatingPoint, storedSteps } from '../snn/model/operating-points';
import type { AlphaChoice } from './options';
import { recordSnn, truncateRecording } from './run-snn';
import { reliabilityFigure, shownConfidenceMarkdown } from './shown-confidence-md';

export { SNN_BACKEND, spreadIndices, timeBatchOne, type ModeEvaluation, type TimingStats } from './evaluate-point';

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
  readonly calibrate?: Pick<CalibrateOptions, 'search' | 'thetaRule' | 'maxLoss' | 'qffsSteps'>;
  /** Paired bootstrap settings (default 2000 resamples, seed 1). */
  readonly bootstrap?: BootstrapOptions;
  /** Name of the tfjs backend that computed the ANN's figures (noted in the report). */
  readonly annBackend?: string;
  readonly onProgress?: PhaseProgressFn;
}

export interface EvaluateOutput {
  readonly results: ModeEvaluation[];
  /** The calibration run first (only when one was needed). */
  readonly calibration?: CalibrationReport;
  readonly files?: { readonly markdown: string; readonly json: string; readonly figures: string[] };
}

/** binUs → ms per step, from the test data's binning, else the model's. */
function binMs(meta: ModelMeta, binning?: InputBinning): number | undefined {
  const us = binning?.binUs ?? (binning?.eventsPerBin === undefined ? meta.binning?.binUs : undefined);
  return us !== undefined && us > 0 ? us / 1000 : undefined;
}

/** Calibrates the modes without a stored θ (needs the validation set) and rereads the model file it rewrote. */
async function calibrateMissing(
  model: LoadedModel,
  modes: readonly ConversionMode[],
  opts: EvaluateOptions,
): Promise<{ calibration?: CalibrationReport; meta: ModelMeta }> {
  const missing = modes.filter((m) => storedOperatingPoint(model.meta, m).theta === undefined);
  if (missing.length === 0) return { meta: model.meta };
  if (!opts.validation) {
    throw new Error(`model ${model.dir} has no calibrated θ for ${missing.join(', ')}: run \`spikestream calibrate\` or pass --val`);
  }
  const calibration = await calibrateAndWrite(model, opts.validation, {
    ...opts.calibrate,
    modes: missing,
    epsilon: opts.epsilon,
    alpha: opts.alpha,
    batchSize: opts.batchSize,
    slots: opts.slots,
    bootstrap: opts.bootstrap,
    validationName: opts.validationName,
    onProgress: opts.onProgress,
  });
  const meta = JSON.parse(fs.readFileSync(path.join(model.dir, 'spikestream.json'), 'utf8')) as ModelMeta;
  return { calibration, meta };
}

type TemperatureSummary = NonNullable<ModeEvaluation['calibration']>;

/** NLL/ECE before and after temperature scaling as stored in the model file, or `fallback` when any is missing. */
function temperatureSummary(stored: unknown, fallback: TemperatureSummary | undefined): TemperatureSummary | undefined {
  const temp = stored as { nllBefore?: number; nllAfter?: number; eceBefore?: number; eceAfter?: number } | undefined;
  return temp && [temp.nllBefore, temp.nllAfter, temp.eceBefore, temp.eceAfter].every((v) => typeof v === 'number')
    ? { nllBefore: temp.nllBefore!, nllAfter: temp.nllAfter!, eceBefore: temp.eceBefore!, eceAfter: temp.eceAfter! }
    : fallback;
}

/** Runs the evaluation (see the file comment). The tfjs backend must be initialised (for the ANN). */
export async function evaluateModel(model: LoadedModel, test: FrameDataset, opts: EvaluateOptions = {}): Promise<EvaluateOutput> {
  const modes = opts.modes ?? CONVERSION_MODES;
  const dataName = opts.dataName ?? 'test';
  const T = checkData(model, test, dataName);
  if (test.n < 1) throw new Error('evaluate: the test set is empty');

  const { calibration, meta } = await calibrateMissing(model, modes, opts);

  const { spec, weights } = model;
  const stepsByMode = new Map<ConversionMode, number[]>();
  for (const mode of modes) {
    const ts = storedSteps(meta, mode).filter((t) => t <= test.T);
    if (ts.length === 0) throw new Error(`${dataName}: ${test.T} frames per sample, fewer than any calibrated T of ${mode}`);
    stepsByMode.set(mode, ts);
  }
  const Tmax = Math.max(T, ...[...stepsByMode.values()].flat());
  const matched = await matchedAnnTraces(spec, weights, test, Tmax, { batchSize: opts.batchSize, onProgress: opts.onProgress });

  const calibSummary = temperatureSummary((meta.calibration as Record<string, unknown>).temperature, undefined);
  const binNote =
    opts.binning && meta.binning && (opts.binning.binUs !== meta.binning.binUs || opts.binning.eventsPerBin !== meta.binning.eventsPerBin)
      ? `WARNING: the test frames' binning (${JSON.stringify(opts.binning)}) differs from the model's (${JSON.stringify(meta.binning)})`
      : undefined;
  const annNote = `The ANN's figures come from tfjs${opts.annBackend ? ` (backend ${opts.annBackend})` : ''}.`;
  const results: ModeEvaluation[] = [];

  for (const mode of modes) {
    const steps = stepsByMode.get(mode)!;
    const net = convertWeights(spec, weights, mode);
    const full = await recordSnn(net, test, {
      T: steps[steps.length - 1],
      slots: opts.slots,
      onProgress: opts.onProgress ? (d, t) => opts.onProgress!(`snn ${mode}`, d, t) : undefined,
    });
    const deployedT = storedOperatingPoint(meta, mode).T;
    for (const t of steps) {
      const stored = storedAtSteps(meta, mode, t)!;
      const calAt = temperatureSummary(stored.entry.temperature, calibSummary);
      results.push(
        await evaluatePoint({
          modelName: path.basename(path.resolve(model.dir)),
          dataName,
          spec,
          weights,
          net,
          test,
          rec: truncateRecording(full, t),
          stored,
          deployed: t === deployedT,
          matched,
          stepMs: binMs(meta, opts.binning),
          timingSamples: opts.timingSamples ?? 100,
          slots: opts.slots,
          bootstrap: opts.bootstrap ?? {},
          calibration: calAt,
          calibrationSource: calibration?.modes[mode] ? 'calibrated now' : 'stored',
          notes: [...(binNote ? [binNote] : []), annNote],
          onProgress: opts.onProgress,
        }),
      );
    }
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

/**
 * The results of a report.json written by `writeReport`, with the infinities JSON cannot hold put
 * back (a θ interval's open ends are written as null), so that a report can be re-rendered.
 */
export function readReportJson(file: string): ModeEvaluation[] {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'), (k, v) => (v === null && k === 'thetaMin' ? -Infinity : v === null && k === 'thetaMax' ? Infinity : v)) as {
    format?: string;
    results?: ModeEvaluation[];
  };
  if (doc.format !== 'spikestream-evaluation' || !Array.isArray(doc.results)) throw new Error(`${file}: not a spikestream evaluation report`);
  return doc.results;
}

/** The file names of an operating point's figures. */
export function figureNames(r: Pick<ModeEvaluation, 'conversion' | 'T'>): Required<FigureFiles> {
  const base = `${r.conversion}-T${r.T}`;
  return {
    accuracySteps: `${base}-fig1-accuracy-steps.svg`,
    accuracyConfidence: `${base}-fig2-accuracy-confidence.svg`,
    thetaGrid: `${base}-fig3-theta-grid.svg`,
    histogram: `${base}-fig4-termination.svg`,
  };
}

/** The summary table over every operating point: each with its own T, baseline and saving. */
function summaryTable(results: readonly ModeEvaluation[]): string[] {
  const rows = results.map((r) => {
    const u = r.uncertainty;
    return [
      r.mode, String(r.T), r.deployed ? 'yes' : '', r.alpha.toPrecision(4), `${thetaStr(r.dc.theta)} (${r.stopRule === 'calibrated' ? 'q_t ≥ θ' : 'c_t > θ'})`, pctCi(r.accAnn, u?.accAnn), pctCi(r.accSnnT, u?.accSnnT),
      pctCi(r.dc.accuracy, u?.dc), u ? pointsCi(u.dcVsFullT.accuracyDiff) : '—', u ? numCi(u.dcVsFullT.meanSteps) : num(r.dc.meanSteps),
      num(r.latencySavingPct, 1),
    ];
  });
  return [
    "Every operating point has its own T, baseline and θ (chosen on validation by the paper's no-loss rule, on the deployed stop rule's confidence: the calibrated q_t ≥ θ or the paper's c_t > θ); savings are against its own T. Accuracies with Wilson 95 % intervals; DC − T and mean steps with paired bootstrap 95 % intervals.",
    '',
    table(['Mode', 'T', 'stored', 'α', 'θ', 'Acc(ANN, same T frames)(%)', 'Acc(SNN, T)(%)', 'Acc(DC)(%)', 'DC − T (points)', 'Mean steps', 'Saving(%)'], rows),
    '',
  ];
}

/** Every operating point's θ rules in one table: which rule kept its validation promise on test. */
function rulesTable(results: readonly ModeEvaluation[]): string[] {
  const rows: string[][] = [];
  const tally = new Map<string, { kept: number; confirmed: number; all: number }>();
  for (const r of results) {
    for (const o of r.thetaRules ?? []) {
      const p = rulePromise(o);
      const name = `${o.rule}, ${o.grid === 'exact' ? 'every θ' : o.grid === 'paper' ? "paper's grid" : 'extended grid'}`;
      const t = tally.get(name) ?? { kept: 0, confirmed: 0, all: 0 };
      tally.set(name, { kept: t.kept + (p.kept ? 1 : 0), confirmed: t.confirmed + (p.confirmed ? 1 : 0), all: t.all + 1 });
      rows.push([
        r.mode, String(r.T), `${name}${o.deployed ? ' (deployed)' : ''}`, thetaStr(o.theta), pointsCi(o.validation.accuracyDiff),
        pointsCi(o.test.accuracyDiff), num(o.test.meanSteps), p.promise, p.kept ? 'yes' : 'no', p.confirmed ? 'yes' : 'no',
      ]);
    }
  }
  if (rows.length === 0) return [];
  const split = results[0]?.split ?? 'test';
  return [
    `θ rules, chosen on validation and checked on ${split} (DC − T in points with 95 % paired intervals; kept: the promise holds for the ${split} point estimate; confirmed: for the lower end of its interval).`,
    '',
    table(['Mode', 'T', 'Rule', 'θ', 'val DC − T', `${split} DC − T`, `${split} mean steps`, 'promise', 'kept', 'confirmed'], rows),
    '',
    `Transfer over the operating points: ${[...tally].map(([name, t]) => `${name} kept ${t.kept}/${t.all}, confirmed ${t.confirmed}/${t.all}`).join('; ')}.`,
    '',
  ];
}

/** Writes report.md, report.json and the SVG figures; returns their paths. */
export function writeReport(outDir: string, results: readonly ModeEvaluation[]): { markdown: string; json: string; figures: string[] } {
  fs.mkdirSync(outDir, { recursive: true });
  const figures: string[] = [];
  const first = results[0];
  const sections: string[] = [`# spikestream evaluation — ${first ? `${first.model} on ${first.dataset ?? 'test'}` : 'no results'}`, ''];
  sections.push(...summaryTable(results), ...rulesTable(results));
  for (const r of results) {
    const plots = renderPlots(r);
    const all = figureNames(r);
    const names: FigureFiles = {};
    for (const key of Object.keys(all) as (keyof FigureFiles)[]) {
      const svg = plots[key];
      if (!svg) continue;
      atomicWrite(path.join(outDir, all[key]), svg);
      figures.push(path.join(outDir, all[key]));
      (names as Record<string, string>)[key] = all[key];
    }
    // One H1 per file: each operating point's report becomes an H2 section.
    const md = renderMarkdown(r, { figures: names }).replace(/^# (.*)$/m, `# ${r.mode}, T = ${r.T}: $1`);
    sections.push(md.replace(/^(#+) /gm, '#$1 '));
    if (r.shownConfidence) {
      const file = `${r.conversion}-T${r.T}-fig5-reliability.svg`;
      atomicWrite(path.join(outDir, file), reliabilityFigure(r.shownConfidence, `Fig. 5 — reliability of the decisions' confidence (${r.mode}, T = ${r.T}, ${r.split})`));
      figures.push(path.join(outDir, file));
      sections.push(...shownConfidenceMarkdown(r.shownConfidence, r.split ?? 'test', file));
    }
  }
  const markdown = path.join(outDir, 'report.md');
  const json = path.join(outDir, 'report.json');
  atomicWrite(markdown, sections.join('\n'));
  atomicWrite(json, toJson({ format: 'spikestream-evaluation', version: 2, results }) + '\n');
  return { markdown, json, figures };
}
