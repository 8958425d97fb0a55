import { Subject, type Observable, type Subscription } from 'rxjs';
import { SnnRunner } from '../snn/runner';
import type { ClassifierModel } from '../../streams/classifier-model';
import { classifyStats, type ClassifiedDecision, type ClassifyStats } from '../../streams/operators/classify';
import { SnnScheduler } from '../../streams/operators/snn-scheduler';
import { classifyLiveStream, type LiveSegmentation } from '../../streams/live';
import type { OnDecided } from '../../streams/operators/sample-feed';
import { createServer, type ServerOptions, type SpikeServer, type ListenInfo } from './server';

export interface ServiceOptions extends ServerOptions {
  readonly model: ClassifierModel;
  /** SNN slots shared by all live streams (default 32). */
  readonly slots?: number;
  readonly segmentation?: LiveSegmentation;
  readonly onDecided?: OnDecided;
  /** End a sample when its sensor has sent nothing for this many ms (see `LiveStreamOptions.idleFlushMs`). */
  readonly idleFlushMs?: number;
  /** Publish per-step traces to `?trace=1` subscribers (off by default: one message per step). */
  readonly traces?: boolean;
  /** Where pipeline errors of one stream are reported (the stream ends; others go on). */
  readonly onStreamError?: (streamId: string, err: unknown) => void;
}

export interface Service {
  readonly server: SpikeServer;
  readonly address: ListenInfo;
  /** Every decision, as it is published. */
  readonly decisions: Observable<ClassifiedDecision>;
  readonly stats: ClassifyStats;
  readonly scheduler: SnnScheduler;
  /** Graceful stop: no new ingest, streams finish their queued events, pending decisions go out, sockets close. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The live service: HTTP + WebSocket server, one classification pipeline per sensor stream,
 * all streams sharing one batched SNN runner, decisions published to subscribers.
 */
export async function startService(o: ServiceOptions): Promise<Service> {
  const server = createServer(o);
  const metrics = server.metrics;
  const scheduler = new SnnScheduler(new SnnRunner(o.model.net, o.slots ?? 32), (_size, ms) => {
    metrics.stepLatency.observe(ms / 1000);
    metrics.activeSlots.set(scheduler.runner.activeCount);
  });
  const stats = classifyStats();
  const decisions = new Subject<ClassifiedDecision>();
  const running = new Map<string, { sub: Subscription; done: Promise<void> }>();
  const ingestSub = server.ingest$.subscribe((stream) => {
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const sub = classifyLiveStream(stream.streamId, stream.geometry, stream.events, {
      model: o.model,
      scheduler,
      stats,
      onDecided: o.onDecided,
      segmentation: o.segmentation,
      idleFlushMs: o.idleFlushMs,
      onStep: o.traces
        ? (r) => server.publishTrace({ streamId: r.streamId, sampleId: r.sampleId, step: r.step, confidence: r.confidence, predicted: r.predicted, eventTimeUs: r.frame.tEnd })
        : undefined,
    }).subscribe({
      next: (d) => {
        metrics.activeSlots.set(scheduler.runner.activeCount);
        server.publish(d);
        decisions.next(d);
      },
      error: (err: unknown) => {
        o.onStreamError?.(stream.streamId, err);
        stream.close(1011, 'pipeline error');
        running.delete(stream.streamId);
        finish();
      },
      complete: () => {
        metrics.activeSlots.set(scheduler.runner.activeCount);
        running.delete(stream.streamId);
        finish();
      },
    });
    running.set(stream.streamId, { sub, done });
  });
  const address = await server.listen();
  return {
    server,
    address,
    decisions,
    stats,
    scheduler,
    async stop(drainMs = 2000) {
      const pipelinesDone = Promise.all([...running.values()].map((r) => r.done));
      await server.close({ drainMs, waitFor: pipelinesDone });
      for (const r of running.values()) r.sub.unsubscribe();
      ingestSub.unsubscribe();
      decisions.complete();
    },
  };
}
