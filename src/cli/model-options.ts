import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { formatTheta, loadClassifierModel, thetaOrigin, type ClassifierModel } from '../snn/model/classifier-model';
import { bundledModelDir, modelDirFor, packageRoot } from '../snn/model/bundled';
import type { Geometry } from '../events/geometry';
import { UsageError } from './errors';
import { requireFolder } from './files';
import { parseChoice, parseIntOption, parseNumberOption } from './options';
import { STOP_RULES, type StopRule } from '../confidence/decide';

export { packageRoot };

/** The bundled default model (DVS128 Gesture layout, 11 classes). */
export function defaultModelDir(): string {
  return bundledModelDir('gesture');
}

export interface ModelCliOptions {
  model?: string;
  theta?: number;
  alpha?: number;
  tau?: number;
  mode?: 'qcfs' | 'qffs';
  steps?: number;
  confidence?: StopRule;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <dir>', 'model directory (default: the bundled models/gesture)')
    .option('--theta <θ>', 'confidence threshold in [0, 1] (default: the one calibrated with the model)', parseNumberOption('--theta', { min: 0, max: 1 }))
    .option('--alpha <α>', 'output scale α of the confidence softmax(O_t/(α·τ)) (default: calibrated)', parseNumberOption('--alpha', { above: 0 }))
    .option('--tau <τ>', 'temperature τ (default: calibrated)', parseNumberOption('--tau', { above: 0 }))
    .option('--mode <mode>', "conversion: qcfs or qffs (default: the model's)", parseChoice('--mode', ['qcfs', 'qffs'] as const))
    .option('--steps <T>', "maximum steps per sample (default: the model's T)", parseIntOption('--steps', 1))
    .option(
      '--confidence <rule>',
      "calibrated: show the calibrated probability that the class is right and stop when it reaches θ (the model's default); paper: show and stop on the paper's c_t = max softmax(O_t/(α·τ)) > θ, with the paper rule's θ",
      parseChoice('--confidence', STOP_RULES),
    );
}

/** What a model directory says about its input, without loading its weights. */
export interface ModelInput {
  readonly dir: string;
  /** The sensor size the model takes: input frame size × downsample factor. */
  readonly target: Geometry;
  /** The T the model was binned (and calibrated) for. */
  readonly T: number | undefined;
}

/** Checks that `dir` holds a spikestream model and reads its input size from spikestream.json. */
export function readModelInput(dirOrName: string): ModelInput {
  const dir = modelDirFor(dirOrName); // a bundled model's name (e.g. saccade-mnist) names its folder
  requireFolder(dir, 'model folder');
  const file = path.join(dir, 'spikestream.json');
  if (!fs.existsSync(file)) throw new UsageError(`${dir} is not a spikestream model (no spikestream.json in it)`);
  let meta: { spec?: { input?: { width?: number; height?: number } }; binning?: { downsample?: number; T?: number }; conversion?: { T?: number } };
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof meta;
  } catch (err) {
    throw new UsageError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const input = meta.spec?.input;
  if (!input || !Number.isInteger(input.width) || !Number.isInteger(input.height)) throw new UsageError(`${file} has no spec.input width and height`);
  const down = meta.binning?.downsample ?? 1;
  return { dir, target: { width: input.width! * down, height: input.height! * down }, T: meta.binning?.T ?? meta.conversion?.T };
}

export function loadModelFromCli(o: ModelCliOptions, note: (line: string) => void = (l) => process.stderr.write(l + '\n')): ClassifierModel {
  const dir = o.model ?? defaultModelDir();
  const { T } = readModelInput(dir);
  let model: ClassifierModel;
  try {
    model = loadClassifierModel(dir, { theta: o.theta, alpha: o.alpha, tau: o.tau, mode: o.mode, maxSteps: o.steps, stopRule: o.confidence });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  // θ, α and τ hold for the T they were calibrated at; at an uncalibrated T none of them carries over.
  if (o.steps !== undefined && T !== undefined && o.steps !== T && model.thetaSource === 'none') {
    note(
      `note: --steps ${o.steps}: ${dir} has no calibration at T = ${o.steps} (it was calibrated for T = ${T}); ` +
        `α = ${model.alpha} (the ${model.mode.toUpperCase()} rule), τ = ${model.tau} and no θ: no early decisions unless you give --theta`,
    );
  }
  return model;
}

export function describeModel(m: ClassifierModel): string {
  const bin = m.binUs !== undefined ? `${m.binUs / 1000} ms bins` : `${m.eventsPerBin} events per bin`;
  return `model ${m.dir}: ${m.mode.toUpperCase()}, ${m.classes.length} classes, T = ${m.maxSteps}, ${bin}, downsample ${m.downsample}, ${thetaLabel(m)}, α = ${m.alpha}, τ = ${m.tau.toFixed(3)}`;
}

/**
 * θ with its stop rule and the rule that chose it, e.g. "θ = 0.879 (on the calibrated probability,
 * stop at q_t ≥ θ; chosen by the paper's no-loss rule on validation, ε = 0)".
 */
export function thetaLabel(m: Pick<ClassifierModel, 'theta' | 'stopRule' | 'thetaSource' | 'thetaChosenBy'>): string {
  const rule = m.stopRule === 'calibrated' ? 'on the calibrated probability, stop at q_t ≥ θ' : "on the paper's c_t, stop at c_t > θ";
  return `θ = ${formatTheta(m.theta)} (${rule}; ${thetaOrigin(m)})`;
}
