/**
 * The service under test, in a child process of its own (bench:pipeline, bench:soak): the bundled
 * model, 127.0.0.1, port 0, the typed runner, T worker threads, θ calibrated or given. The parent
 * asks it for its CPU time, RSS and classification counters over IPC and scrapes /metrics.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { OnDecided } from '../streams/core/live-segmenter';
import { askChild } from './common';

/** The folder that holds models/ (dist/bench or <outDir>/bench: walk up). */
export const ROOT = (() => {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'models', 'gesture', 'spikestream.json'))) return d;
    if (path.dirname(d) === d) return process.cwd();
  }
})();
export const MODEL = path.join(ROOT, 'models', 'gesture');
export const RECORDING = path.join(ROOT, 'recordings', 'gestures', 'user30_natural.aedat');
export const GEOMETRY = { width: 128, height: 128 };

/** What the child reports: cumulative counters and its RSS now. */
export interface ChildStats {
  cpuUs: number;
  rss: number;
  decisions: number;
  early: number;
  stepsRun: number;
  stepsSaved: number;
  wallLimited: number;
  maxBatch: number;
}

export interface ServiceChildOptions {
  readonly slots: number;
  readonly threads: number;
  /** undefined: the model's calibrated θ. */
  readonly theta?: number;
  /** After an early decision (default: the service's, `DEFAULT_ON_DECIDED`). */
  readonly onDecided?: OnDecided;
  /** Folder for a `.cpuprofile` of the child (node --cpu-prof), and its file name. */
  readonly profile?: { readonly dir: string; readonly name: string };
}

/** A running service child: its URL, its stats on demand, and stop. */
export interface ServiceChild {
  readonly url: string;
  readonly pid: number | undefined;
  stats(): Promise<ChildStats>;
  stop(): Promise<void>;
}

/** Forks the service; resolves once it listens. */
export async function forkService(o: ServiceChildOptions): Promise<ServiceChild> {
  const env = { ...process.env, BENCH_SLOTS: String(o.slots), BENCH_THREADS: String(o.threads), BENCH_THETA: o.theta === undefined ? '' : String(o.theta), BENCH_ON_DECIDED: o.onDecided ?? '' };
  const execArgv = o.profile ? [...process.execArgv, '--cpu-prof', '--cpu-prof-dir', o.profile.dir, '--cpu-prof-name', o.profile.name] : process.execArgv;
  const c = fork(__filename, ['--service-child'], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await askChild<{ url: string }>(c, '', 'ready');
  return {
    url,
    pid: c.pid,
    stats: async () => (await askChild<{ stats: ChildStats }>(c, 'stats', 'stats')).stats,
    stop: async () => {
      const exited = new Promise((r) => c.once('exit', r));
      c.send({ cmd: 'stop' });
      await exited;
    },
  };
}

/** The service's /metrics as name{labels} → value. */
export async function scrapeMetrics(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const at = line.lastIndexOf(' ');
    m.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return m;
}

/** Events dropped on the way in (queue overflow, rate limit), from /metrics. */
export function droppedEvents(m: ReadonlyMap<string, number>): number {
  return (m.get('spikestream_events_dropped_total{reason="queue_overflow"}') ?? 0) + (m.get('spikestream_events_dropped_total{reason="rate_limit"}') ?? 0);
}

async function child(): Promise<void> {
  const { startService } = await import('../src/server/service');
  const { loadClassifierModel } = await import('../src/snn/model/classifier-model');
  const theta = process.env.BENCH_THETA ? { theta: Number(process.env.BENCH_THETA) } : {};
  const service = await startService({
    model: loadClassifierModel(MODEL, theta),
    port: 0,
    slots: Number(process.env.BENCH_SLOTS ?? 64),
    threads: Number(process.env.BENCH_THREADS ?? 1),
    runner: 'typed',
    maxIngestStreams: 1024,
    maxSubscribers: 16,
    ...(process.env.BENCH_ON_DECIDED ? { onDecided: process.env.BENCH_ON_DECIDED as OnDecided } : {}),
  });
  const send = (m: unknown): void => void process.send!(m);
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'stats') {
      const c = process.cpuUsage();
      const s = service.stats;
      const stats: ChildStats = {
        cpuUs: c.user + c.system,
        rss: process.memoryUsage().rss,
        decisions: s.decisions,
        early: s.early,
        stepsRun: s.stepsRun,
        stepsSaved: s.stepsSaved,
        wallLimited: s.wallLimited,
        maxBatch: service.scheduler.stats.maxBatch,
      };
      send({ type: 'stats', stats });
    } else if (m.cmd === 'stop') {
      void service.stop(1000).then(() => process.exit(0));
    }
  });
  send({ type: 'ready', url: service.address.url });
}

if (process.argv.includes('--service-child')) void child();
