import { catchError, EMPTY, finalize, mergeMap, share, Subject, tap, type Observable, type Subscription } from 'rxjs';
import { SnnRunner } from '../snn/runner';
import { SnnScheduler } from '../snn/scheduler';
import type { ClassifierModel } from '../../streams/core/classifier-model';
import { classifyStats, geometryMismatch, type ClassifyStats } from '../../streams/core/engine';
import { segmentStats, type LiveSegmentation, type OnDecided, type SegmentStats } from '../../streams/core/live-segmenter';
import { classifyLive } from '../../streams/operators/classify-live';
import { FitError, fitFromParams, fitSource, makeFit, modelSensorGeometry, type Fit, type FitMode } from '../../streams/operators/fit';
import type { Roi } from '../../streams/operators/roi';
import type { Decision } from '../../streams/types';
import type { Geometry } from '../events/geometry';
import { createServer, type IngestStream, type ListenInfo, type ServerOptions, type SpikeServer } from './server';

export interface ServiceOptions extends ServerOptions {
  readonly model: ClassifierModel;
  /** SNN slots shared by all live streams (default 32). */
  readonly slots?: number;
  readonly segmentation?: LiveSegmentation;
  readonly onDecided?: OnDecided;
  /** End a sample when its sensor has sent nothing for this many ms (see `LiveSegmentOptions.idleFlushMs`). */
  readonly idleFlushMs?: number;
  /**
   * Most wall-clock ms one sample may hold an SNN slot (default `defaultWallLimitMs(model)`);
   * then it is decided with what it has (`stoppedBy: 'wall-limit'`), counted, and its slot freed.
   */
  readonly sampleWallLimitMs?: number;
  /** A sample that binned fewer events gets no decision (counted in `stats.emptySamples`; default 1). */
  readonly minEvents?: number;
  /** Publish per-step traces to `?trace=1` subscribers (off by default: one message per step). */
  readonly traces?: boolean;
  /**
   * How a sensor of another size reaches the model's input, planned per stream from its own sensor
   * size (`--fit`, `--roi`). Without it a stream whose size differs is refused when it connects.
   */
  readonly fit?: { readonly fit?: FitMode; readonly roi?: Roi };
  /** Where pipeline errors of one stream are reported (the stream closes with 1011; others go on). */
  readonly onStreamError?: (streamId: string, err: unknown) => void;
}

export interface Service {
  readonly server: SpikeServer;
  readonly address: ListenInfo;
  /** Every decision, as it is published. */
  readonly decisions: Observable<Decision>;
  readonly stats: ClassifyStats;
  readonly segments: SegmentStats;
  readonly scheduler: SnnScheduler;
  /** Graceful stop: no new ingest, streams finish their queued events, pending decisions go out, sockets close. */
  stop(drainMs?: number): Promise<void>;
}

/**
 * The default per-sample wall-time limit: twice a sample's sensor-time span T·bin (a sensor
 * streaming in real time fills a sample in T·bin), at least 2 s; 10 s for count-binned models.
 */
export function defaultWallLimitMs(model: ClassifierModel): number {
  if (model.binUs === undefined) return 10_000;
  return Math.max(2000, (2 * model.binUs * model.maxSteps) / 1000);
}

/**
 * The live service, composed with RxJS: sensor connections (`server.ingest$`) → per stream,
 * `classifyLive` (segment → per-sample engine, all streams sharing one batched runner) →
 * published to subscribers and metrics. A stream whose sensor size the model cannot take is
 * refused when it connects (HTTP 422 / close 4422); a pipeline error closes only its stream
 * (1011) and is counted.
 */
export async function startService(o: ServiceOptions): Promise<Service> {
  const modelInput = modelSensorGeometry(o.model);
  // One plan per stream, from its own sensor size and its URL's `fit`/`roi` (over the service's);
  // a size no fit can serve is refused at connect.
  const planFor = (sensor: Geometry, params: URLSearchParams): Fit => makeFit({ sensor, target: modelInput, ...fitFromParams(params, o.fit) });
  const refusal = (g: Geometry, _streamId: string, params: URLSearchParams): string | undefined => {
    try {
      return geometryMismatch(o.model, planFor(g, params).geometry);
    } catch (err) {
      if (err instanceof FitError) return err.message;
      throw err;
    }
  };
  const server = createServer({ ...o, acceptGeometry: o.acceptGeometry ?? refusal });
  const metrics = server.metrics;
  const scheduler = new SnnScheduler(new SnnRunner(o.model.net, o.slots ?? 32), (_size, ms) => {
    metrics.stepLatency.observe(ms / 1000);
    metrics.activeSlots.set(scheduler.runner.activeCount);
  });
  const stats = classifyStats();
  const segments = segmentStats();
  const wallLimitMs = o.sampleWallLimitMs ?? defaultWallLimitMs(o.model);
  const published = new Subject<Decision>();
  const running = new Map<string, Promise<void>>();
  let wallLimitedCounted = 0;
  // The engine counts into `stats`; the Prometheus counter follows it whenever a stream makes progress.
  const syncCounters = (): void => {
    if (stats.wallLimited > wallLimitedCounted) metrics.wallLimited.inc(stats.wallLimited - wallLimitedCounted);
    wallLimitedCounted = stats.wallLimited;
    metrics.activeSlots.set(scheduler.runner.activeCount);
  };

  const classifyStream = (stream: IngestStream): Observable<Decision> => {
    let finish!: () => void;
    running.set(stream.streamId, new Promise<void>((resolve) => (finish = resolve)));
    const fit = planFor(stream.geometry, stream.params);
    return classifyLive(stream.streamId, fit.geometry, fitSource(stream.source, fit), {
      model: o.model,
      scheduler,
      stats,
      segmentStats: segments,
      onDecided: o.onDecided,
      segmentation: o.segmentation,
      idleFlushMs: o.idleFlushMs,
      wallLimitMs,
      minEvents: o.minEvents,
      onStep: o.traces
        ? (r) => server.publishTrace({ streamId: r.streamId, sampleId: r.sampleId, step: r.step, confidence: r.confidence, predicted: r.predicted, eventTimeUs: r.frame.tEnd })
        : undefined,
    }).pipe(
      catchError((err: unknown) => {
        metrics.pipelineErrors.inc();
        o.onStreamError?.(stream.streamId, err);
        stream.close(1011, 'pipeline error');
        return EMPTY;
      }),
      finalize(() => {
        syncCounters();
        running.delete(stream.streamId);
        finish();
      }),
    );
  };

  const decisions = server.ingest$.pipe(
    mergeMap(classifyStream),
    tap((d) => {
      syncCounters();
      server.publish(d);
    }),
    share(),
  );
  const pipeline: Subscription = decisions.subscribe({ next: (d) => published.next(d) });
  const address = await server.listen();
  return {
    server,
    address,
    decisions: published.asObservable(),
    stats,
    segments,
    scheduler,
    async stop(drainMs = 2000) {
      const pipelinesDone = Promise.all([...running.values()]);
      await server.close({ drainMs, waitFor: pipelinesDone });
      pipeline.unsubscribe();
      published.complete();
    },
  };
}
