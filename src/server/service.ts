import { catchError, EMPTY, finalize, merge, mergeMap, share, Subject, tap, type Observable, type Subscription } from 'rxjs';
import { createRunner, type RunnerKind } from '../snn/step-runner';
import { SnnScheduler } from '../snn/scheduler';
import { forLiveStreams, type ClassifierModel } from '../snn/model/classifier-model';
import { classifyStats, type ClassifyStats } from '../../streams/core/engine';
import { segmentStats, type LiveSegmentation, type OnDecided, type SegmentStats } from '../../streams/core/live-segmenter';
import { planStreamFit, type StreamPipeline } from '../../streams/operators/classify-stream';
import { serveStream } from '../../streams/operators/serve-stream';
import { FitError, fitFromParams, type FitSettings } from '../../streams/operators/fit';
import type { Decision, Frame } from '../../streams/types';
import type { Geometry } from '../events/geometry';
import { startServiceShards } from './threads/service-shards';
import { createServer, type IngestStream, type ListenInfo, type ServerOptions, type SpikeServer } from './server';
import { viewerModelInfo } from './viewer';
import { ServiceInputs, type InputOptions } from './inputs';
import { DEFAULT_ON_DECIDED, DEFAULT_RUNNER, DEFAULT_SLOTS } from '../defaults';

export interface ServiceOptions extends ServerOptions, InputOptions {
  readonly model: ClassifierModel;
  /** SNN slots shared by all live streams (default 32). */
  readonly slots?: number;
  readonly segmentation?: LiveSegmentation;
  /** After an early decision: skip the rest of the sample (default, `DEFAULT_ON_DECIDED`) or cut the next sample at once. */
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
  readonly fit?: FitSettings;
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

/** Refuses at connect a sensor whose size no fit (its URL's `fit`/`roi` over the service's) brings to the model. */
function fitRefusal(o: ServiceOptions): (g: Geometry, streamId: string, params: URLSearchParams) => string | undefined {
  return (g, _streamId, params) => {
    try {
      const plan = planStreamFit(o.model, g, fitFromParams(params, o.fit));
      return 'refusal' in plan ? plan.refusal : undefined;
    } catch (err) {
      if (err instanceof FitError) return err.message;
      throw err;
    }
  };
}

/** What every stream of the service shares; with worker threads this thread's scheduler steps nothing and only carries their summed stats. */
function servicePipeline(o: ServiceOptions, server: SpikeServer, traces: boolean): StreamPipeline & { readonly stats: ClassifyStats; readonly segmentStats: SegmentStats } {
  const { metrics, preview } = server;
  const slots = (o.threads ?? 1) > 1 ? 1 : o.slots ?? DEFAULT_SLOTS;
  const scheduler = new SnnScheduler(createRunner(o.model.net, slots, o.runner ?? DEFAULT_RUNNER), (_size, ms) => {
    metrics.stepLatency.observe(ms / 1000);
    metrics.activeSlots.set(scheduler.runner.activeCount);
  });
  const wallLimitMs = o.sampleWallLimitMs ?? defaultWallLimitMs(o.model);
  return {
    model: o.model,
    scheduler,
    stats: classifyStats(),
    segmentStats: segmentStats(),
    settings: { onDecided: o.onDecided ?? DEFAULT_ON_DECIDED, segmentation: o.segmentation, idleFlushMs: o.idleFlushMs, wallLimitMs, minEvents: o.minEvents },
    // Bound, not wrapped: a trace goes from the engine to the hub without running server code.
    onTrace: traces ? server.hub.publishTrace.bind(server.hub) : undefined,
    onFrame: preview && ((f: Frame) => preview.publish(f)),
  };
}

/** The HTTP + WebSocket server and the live inputs (`--input`) beside it, both refusing a sensor size the model cannot take. */
async function serverAndInputs(o: ServiceOptions, viewer: ServerOptions['viewer']): Promise<{ server: SpikeServer; inputs: ServiceInputs | undefined }> {
  const acceptGeometry = o.acceptGeometry ?? fitRefusal(o);
  let inputs: ServiceInputs | undefined;
  const server = createServer({ ...o, viewer, acceptGeometry, moreStreams: () => inputs?.streams() ?? [] });
  inputs = await ServiceInputs.start(o, server.metrics.registry, acceptGeometry);
  return { server, inputs };
}

/**
 * The live service, composed with RxJS: sensor connections (`server.ingest$`) and live inputs → per stream,
 * `classifyStream` (fit → segment → per-sample engine, all streams sharing one batched runner) →
 * published to subscribers and metrics. A stream whose sensor size the model cannot take is
 * refused when it connects (HTTP 422 / close 4422); a pipeline error closes only its stream
 * (1011) and is counted.
 */
export async function startService(o: ServiceOptions): Promise<Service> {
  // The viewer's page needs the traces (chart, bars) and the frames (preview).
  const viewer = o.viewer && { ...o.viewer, model: o.viewer.model ?? viewerModelInfo(forLiveStreams(o.model)) };
  const { server, inputs } = await serverAndInputs(o, viewer);
  const { preview, metrics } = server;
  const threads = o.threads ?? 1;
  const pipeline = servicePipeline(o, server, Boolean(o.traces || viewer));
  const { scheduler, stats, segmentStats: segments } = pipeline;
  const shards = threads > 1
    ? await startServiceShards({ ...pipeline, threads, slots: o.slots ?? DEFAULT_SLOTS, runner: o.runner ?? DEFAULT_RUNNER }, { stats, segments, scheduler: scheduler.stats, metrics })
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

  const classifyIngest = (stream: IngestStream): Observable<Decision> => {
    let finish!: () => void;
    running.set(stream.streamId, new Promise<void>((resolve) => (finish = resolve)));
    const input = { streamId: stream.streamId, sensor: stream.geometry, source: stream.source, fit: fitFromParams(stream.params, o.fit) };
    // The stream's whole walk, queue → pipeline → subscribers, runs on the streams side; this
    // thread only counts the decision afterwards (below).
    const served = serveStream(input, pipeline, { fanOut: server.hub, trueLabel: o.trueLabel, classify: shards?.classify });
    return served.pipe(
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

  const decisions = merge(server.ingest$, inputs?.streams$ ?? EMPTY).pipe(
    mergeMap(classifyIngest),
    tap((d) => {
      syncCounters();
      metrics.recordDecision(d);
    }),
    share(),
  );
  const classifying: Subscription = decisions.subscribe({ next: (d) => published.next(d) });
  let address: ListenInfo;
  try {
    address = await server.listen();
  } catch (err) {
    // e.g. the port is in use: the worker threads must not keep the process alive.
    classifying.unsubscribe();
    inputs?.close();
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
      inputs?.close();
      const pipelinesDone = Promise.all([...running.values()]);
      await server.close({ drainMs, waitFor: pipelinesDone });
      await shards?.close();
      classifying.unsubscribe();
      published.complete();
    },
  };
}
