/**
 * `spikestream calibrate` — fits Dynamic Confidence's τ, α, the calibrated confidence and θ on a
 * validation frames file and stores them in the model's spikestream.json (weights untouched; the file
 * is replaced atomically).
 *
 *   spikestream calibrate --model DIR --val VAL.ssf [--live-val LIVE_STYLE.ssf] [--confidence calibrated|paper]
 *                         [--mode qcfs|qffs|both] [--epsilon 0] [--search exact|paper|extended]
 *                         [--theta-rule paper|non-inferior] [--max-loss 0.01] [--qffs-steps 4]
 *                         [--alpha auto|fit|<number>] [--batch 32] [--slots 64] [--backend wasm] [--json]
 *
 * Per mode and operating point (QCFS at the model's T; QFFS at T = 2^bits−1, 4 and 6): τ, α, the step
 * scales of the calibrated confidence (windowed; with --live-val also live), and θ of each stop rule by
 * the chosen θ rule. See src/eval/calibrate.ts.
 */
import type { Command } from 'commander';
import type { ThetaSearch } from '../eval/calibrate';
import * as path from 'path';
import { parseAlpha, parseModes, parseThetaRule, parseThetaSearch, type CalibrationReport, type PhaseProgressFn } from '../eval/calibrate';
import { calibrateAndWrite } from '../eval/calibration-store';
import { initBackend } from '../snn/backend';
import type { LoadedFrames } from '../snn/frames-file';
import { loadModel } from '../snn/model/model-file';
import { UsageError } from './errors';
import { readFramesArgument } from './files';
import { parseInputEncoding, type InputEncoding } from '../snn/input-encoding';
import { readModelInput } from './model-options';
import { checkNumber, parseChoice } from './options';
import { STOP_RULES } from '../confidence/decide';
import { formatTable, printJson } from './output';
import { phaseProgress } from './progress';

interface CalibrateCliOptions {
  model: string; val: string; liveVal?: string; confidence: string; mode: string; epsilon: string; search: string; thetaRule: string; maxLoss: string; qffsSteps: string; alpha: string; batch: string; slots: string; backend?: string; json?: boolean;
}

/** Parses an option with the option's name in the error. */
export function usage<T>(name: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new UsageError(`${name}: ${(e as Error).message}`);
  }
}

export function positiveInt(name: string, v: string): number {
  return checkNumber(name, v.trim() === '' ? NaN : Number(v), { min: 1, integer: true }, v);
}

/** The Dynamic Confidence options `calibrate` and `evaluate` share (`evaluate` for calibrating with --val). */
export function parseConfidenceOptions(o: { mode: string; alpha: string; epsilon: string; search?: string }): {
  modes: ReturnType<typeof parseModes>;
  alpha: ReturnType<typeof parseAlpha>;
  epsilon: number;
  search: ThetaSearch;
} {
  const modes = usage('--mode', () => parseModes(o.mode));
  const alpha = usage('--alpha', () => parseAlpha(o.alpha));
  const epsilon = Number(o.epsilon);
  if (!(epsilon >= 0 && epsilon < 1)) throw new UsageError(`--epsilon must be in [0, 1) (got '${o.epsilon}')`);
  const search = usage('--search', () => parseThetaSearch(o.search));
  return { modes, alpha, epsilon, search };
}

/** --batch and --slots, checked. */
export function parseRunnerOptions(o: { batch: string; slots: string }): { batchSize: number; slots: number } {
  return { batchSize: positiveInt('--batch', o.batch), slots: positiveInt('--slots', o.slots) };
}

/** --batch, --slots, --backend and --json, the last options of `calibrate` and `evaluate`. */
export function runnerOptions(command: Command): Command {
  return command
    .option('--batch <n>', 'ANN batch size', '32')
    .option('--slots <n>', 'SNN runner slots (samples stepped together)', '64')
    .option('--backend <name>', 'tfjs backend for the ANN: tensorflow | wasm | cpu (default: best available)')
    .option('--json', 'print one JSON object instead of text and the progress bar');
}

/** The model directory, checked and resolved, with the model loaded from it. */
export function loadModelDir(dir: string): { dir: string } & ReturnType<typeof loadModel> {
  readModelInput(dir);
  const resolved = path.resolve(dir);
  return { dir: resolved, ...loadModel(resolved) };
}

/** A frames file (.ssf) checked to exist and to have the frame size and channel encoding the model takes. */
export function readFramesFor(file: string, model: { dir: string; spec: { input: { width: number; height: number } }; meta?: { binning?: { encoding?: InputEncoding } } }, option: string): LoadedFrames {
  const frames = readFramesArgument(file, option);
  const { width, height } = model.spec.input;
  if (frames.width !== width || frames.height !== height) {
    throw new UsageError(`${option} ${file}: frames are ${frames.width}×${frames.height}, but the model ${model.dir} takes ${width}×${height} (bin the dataset for this model with spikestream frames … --downsample, or use a model trained on such frames)`);
  }
  const framesEncoding = parseInputEncoding(frames.header.binning?.encoding, `${option} ${file}: binning.encoding`);
  const modelEncoding = parseInputEncoding(model.meta?.binning?.encoding, `${model.dir}: binning.encoding`);
  if (framesEncoding !== modelEncoding) {
    throw new UsageError(`${option} ${file}: frames are encoded '${framesEncoding}', but the model ${model.dir} takes '${modelEncoding}' (bin the dataset again with spikestream frames … --encoding ${modelEncoding})`);
  }
  return frames;
}

/** Runs `work` with the phase progress bars on stderr (none with --json), stopping them however it ends. */
export async function withPhaseProgress<T>(json: boolean | undefined, work: (onProgress: PhaseProgressFn) => Promise<T>): Promise<T> {
  const progress = phaseProgress(!json);
  try {
    return await work(progress.update);
  } finally {
    progress.stop();
  }
}

export function pct(x: number): string {
  return Number.isFinite(x) ? (x * 100).toFixed(2) : '-';
}

function summary(r: CalibrationReport): string {
  const t = r.temperature;
  const lines = [
    `calibrated ${r.model} on ${r.validation} (${r.n} samples, T = ${r.T}); ANN accuracy ${pct(r.annAccuracy)}%`,
    `τ = ${t.tau.toFixed(4)}${t.atBound ? ` (at ${t.atBound} bound)` : ''}: NLL ${t.nllBefore.toFixed(4)} → ${t.nllAfter.toFixed(4)}, ` +
      `ECE ${t.eceBefore.toFixed(4)} → ${t.eceAfter.toFixed(4)}`,
    '',
    formatTable(
      ['mode', 'T', 'stored', 'stop rule', 'θ', 'θ rule', 'acc T (%)', 'acc θ (%)', 'mean steps', 'saving (%)', 'deployed'],
      Object.values(r.operatingPoints).flat().flatMap((c) =>
        [c!.stopRules.calibrated, c!.stopRules.paper].filter((x) => x !== undefined).map((s) => [
          c!.mode, String(c!.T), r.modes[c!.mode] === c ? 'yes' : '', s!.stopRule === 'calibrated' ? 'q_t ≥ θ (calibrated)' : "c_t > θ (paper's)",
          s!.theta.toPrecision(6), ruleName(s!), pct(c!.accFullT), pct(s!.accuracy), s!.meanSteps.toFixed(2), (100 * (1 - s!.meanSteps / c!.T)).toFixed(1), s!.stopRule === c!.stopRule ? 'yes' : '',
        ]),
      ),
    ),
    '',
    ...Object.values(r.operatingPoints).flat().flatMap((c) => (c!.confidence ? [confidenceLine(c!.mode, c!.T, c!.confidence)] : [])),
  ];
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (r.written) lines.push(`wrote ${r.written}`);
  return lines.join('\n') + '\n';
}

/** "paper, ε = 0, 0.1 grid": the θ rule that chose a stop rule's θ. */
export function ruleName(s: { readonly rule: string; readonly grid: string; readonly tolerance: number }): string {
  const grid = s.grid === 'exact' ? 'every θ' : s.grid === 'paper' ? '0.1 grid' : 'extended grid';
  return s.rule === 'paper' ? `paper no-loss, ε = ${s.tolerance}, ${grid}` : `non-inferior, δ = ${s.tolerance}, ${grid}`;
}

function confidenceLine(mode: string, T: number, c: NonNullable<CalibrationReport['modes']['qcfs']>['confidence'] & object): string {
  const h = c.heldOut;
  const paper = h.paper ? `, paper's c_t ${h.paper.ece.toFixed(4)}` : '';
  return `${mode} T=${T}: calibrated confidence ${c.calibration.form} (held-out ECE per-step ${h['per-step'].ece.toFixed(4)}, power ${h.power.ece.toFixed(4)}${paper}; fitted on ${c.fittedOn})`;
}

export function register(program: Command): void {
  const command = program
    .command('calibrate')
    .description("fit Dynamic Confidence's τ, α and θ on a validation frames file and store them in the model's spikestream.json")
    .requiredOption('--model <dir>', 'model directory (spikestream train output)')
    .requiredOption('--val <file>', 'validation frames file (.ssf)')
    .option('--live-val <file>', 'live-style validation frames (spikestream frames --live-style, with step labels) added to the fit of the calibrated confidence')
    .option('--confidence <rule>', "deployed stop rule: 'calibrated' (fit the calibrated confidence, stop at q_t ≥ θ) or 'paper' (no fit; the paper's c_t > θ)", 'calibrated')
    .option('--mode <mode>', 'conversion mode(s) to calibrate: qcfs | qffs | both', 'both')
    .option('--epsilon <x>', 'accuracy loss allowed against the full-T SNN (fraction, e.g. 0.005)', '0')
    .option('--search <how>', "θ search of the paper rule: 'exact' (every distinct θ), 'paper' (the paper's 0.1 grid) or 'extended' (that grid plus 0.95, 0.99; 'grid' is its old name)", 'exact')
    .option('--theta-rule <rule>', "θ to deploy: 'paper' (lowest mean steps with no validation loss) or 'non-inferior' (lowest mean steps whose 95 % paired interval of the loss stays below --max-loss)", 'paper')
    .option('--max-loss <x>', 'non-inferiority margin δ of the non-inferior rule (fraction)', '0.01')
    .option('--qffs-steps <T>', 'T of the stored QFFS operating point (QFFS is calibrated at T = 2^bits−1, 4 and 6)', '4')
    .option('--alpha <a>', 'α: auto (alphaFor: T for QCFS, 2^b−1 for QFFS) | fit (least squares vs the ANN logits) | a number', 'auto');
  runnerOptions(command)
    .action(async (o: CalibrateCliOptions) => {
      const { modes, alpha, epsilon, search } = parseConfidenceOptions(o);
      const { batchSize, slots } = parseRunnerOptions(o);
      const thetaRule = usage('--theta-rule', () => parseThetaRule(o.thetaRule));
      const maxLoss = Number(o.maxLoss);
      if (!(maxLoss >= 0 && maxLoss < 1)) throw new UsageError(`--max-loss must be in [0, 1) (got '${o.maxLoss}')`);
      const qffsSteps = positiveInt('--qffs-steps', o.qffsSteps);
      const model = loadModelDir(o.model);
      const val = readFramesFor(o.val, model, '--val');
      const calibrateConfidence = usage('--confidence', () => parseChoice('--confidence', STOP_RULES)(o.confidence)) === 'calibrated';
      const liveStyle = o.liveVal !== undefined ? readFramesFor(o.liveVal, model, '--live-val') : undefined;
      if (liveStyle && !liveStyle.stepLabels) throw new UsageError(`--live-val ${o.liveVal}: no step labels (make it with spikestream frames --live-style)`);
      const backend = await initBackend(o.backend, o.json ? { log: () => undefined } : {});
      const report = await withPhaseProgress(o.json, (onProgress) =>
        calibrateAndWrite(model, val, {
          modes, epsilon, search, thetaRule, maxLoss, qffsSteps, alpha, batchSize, slots, validationName: val.header.dataset ?? path.basename(o.val), onProgress,
          calibrateConfidence, liveStyle, liveStyleName: liveStyle ? (liveStyle.header.dataset ?? path.basename(o.liveVal!)) : undefined,
        }),
      );
      if (o.json) printJson({ ...report, annBackend: backend });
      else process.stdout.write(summary(report));
    });
}
