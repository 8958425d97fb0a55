/** One `replay --threads` worker: the plain replay of its share of the samples (see threads.ts). */
import { parentPort, workerData } from 'worker_threads';
import { replay } from './replay';
import type { ReplayWorkerData, ReplayWorkerMessage } from './threads';

const port = parentPort;
if (!port) throw new Error('replay-worker.ts runs as a worker thread');
const post = (m: ReplayWorkerMessage): void => port.postMessage(m);
const { target, model, options } = workerData as ReplayWorkerData;

replay(target, model, { ...options, onDecision: (decision, index) => post({ type: 'decision', decision, index: index ?? -1 }) })
  .then(({ decisions: _d, ...result }) => post({ type: 'done', result }))
  .catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
