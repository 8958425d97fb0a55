import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { loadClassifierModel, type ClassifierModel } from '../../streams/classifier-model';
import { parseNumberOption, UsageError } from './output';

/** The bundled default model (DVS128 Gesture layout, 11 classes). */
export function defaultModelDir(): string {
  return path.join(packageRoot(), 'models', 'gesture');
}

/** The folder holding the bundled models and recordings: the nearest one above the compiled code. */
export function packageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'models', 'gesture', 'spikestream.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, '..', '..', '..');
  }
}

export interface ModelCliOptions {
  model?: string;
  theta?: number;
  alpha?: number;
  tau?: number;
  mode?: string;
  steps?: number;
}

export function addModelOptions(cmd: Command): Command {
  return cmd
    .option('--model <dir>', 'model directory (default: the bundled models/gesture)')
    .option('--theta <θ>', 'confidence threshold (default: the one calibrated with the model)', parseNumberOption('--theta'))
    .option('--alpha <α>', 'output scale α of the confidence softmax(O_t/(α·τ)) (default: calibrated)', parseNumberOption('--alpha'))
    .option('--tau <τ>', 'temperature τ (default: calibrated)', parseNumberOption('--tau'))
    .option('--mode <mode>', 'conversion: qcfs or qffs (default: the model\'s)')
    .option('--steps <T>', 'maximum steps per sample (default: the model\'s T)', parseNumberOption('--steps', 1));
}

export function loadModelFromCli(o: ModelCliOptions): ClassifierModel {
  const dir = o.model ?? defaultModelDir();
  if (!fs.existsSync(path.join(dir, 'spikestream.json'))) throw new UsageError(`no model at ${dir} (spikestream.json missing)`);
  if (o.mode !== undefined && o.mode !== 'qcfs' && o.mode !== 'qffs') throw new UsageError(`--mode must be qcfs or qffs, got '${o.mode}'`);
  if (o.theta !== undefined && !(o.theta >= 0 && o.theta <= 1)) throw new UsageError(`--theta must be in [0, 1], got ${o.theta}`);
  for (const [name, v] of [['--alpha', o.alpha], ['--tau', o.tau]] as const) {
    if (v !== undefined && !(v > 0)) throw new UsageError(`${name} must be > 0, got ${v}`);
  }
  return loadClassifierModel(dir, { theta: o.theta, alpha: o.alpha, tau: o.tau, mode: o.mode as 'qcfs' | 'qffs' | undefined, maxSteps: o.steps });
}

export function describeModel(m: ClassifierModel): string {
  const bin = m.binUs !== undefined ? `${m.binUs / 1000} ms bins` : `${m.eventsPerBin} events per bin`;
  return `model ${m.dir}: ${m.mode.toUpperCase()}, ${m.classes.length} classes, T = ${m.maxSteps}, ${bin}, downsample ${m.downsample}, θ = ${m.theta} (${m.thetaSource}), α = ${m.alpha}, τ = ${m.tau.toFixed(3)}`;
}
