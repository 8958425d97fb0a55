import { catchError, EMPTY, finalize, map, mergeMap, share, Subject, tap, type Observable, type Subscription } from 'rxjs';
import { createRunner, type RunnerKind } from '../snn/step-runner';
import { SnnScheduler } from '../snn/scheduler';
import type { ClassifierModel } from '../snn/model/classifier-model';
import { classifyStats, geometryMismatch, type ClassifyStats } from '../../streams/core/engine';
import { segmentStats, type LiveSegmentation, type OnDecided, type SegmentStats } from '../../streams/core/live-segmenter';
import { classifyLive } from '../../streams/operators/classify-live';
import { FitError, fitFromParams, fitSource, makeFit, modelSensorGeometry, type Fit, type FitMode } from '../../streams/operators/fit';
import type { Roi } from '../../streams/operators/roi';
import type { Decision, Frame, StepResult } from '../../streams/types';
import type { Geometry } from '../events/geometry';
import { startServiceShards } from './threads/service-shards';
import { createServer, type IngestStream, type ListenInfo, type ServerOptions, type SpikeServer } from './server';
import { stepTrace } from './step-trace';
import { viewerModelInfo } from './viewer';

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
  /** Publish per-step traces to `?trace=1` subscribers (off by default: one message per step; on with `viewer`). */
  readonly traces?: boolean;
  /** The true class of a decision when known (e.g. from a recording's label windows): set as its `trueLabel` before it is published. */
  readonly trueLabel?: (d: Decision) => number | undefined;
  /**
   * How a sensor of another size reaches the model's input, planned per stream from its own sensor
   * size (`--fit`, `--roi`). Without it a stream whose size differs is refused when it connects.
   */
  readonly fit?: { readonly fit?: FitMode; readonly roi?: Roi };
  /** Where pipeline errors of one stream are reported (the stream closes with 1011; others go on). */
  readonly onStreamError?: (streamId: string, err: unknown) => void;
  /**
   * Worker threads that classify the streams (default 1: all on this thread, the main one). With
   * N > 1 each stream is classified whole by one of N workers, each with its own runner and
   * ceil(slots / N) slots; the main thread keeps the sockets. Decisions are the same either way.
   */
  readonly threads?: number;
  /** The SNN runner: `typed` (SnnRunner), `tensor` (TensorRunner), `auto` (tensor on TF.js's native backend; default). */
  readonly runner?: RunnerKind | 'auto';
}

/** `d` with its true class from `trueLabel`, when `d` has none and `trueLabel` knows it. */
function labelled(d: Decision, trueLabel: ServiceOptions['trueLabel']): Decision {
  const t = d.trueLabel === undefined ? trueLabel?.(d) : undefined;
  return t === undefined ? d : { ...d, trueLabel: t };
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
  // The viewer's page needs the traces (chart, bars) and the frames (preview).
  const viewer = o.viewer && { ...o.viewer, model: o.viewer.model ?? viewerModelInfo(o.model) };
  const server = createServer({ ...o, viewer, acceptGeometry: o.acceptGeometry ?? refusal });
  const preview = server.preview;
  const metrics = server.metrics;
  const threads = o.threads ?? 1;
  // With worker threads this thread steps nothing: its scheduler only carries the workers' summed stats.
  const scheduler = new SnnScheduler(createRunner(o.model.net, threads > 1 ? 1 : o.slots ?? 32, o.runner ?? 'auto'), (_size, ms) => {
    metrics.stepLatency.observe(ms / 1000);
    metrics.activeSlots.set(scheduler.runner.activeCount);
  });
  const stats = classifyStats();
  const segments = segmentStats();
  const wallLimitMs = o.sampleWallLimitMs ?? defaultWallLimitMs(o.model);
  const onStep = o.traces || viewer ? (r: StepResult) => server.publishTrace(stepTrace(r, o.model.alpha, o.model.tau)) : undefined;
  const onFrame = preview && ((f: Frame) => preview.publish(f));
  const live = { onDecided: o.onDecided, segmentation: o.segmentation, idleFlushMs: o.idleFlushMs, wallLimitMs, minEvents: o.minEvents };
  const shards = threads > 1
    ? await startServiceShards({ model: o.model, threads, slots: o.slots ?? 32, runner: o.runner ?? 'auto', live, onStep, onFrame }, { stats, segments, scheduler: scheduler.stats, metrics })
    : undefined;
  const published = new Subject<Decision>();
  const running = new Map<string, Promise<void>>();
  let wallLimitedCounted = 0;
  // The engine counts into `stats`; the Prometheus counter follows it whenever a stream makes progress.
  const syncCounters = (): void => {
    if (stats.wallLimited > wallLimitedCounted) metrics.wallLimited.inc(stats.wallLimited - wallLimitedCounted);
    wallLimitedCounted = stats.wallLimited;
    metrics.activeSlots.set(shards ? shards.activeSlots : scheduler.runner.activeCount);
  };

  const classifyStream = (stream: IngestStream): Observable<Decision> => {
    let finish!: () => void;
    running.set(stream.streamId, new Promise<void>((resolve) => (finish = resolve)));
    const fit = planFor(stream.geometry, stream.params);
    const classified = shards
      ? shards.classify(stream, fitFromParams(stream.params, o.fit))
      : classifyLive(stream.streamId, fit.geometry, fitSource(stream.source, fit), { ...live, model: o.model, scheduler, stats, segmentStats: segments, onStep, onFrame });
    return classified.pipe(
      catchError((err: unknown) => {
        metrics.pipelineErrors.inc();
        o.onStreamError?.(stream.streamId, err);
        stream.close(1011, 'pipeline error');
        return EMPTY;
      }),
      finalize(() => {
        preview?.end(stream.streamId);
        syncCounters();
        running.delete(stream.streamId);
        finish();
      }),
    );
  };

  const decisions = server.ingest$.pipe(
    mergeMap(classifyStream),
    map((d) => labelled(d, o.trueLabel)),
    tap((d) => {
      syncCounters();
      server.publish(d);
    }),
    share(),
  );
  const pipeline: Subscription = decisions.subscribe({ next: (d) => published.next(d) });
  let address: ListenInfo;
  try {
    address = await server.listen();
  } catch (err) {
    // e.g. the port is in use: the worker threads must not keep the process alive.
    pipeline.unsubscribe();
    await shards?.close();
    throw err;
  }
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
      await shards?.close();
      pipeline.unsubscribe();
      published.complete();
    },
  };
}
