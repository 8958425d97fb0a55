/**
 * How the classifying side runs: `--threads <n>` (worker threads that classify; the default chosen by
 * measurement, `defaultThreads`) and `--runner auto|typed|tensor` (the SNN runner; auto: the tensor
 * runner when TF.js's native backend, tfjs-node-gpu or tfjs-node, starts) for replay, serve and start;
 * `worker` (NATS) takes `--runner`; serve and worker take `--on-decided` (what a live stream does
 * after an early decision).
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
  /** Undefined: the measured default (`cliThreads`). */
  threads?: number;
}

/** Cores this process may use. */
function cores(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/**
 * The default worker-thread count, chosen by measurement (docs/benchmarks.md, "Threads"): on 2
 * cores one thread (all on the main thread) sustains more live streams than worker threads do —
 * with workers the main thread's sockets and the forwarding take a core's share of their own, and
 * each stream costs ≈ 1.4 % of a core instead of ≈ 0.8 %. From 4 cores, one worker per core but
 * one (the main thread keeps the sockets). Never more threads than cores.
 */
export function defaultThreads(n = cores()): number {
  return n < 4 ? 1 : n - 1;
}

/** One line saying how many threads classify and why (serve, start and replay say it at start). */
export function describeThreads(threads: number, given: boolean, n = cores()): string {
  const how = threads === 1 ? '1 thread (all on the main thread)' : `${threads} worker threads (the main thread keeps the sockets)`;
  const why = given ? 'as given with --threads' : `the default on this ${n}-core machine${n < 4 ? ', where one thread measured faster than worker threads' : ''}; --threads to change it`;
  return `classifying on ${how}: ${why}`;
}

/** `--threads` as given, else the measured default. */
export function cliThreads(o: { threads?: number }): { threads: number; given: boolean } {
  return o.threads !== undefined ? { threads: o.threads, given: true } : { threads: defaultThreads(), given: false };
}

export function addThreadOptions(cmd: Command): Command {
  return addRunnerOption(cmd.option('--threads <n>', `worker threads that classify (1: all on the main thread; default ${defaultThreads()} here: 1 below 4 cores, else one per core but one)`, parseIntOption('--threads', 1, 256)));
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
