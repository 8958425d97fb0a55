/**
 * `replay --threads N`: the samples of a dataset folder or of a recording's label windows shared
 * out over N worker threads (replay-worker.ts), sample i to worker i mod N; each worker runs the
 * plain `replay` on its share with its own runner. The decisions are handed on in sample order
 * once all workers are done (so the order is the same for any N).
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { ClassifierModel } from '../../snn/model/classifier-model';
import type { Decision } from '../../../streams/types';
import type { ReplayResult, ReplayRunOptions, ReplayShard } from './types';

export interface ReplayWorkerData {
  readonly target: string;
  readonly model: ClassifierModel;
  readonly options: Omit<ReplayRunOptions, 'onDecision' | 'threads'>;
}

export type ReplayWorkerMessage =
  | { readonly type: 'decision'; readonly decision: Decision; readonly index: number }
  | { readonly type: 'done'; readonly result: Omit<ReplayResult, 'decisions'> }
  | { readonly type: 'error'; readonly message: string };

export async function replayOnThreads(target: string, model: ClassifierModel, o: ReplayRunOptions): Promise<ReplayResult> {
  const count = o.threads ?? 1;
  const { onDecision, threads: _threads, ...options } = o;
  const slots = Math.max(1, Math.ceil(o.slots / count));
  const got: { decision: Decision; index: number }[] = [];
  const results = await Promise.all(
    Array.from({ length: count }, (_, index) => {
      const data: ReplayWorkerData = { target, model, options: { ...options, slots, shard: { index, count } } };
      const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: data });
      return new Promise<Omit<ReplayResult, 'decisions'>>((resolve, reject) => {
        let result: Omit<ReplayResult, 'decisions'> | undefined;
        worker.on('message', (m: ReplayWorkerMessage) => {
          if (m.type === 'decision') got.push({ decision: m.decision, index: m.index });
          else if (m.type === 'done') result = m.result;
          else reject(new Error(m.message));
        });
        worker.on('error', reject);
        worker.on('exit', (code) => (result ? resolve(result) : reject(new Error(`replay worker ${index} exited (code ${code}) before it was done`))));
      });
    }),
  );
  got.sort((a, b) => a.index - b.index);
  const decisions = got.map((g) => g.decision);
  for (const g of got) onDecision?.(g.decision, g.index);
  return {
    decisions,
    source: `${results[0].source}, ${count} threads`,
    samples: results.reduce((a, r) => a + r.samples, 0),
    skippedFrames: results.reduce((a, r) => a + r.skippedFrames, 0),
  };
}
