/**
 * `spikestream worker`: classifies the streams it holds leases on (stream-task.ts), up to its
 * slot count, sharing one batched SNN runner.
 *
 * Which streams: placement.ts, from the streams bucket (gateways announce each sensor
 * connection) and the lease bucket (lease renewals and the workers' presence keys). A free stream
 * is tried with `create` on its lease key, which only one worker can win.
 */
import * as http from 'http';
import * as os from 'os';
import type { KV } from '@nats-io/kv';
import { nuid } from '@nats-io/nats-core';
import { SnnScheduler } from '../snn/scheduler';
import { createRunner, type RunnerKind } from '../snn/step-runner';
import type { ClassifierModel } from '../snn/model/classifier-model';
import { classifyStats } from '../../streams/core/engine';
import type { LiveSegmentation, OnDecided } from '../../streams/core/live-segmenter';
import { checkpointsBucket, closeBroker, connectBroker, ensureStreams, leasesBucket, streamsBucket, type Broker } from './connect';
import { Lease, type LeaseValue } from './lease';
import { WorkerMetrics } from './metrics';
import type { FitSettings } from '../../streams/operators/fit';
import { Placement, presenceKey } from './placement';
import { decodeStreamEntry } from './stream-entry';
import { StreamTask, type TaskDeps, type WorkerEvent } from './stream-task';
import { DEFAULT_ON_DECIDED, DEFAULT_RUNNER, DEFAULT_SLOTS } from '../defaults';

export type { WorkerEvent } from './stream-task';

export interface WorkerOptions {
  /** NATS URL (nats://host:port). */
  readonly url: string;
  readonly model: ClassifierModel;
  /** SNN slots, and the most streams held at once (default 32). */
  readonly slots?: number;
  /** Lease time; undefined: the lease bucket's, or 5000 ms when this worker creates it. */
  readonly leaseMs?: number;
  /** Worker id in leases, checkpoints and decision headers (default: host-pid-random). */
  readonly id?: string;
  readonly fit?: FitSettings;
  /** The SNN runner: `typed`, `tensor`, or `auto` (tensor when TF.js runs on its native backend; default), as the service takes it. */
  readonly runner?: RunnerKind | 'auto';
  readonly segmentation?: LiveSegmentation;
  readonly onDecided?: OnDecided;
  /** Publish per-step traces on `spikestream.traces.<stream>`. */
  readonly traces?: boolean;
  /** Give a stream up after its sensor disconnected and this long passed with nothing new (default: the lease time). */
  readonly releaseIdleMs?: number;
  /** Serve /metrics and /health on this port (0: any free port; undefined: none), on `metricsHost` (default 127.0.0.1). */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  readonly report?: (e: WorkerEvent) => void;
}

export interface Worker {
  readonly id: string;
  readonly leaseMs: number;
  readonly metrics: WorkerMetrics;
  /** `http://host:port` of /metrics and /health, when served. */
  readonly metricsUrl: string | undefined;
  /** Stream ids held now. */
  owned(): string[];
  /** Releases every lease (other workers take the streams over at once), stops, disconnects. */
  stop(): Promise<void>;
}

function defaultWorkerId(): string {
  return `${os.hostname()}-${process.pid}-${nuid.next().slice(-4)}`;
}

async function watchBucket(kv: KV, onEntry: (key: string, value: string | undefined) => void): Promise<{ stop(): void }> {
  const it = await kv.watch();
  (async () => {
    for await (const e of it) onEntry(e.key, e.operation === 'PUT' ? e.string() : undefined);
  })().catch(() => undefined);
  return { stop: () => it.stop() };
}

interface WorkerBuckets {
  readonly streams: KV;
  readonly leases: KV;
  readonly checkpoints: KV;
  readonly leaseMs: number;
}

/** The worker's connection and buckets; the connection is closed again when a bucket cannot be opened. */
async function connectWorker(o: WorkerOptions, id: string): Promise<{ broker: Broker; buckets: WorkerBuckets }> {
  const broker: Broker = await connectBroker(o.url, { name: `spikestream-worker ${id}` });
  try {
    await ensureStreams(broker.jsm);
    const { kv: leases, leaseMs } = await leasesBucket(broker, o.leaseMs);
    return { broker, buckets: { streams: await streamsBucket(broker), leases, checkpoints: await checkpointsBucket(broker), leaseMs } };
  } catch (err) {
    await broker.nc.close().catch(() => undefined);
    throw err;
  }
}

/** `connected` follows the broker connection's status. */
function followConnection(broker: Broker, metrics: WorkerMetrics): void {
  metrics.connected.set(1);
  (async () => {
    for await (const s of broker.nc.status()) {
      if (s.type === 'disconnect') metrics.connected.set(0);
      else if (s.type === 'reconnect') metrics.connected.set(1);
    }
  })().catch(() => undefined);
}

/** The streams this worker runs: which to try for (placement), the tasks it holds, and how they end. */
class WorkerTasks {
  readonly tasks = new Map<string, { task: StreamTask; done: Promise<void> }>();
  private readonly acquiring = new Set<string>();
  private readonly placement: Placement;
  stopping = false;

  constructor(
    private readonly id: string,
    private readonly slots: number,
    private readonly buckets: WorkerBuckets,
    private readonly taskDeps: TaskDeps,
  ) {
    this.placement = new Placement(id, buckets.leaseMs);
  }

  private get metrics(): WorkerMetrics {
    return this.taskDeps.metrics;
  }

  private start(streamId: string, lease: Lease): void {
    const task = new StreamTask(this.taskDeps, streamId, lease);
    const done = task.run().then((end) => {
      this.tasks.delete(streamId);
      this.metrics.owned.set(this.tasks.size);
      if (end === 'lost') {
        this.metrics.lost.inc();
        this.taskDeps.report({ type: 'lost', streamId, why: lease.ended ?? 'lost' });
      }
      this.considerAll();
    });
    this.tasks.set(streamId, { task, done });
    this.metrics.owned.set(this.tasks.size);
  }

  private async tryAcquire(streamId: string): Promise<void> {
    this.acquiring.add(streamId);
    try {
      const lease = await Lease.acquire(this.buckets.leases, streamId, this.id, this.buckets.leaseMs);
      if (!lease) return;
      if (this.stopping || this.tasks.has(streamId)) {
        await lease.release();
        return;
      }
      this.placement.taken(streamId, performance.now());
      this.start(streamId, lease);
    } catch {
      this.placement.later(streamId, performance.now(), 500); // the broker is away
    } finally {
      this.acquiring.delete(streamId);
    }
  }

  /** Tries for every stream placement says is due, up to the slot count. */
  considerAll(): void {
    if (this.stopping) return;
    const held = (): number => this.tasks.size + this.acquiring.size;
    for (const streamId of this.placement.due(performance.now(), held(), (s) => this.tasks.has(s) || this.acquiring.has(s))) {
      if (held() >= this.slots) break;
      void this.tryAcquire(streamId);
    }
  }

  onStreamEntry(key: string, value: string | undefined): void {
    this.placement.onStreamEntry(key, value === undefined ? undefined : decodeStreamEntry(value));
    this.considerAll();
  }

  onLeaseKey(key: string, value: string | undefined): void {
    let worker: string | undefined;
    try {
      worker = value === undefined ? undefined : (JSON.parse(value) as LeaseValue).worker;
    } catch {
      worker = '?';
    }
    this.placement.onLeaseKey(key, worker, performance.now());
    this.considerAll();
  }

  /** Releases every lease (the others take the streams over at once) and waits for the tasks to end. */
  async releaseAll(): Promise<void> {
    const running = [...this.tasks.values()];
    await Promise.all(running.map(({ task }) => task.lease.release().then(() => this.metrics.released.inc())));
    await Promise.all(running.map((t) => t.done));
  }
}

export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const id = o.id ?? defaultWorkerId();
  const { broker, buckets } = await connectWorker(o, id);
  const { leaseMs } = buckets;
  const slots = o.slots ?? DEFAULT_SLOTS;
  const metrics = new WorkerMetrics();
  const scheduler = new SnnScheduler(createRunner(o.model.net, slots, o.runner ?? DEFAULT_RUNNER));
  const pipeline = { model: o.model, scheduler, stats: classifyStats(), settings: { segmentation: o.segmentation, onDecided: o.onDecided ?? DEFAULT_ON_DECIDED } };
  const work = new WorkerTasks(id, slots, buckets, {
    broker,
    workerId: id,
    streams: buckets.streams,
    checkpoints: buckets.checkpoints,
    pipeline,
    metrics,
    fit: o.fit,
    traces: o.traces ?? false,
    releaseIdleMs: o.releaseIdleMs ?? leaseMs,
    report: o.report ?? (() => undefined),
  });
  const streamsWatch = await watchBucket(buckets.streams, (key, value) => work.onStreamEntry(key, value));
  const leasesWatch = await watchBucket(buckets.leases, (key, value) => work.onLeaseKey(key, value));
  // Presence: lets the others count the live workers for their fair share.
  const present = (): Promise<unknown> => buckets.leases.put(presenceKey(id), JSON.stringify({ worker: id, since: Date.now() } satisfies LeaseValue)).catch(() => undefined);
  await present();
  const presence = setInterval(() => void present(), Math.max(50, Math.floor(leaseMs / 3)));
  const tick = setInterval(() => work.considerAll(), Math.max(50, Math.min(250, leaseMs / 10)));
  const lagTick = setInterval(() => {
    Promise.all([...work.tasks.values()].map((t) => t.task.lag())).then(
      (lags) => metrics.lagEvents.set(lags.reduce((a, b) => a + b, 0)),
      () => undefined,
    );
  }, 1000);
  lagTick.unref();
  followConnection(broker, metrics);
  const metricsServer = o.metricsPort === undefined ? undefined : await serveWorkerMetrics(metrics, o.metricsHost ?? '127.0.0.1', o.metricsPort, () => ({ worker: id, leaseMs, slots, owned: [...work.tasks.keys()] }));

  return {
    id,
    leaseMs,
    metrics,
    metricsUrl: metricsServer?.url,
    owned: () => [...work.tasks.keys()],
    async stop() {
      if (work.stopping) return;
      work.stopping = true;
      clearInterval(tick);
      clearInterval(lagTick);
      clearInterval(presence);
      await Promise.race([buckets.leases.delete(presenceKey(id)).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      streamsWatch.stop();
      leasesWatch.stop();
      await work.releaseAll();
      metricsServer?.server.close();
      await closeBroker(broker);
    },
  };
}

/** /metrics (Prometheus text) and /health (JSON) of a worker. */
async function serveWorkerMetrics(metrics: WorkerMetrics, host: string, port: number, health: () => object): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      metrics.expose().then(
        (text) => res.writeHead(200, { 'Content-Type': metrics.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (path === '/health') {
      const connected = metrics.connected.get() === 1;
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ status: connected ? 'ok' : 'degraded', broker: { connected }, ...health() }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address();
  const p = typeof a === 'object' && a ? a.port : port;
  return { server, url: `http://${host.includes(':') ? `[${host}]` : host}:${p}` };
}
