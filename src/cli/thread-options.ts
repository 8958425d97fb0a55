/**
 * `--threads <n>` (worker threads that classify, one per core by default) and `--runner
 * auto|typed|tensor` (the SNN runner; auto: the tensor runner when TF.js's native backend,
 * tfjs-node-gpu or tfjs-node, starts) for replay, serve and start; `worker` (NATS) takes `--runner`.
 */
import type { Command } from 'commander';
import * as os from 'os';
import { resolveRunnerKind, RUNNER_CHOICES, type RunnerChoice, type RunnerKind } from '../snn/step-runner';
import { parseChoice, parseIntOption } from './options';
import { DEFAULT_ON_DECIDED, DEFAULT_RUNNER } from '../defaults';
import type { OnDecided } from '../../streams/core/live-segmenter';

const ON_DECIDED_CHOICES: readonly OnDecided[] = ['skip-to-window-end', 'next-sample'];

export interface RunnerCliOptions {
  runner: RunnerChoice;
}

export interface ThreadCliOptions extends RunnerCliOptions {
  threads: number;
}

/** One per core. */
export function defaultThreads(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

export function addThreadOptions(cmd: Command): Command {
  return addRunnerOption(cmd.option('--threads <n>', `worker threads that classify (1: all on the main thread; default one per core, here ${defaultThreads()})`, parseIntOption('--threads', 1, 256), defaultThreads()));
}

export function addRunnerOption(cmd: Command): Command {
  return cmd
    .option('--runner <runner>', 'SNN runner: typed (event-driven WebAssembly kernel), tensor (batched TF.js ops) or auto (tensor when tfjs-node-gpu / tfjs-node loads, else typed)', parseChoice('--runner', RUNNER_CHOICES), DEFAULT_RUNNER as RunnerChoice);
}

/** The runner `--runner` means on this machine (auto tries the native TF.js backend once, quietly when it is absent). */
export function cliRunnerKind(o: RunnerCliOptions): Promise<RunnerKind> {
  return resolveRunnerKind(o.runner, (line) => process.stderr.write(line + '\n'));
}

export interface OnDecidedCliOptions {
  onDecided: OnDecided;
}

/** `--on-decided skip-to-window-end|next-sample`: what a served live stream does after an early decision. */
export function addOnDecidedOption(cmd: Command): Command {
  return cmd.option(
    '--on-decided <mode>',
    'after an early decision: skip-to-window-end (skip the rest of the sample: early exit saves the work) or next-sample (cut the next sample at once, classifying the rest again)',
    parseChoice('--on-decided', ON_DECIDED_CHOICES),
    DEFAULT_ON_DECIDED as OnDecided,
  );
}
