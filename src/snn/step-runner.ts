/**
 * What the scheduler needs from an SNN runner, and the choice between the two runners:
 *  - `typed`: SnnRunner, the event-driven WebAssembly kernel (exact double arithmetic; the default);
 *  - `tensor`: TensorRunner, the step as batched TF.js ops (Float32; for tfjs-node / tfjs-node-gpu);
 *  - `auto`: `tensor` when TF.js runs on its native `tensorflow` backend, else `typed`.
 * TF.js is loaded only when a `tensor` runner is asked for (or `auto` resolves), so that importing
 * spikestream and running the typed runner never loads it.
 */
import type * as Tf from '@tensorflow/tfjs';
import type { SnnNetwork } from './convert';
import { frameOf, type FrameDataset } from './dataset';
import { SnnRunner } from './runner';
import type { SlotReadout, StepInputs } from './slots';
import { DEFAULT_RUNNER } from '../defaults';

/** TF.js when something has already loaded it, else undefined (loading it here would defeat the point). */
function loadedTf(): typeof Tf | undefined {
  return require.cache[require.resolve('@tensorflow/tfjs')]?.exports as typeof Tf | undefined;
}

function nativeBackendRunning(): boolean {
  return loadedTf()?.engine().backendName === 'tensorflow';
}

export interface StepRunner {
  readonly kind: RunnerKind;
  readonly capacity: number;
  readonly frameSize: number;
  /** Neurons per spiking layer, and their sum. */
  readonly neurons: readonly number[];
  readonly totalNeurons: number;
  readonly activeCount: number;
  isActive(slot: number): boolean;
  admit(): number;
  release(slot: number): void;
  step(inputs: StepInputs): void;
  read(slot: number): SlotReadout;
}

export type RunnerKind = 'typed' | 'tensor';
export const RUNNER_CHOICES = ['auto', 'typed', 'tensor'] as const;
export type RunnerChoice = (typeof RUNNER_CHOICES)[number];

/**
 * The runner a choice means here. `auto` tries to start TF.js's native `tensorflow` backend
 * (tfjs-node-gpu, else tfjs-node) and means `tensor` when it starts, `typed` otherwise; `tensor`
 * starts the best TF.js backend there is (tensorflow, wasm, cpu) unless one is already running.
 */
export async function resolveRunnerKind(choice: RunnerChoice, log?: (line: string) => void): Promise<RunnerKind> {
  if (choice === 'typed') return 'typed';
  const { initBackend } = await import('./backend');
  if (choice === 'auto') {
    if (!nativeBackendRunning()) {
      try {
        await initBackend('tensorflow', { log });
      } catch {
        return 'typed';
      }
    }
    return 'tensor';
  }
  if (!loadedTf()?.engine().backendName) await initBackend(undefined, { log });
  return 'tensor';
}

/** A runner of the given kind (`auto`: `tensor` when TF.js already runs on its native backend). */
export function createRunner(net: SnnNetwork, slots: number, kind: RunnerKind | 'auto' = DEFAULT_RUNNER): StepRunner {
  const k = kind === 'auto' ? (nativeBackendRunning() ? 'tensor' : 'typed') : kind;
  if (k === 'typed') return new SnnRunner(net, slots);
  const { TensorRunner } = require('./tensor-runner') as typeof import('./tensor-runner');
  return new TensorRunner(net, slots);
}

export interface RunnerComparison {
  /** Largest |O_b − O_a| over every class, step and sample, relative to that sample-step's max |O_a|. */
  readonly worst: number;
  /** Sample-steps whose predicted class (argmax O_t) or step count differ. */
  readonly predictionsDiffer: number;
}

/** Steps every sample of `ds` through both runners side by side (all samples in one call per step; each runner needs ds.n free slots). */
export function compareRunners(a: StepRunner, b: StepRunner, ds: FrameDataset): RunnerComparison {
  const sa = Array.from({ length: ds.n }, () => a.admit()), sb = Array.from({ length: ds.n }, () => b.admit());
  const argmax = (o: Float32Array) => o.indexOf(Math.max(...o));
  let worst = 0, predictionsDiffer = 0;
  for (let t = 0; t < ds.T; t++) {
    a.step(sa.map((slot, i) => ({ slot, frame: frameOf(ds, i, t) })));
    b.step(sb.map((slot, i) => ({ slot, frame: frameOf(ds, i, t) })));
    for (let i = 0; i < ds.n; i++) {
      const ra = a.read(sa[i]), rb = b.read(sb[i]);
      const scale = Math.max(1e-6, ...Array.from(ra.output, Math.abs));
      for (let q = 0; q < ra.output.length; q++) worst = Math.max(worst, Math.abs(ra.output[q] - rb.output[q]) / scale);
      if (argmax(ra.output) !== argmax(rb.output) || ra.step !== rb.step) predictionsDiffer++;
    }
  }
  sa.forEach((s) => a.release(s));
  sb.forEach((s) => b.release(s));
  return { worst, predictionsDiffer };
}
