/**
 * A service shard (worker thread): classifies the live streams the main thread hands it with the
 * one per-stream pipeline (`classifyStream`), all of them sharing this worker's runner through its
 * scheduler — exactly what the single-thread service does with all streams. Events arrive as messages into a
 * per-stream queue; each batch pulled by the engine is acknowledged (a credit back to the main
 * thread); decisions, traces and counters go back as messages.
 */
import { parentPort, workerData } from 'worker_threads';
import type { Subscription } from 'rxjs';
import { classifyStats } from '../../../streams/core/engine';
import { sourceFromIterator } from '../../../streams/core/event-source';
import { segmentStats } from '../../../streams/core/live-segmenter';
import { classifyStream, type StreamPipeline } from '../../../streams/operators/classify-stream';
import { BoundedEventQueue } from '../../../streams/core/bounded-queue';
import { SnnScheduler } from '../../snn/scheduler';
import { createRunner, resolveRunnerKind } from '../../snn/step-runner';
import { unpackBatches, type FromShard, type ShardSettings, type ShardStats, type ToShard } from './protocol';
import type { Frame } from '../../../streams/types';

const port = parentPort;
if (!port) throw new Error('shard-worker.ts runs as a worker thread');

/** The engine steps this frame's data after the preview saw it: a copy goes, transferred (one copy, not a clone's two). */
function postFrame(frame: Frame): void {
  const data = frame.data.slice();
  port!.postMessage({ type: 'frame', frame: { ...frame, data } } satisfies FromShard, [data.buffer]);
}

async function main(settings: ShardSettings): Promise<void> {
  const kind = await resolveRunnerKind(settings.runner, () => undefined);
  const steps: number[] = [];
  const scheduler = new SnnScheduler(createRunner(settings.model.net, settings.slots, kind), (size, ms) => steps.push(size, ms));
  const stats = classifyStats();
  const segments = segmentStats();
  const snapshot = (): ShardStats => {
    const s: ShardStats = {
      classify: structuredClone(stats),
      segments: { ...segments },
      scheduler: { batches: scheduler.stats.batches, sampleSteps: scheduler.stats.sampleSteps, maxBatch: scheduler.stats.maxBatch },
      activeSlots: scheduler.runner.activeCount,
      steps: steps.splice(0),
    };
    return s;
  };
  const post = (m: FromShard): void => port!.postMessage(m);
  const streams = new Map<number, { queue: BoundedEventQueue; sub: Subscription }>();
  // Credits go back once per event-loop turn, all streams' in one message.
  let acks: number[] = [];
  const ack = (id: number): void => {
    if (acks.length === 0) setImmediate(() => post({ type: 'ack', ids: acks.splice(0) }));
    acks.push(id);
  };
  const pipeline: StreamPipeline = {
    model: settings.model,
    scheduler,
    stats,
    segmentStats: segments,
    settings: settings.settings,
    onTrace: settings.traces ? (trace) => post({ type: 'trace', trace }) : undefined,
    onFrame: settings.frames ? postFrame : undefined,
  };
  // Step latencies and slot counts reach /metrics at least every 250 ms.
  const timer = setInterval(() => { if (steps.length) post({ type: 'stats', stats: snapshot() }); }, 250);
  timer.unref();

  port!.on('message', (m: ToShard) => {
    if (m.type === 'open') {
      // The credits bound what is in flight, so this queue never holds more than CREDITS batches.
      const queue = new BoundedEventQueue({ capacityEvents: 2 ** 30, overflow: 'error' });
      const source = sourceFromIterator(() => {
        const it = queue[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await it.next();
            if (!r.done) ack(m.id);
            return r;
          },
        };
      });
      const sub = classifyStream({ streamId: m.streamId, sensor: m.sensor, source, fit: m.fit }, pipeline).subscribe({
        next: (decision) => post({ type: 'decision', id: m.id, decision, stats: snapshot() }),
        error: (err: unknown) => {
          streams.delete(m.id);
          post({ type: 'error', id: m.id, message: err instanceof Error ? err.message : String(err), stats: snapshot() });
        },
        complete: () => {
          streams.delete(m.id);
          post({ type: 'done', id: m.id, stats: snapshot() });
        },
      });
      if (!sub.closed) streams.set(m.id, { queue, sub });
    } else if (m.type === 'events') {
      for (const { id, batch } of unpackBatches(m)) streams.get(id)?.queue.push(batch);
    } else if (m.type === 'end') {
      streams.get(m.id)?.queue.complete();
    } else {
      const s = streams.get(m.id);
      streams.delete(m.id);
      s?.sub.unsubscribe();
      post({ type: 'done', id: m.id, stats: snapshot() });
    }
  });
  post({ type: 'ready', runner: kind });
}

main(workerData as ShardSettings).catch((err: unknown) => {
  port.postMessage({ type: 'error', id: -1, message: err instanceof Error ? err.message : String(err) });
});
