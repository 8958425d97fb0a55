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
import { SnnRunner } from '../snn/runner';
import { SnnScheduler } from '../snn/scheduler';
import type { ClassifierModel } from '../snn/model/classifier-model';
import { classifyStats } from '../../streams/core/engine';
import type { LiveSegmentation, OnDecided } from '../../streams/core/live-segmenter';
import { checkpointsBucket, closeBroker, connectBroker, ensureStreams, leasesBucket, streamsBucket, type Broker } from './connect';
import { Lease, type LeaseValue } from './lease';
import { WorkerMetrics } from './metrics';
import type { FitChoice } from './model-fit';
import { Placement, presenceKey } from './placement';
import { decodeStreamEntry } from './stream-entry';
import { StreamTask, type WorkerEvent } from './stream-task';

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
  readonly fit?: FitChoice;
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

export async function startWorker(o: WorkerOptions): Promise<Worker> {
  const id = o.id ?? defaultWorkerId();
  const broker: Broker = await connectBroker(o.url, { name: `spikestream-worker ${id}` });
  let buckets: { streams: KV; leases: KV; checkpoints: KV; leaseMs: number };
  try {
    await ensureStreams(broker.jsm);
    const { kv: leases, leaseMs } = await leasesBucket(broker, o.leaseMs);
    buckets = { streams: await streamsBucket(broker), leases, checkpoints: await checkpointsBucket(broker), leaseMs };
  } catch (err) {
    await broker.nc.close().catch(() => undefined);
    throw err;
  }
  const { leaseMs } = buckets;
  const slots = o.slots ?? 32;
  const metrics = new WorkerMetrics();
  const report = o.report ?? (() => undefined);
  const scheduler = new SnnScheduler(new SnnRunner(o.model.net, slots));
  const stats = classifyStats();
  const placement = new Placement(id, leaseMs);
  const tasks = new Map<string, { task: StreamTask; done: Promise<void> }>();
  const acquiring = new Set<string>();
  let stopping = false;

  const startTask = (streamId: string, lease: Lease): void => {
    const task = new StreamTask(
      {
        broker,
        workerId: id,
        streams: buckets.streams,
        checkpoints: buckets.checkpoints,
        model: o.model,
        scheduler,
        stats,
        metrics,
        fit: o.fit,
        segmentation: o.segmentation,
        onDecided: o.onDecided,
        traces: o.traces ?? false,
        releaseIdleMs: o.releaseIdleMs ?? leaseMs,
        report,
      },
      streamId,
      lease,
    );
    const done = task.run().then((end) => {
      tasks.delete(streamId);
      metrics.owned.set(tasks.size);
      if (end === 'lost') {
        metrics.lost.inc();
        report({ type: 'lost', streamId, why: lease.ended ?? 'lost' });
      }
      considerAll();
    });
    tasks.set(streamId, { task, done });
    metrics.owned.set(tasks.size);
  };

  const tryAcquire = async (streamId: string): Promise<void> => {
    acquiring.add(streamId);
    try {
      const lease = await Lease.acquire(buckets.leases, streamId, id, leaseMs);
      if (!lease) return;
      if (stopping || tasks.has(streamId)) {
        await lease.release();
        return;
      }
      placement.taken(streamId, performance.now());
      startTask(streamId, lease);
    } catch {
      placement.later(streamId, performance.now(), 500); // the broker is away
    } finally {
      acquiring.delete(streamId);
    }
  };

  function considerAll(): void {
    if (stopping) return;
    const held = (): number => tasks.size + acquiring.size;
    for (const streamId of placement.due(performance.now(), held(), (s) => tasks.has(s) || acquiring.has(s))) {
      if (held() >= slots) break;
      void tryAcquire(streamId);
    }
  }

  const streamsWatch = await watchBucket(buckets.streams, (key, value) => {
    placement.onStreamEntry(key, value === undefined ? undefined : decodeStreamEntry(value));
    considerAll();
  });
  const leasesWatch = await watchBucket(buckets.leases, (key, value) => {
    let worker: string | undefined;
    try {
      worker = value === undefined ? undefined : (JSON.parse(value) as LeaseValue).worker;
    } catch {
      worker = '?';
    }
    placement.onLeaseKey(key, worker, performance.now());
    considerAll();
  });
  // Presence: lets the others count the live workers for their fair share.
  const present = (): Promise<unknown> => buckets.leases.put(presenceKey(id), JSON.stringify({ worker: id, since: Date.now() } satisfies LeaseValue)).catch(() => undefined);
  await present();
  const presence = setInterval(() => void present(), Math.max(50, Math.floor(leaseMs / 3)));
  const tick = setInterval(considerAll, Math.max(50, Math.min(250, leaseMs / 10)));
  const lagTick = setInterval(() => {
    Promise.all([...tasks.values()].map((t) => t.task.lag())).then(
      (lags) => metrics.lagEvents.set(lags.reduce((a, b) => a + b, 0)),
      () => undefined,
    );
  }, 1000);
  lagTick.unref();

  metrics.connected.set(1);
  (async () => {
    for await (const s of broker.nc.status()) {
      if (s.type === 'disconnect') metrics.connected.set(0);
      else if (s.type === 'reconnect') metrics.connected.set(1);
    }
  })().catch(() => undefined);

  const metricsServer = o.metricsPort === undefined ? undefined : await serveWorkerMetrics(metrics, o.metricsHost ?? '127.0.0.1', o.metricsPort, () => ({ worker: id, leaseMs, slots, owned: [...tasks.keys()] }));

  return {
    id,
    leaseMs,
    metrics,
    metricsUrl: metricsServer?.url,
    owned: () => [...tasks.keys()],
    async stop() {
      if (stopping) return;
      stopping = true;
      clearInterval(tick);
      clearInterval(lagTick);
      clearInterval(presence);
      await Promise.race([buckets.leases.delete(presenceKey(id)).catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
      streamsWatch.stop();
      leasesWatch.stop();
      const running = [...tasks.values()];
      await Promise.all(running.map(({ task }) => task.lease.release().then(() => metrics.released.inc())));
      await Promise.all(running.map((t) => t.done));
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
