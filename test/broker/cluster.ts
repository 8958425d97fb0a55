/**
 * Test fixtures of the NATS mode: a nats-server of our own (free 127.0.0.1 port, temporary
 * JetStream store, stopped by PID), `spikestream worker` / `serve --nats` as child processes of
 * the built CLI (so kill -9 and SIGSTOP are real), sensors replaying the bundled recording, the
 * decisions JetStream stored, and the single-process run to compare them with.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { lastValueFrom, toArray } from 'rxjs';
import type { JsMsg } from '@nats-io/jetstream';
import { connectBroker, type Broker } from '../../src/broker/connect';
import { DECISIONS_STREAM, HEADER } from '../../src/broker/names';
import { readEventFile } from 'aedat-parser-ts/node';
import { streamToServer, type SensorClientResult } from '../../src/client/sensor-client';
import { SnnRunner } from '../../src/snn/runner';
import { SnnScheduler } from '../../src/snn/scheduler';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { classifyLive } from '../../streams/operators/classify-live';
import { eventFileSource, paceBatches } from '../../streams/sources/from-event-file';
import { speed } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { repoRoot } from '../helpers/paths';

export const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
export const MODEL_DIR = path.join(repoRoot, 'models', 'gesture');
const CLI = path.join(repoRoot, 'dist', 'src', 'cli', 'main.js');

/** The nats-server binary, or undefined. */
export function natsServerPath(): string | undefined {
  for (const p of ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) if (fs.existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v nats-server'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** nats-server, or a failure saying how to install it (a test that cannot run fails; nothing is skipped). */
export function requireNatsServer(ctx: Mocha.Context): string {
  const p = natsServerPath();
  if (p) return p;
  // A broker test without its broker fails: nothing is skipped.
  throw new Error('nats-server is not installed (apt-get install nats-server; .ci/run installs it)');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

import { sleep } from '../helpers/time';
import { DEFAULT_ON_DECIDED } from '../../src/defaults';

export { sleep };

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string, pollMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs); // polls the condition
  }
}

/** A nats-server with JetStream on a free loopback port and its own store directory. */
export class NatsServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    private readonly bin: string,
    readonly port: number,
    readonly storeDir: string,
  ) {}

  static async start(bin: string): Promise<NatsServer> {
    const s = new NatsServer(bin, await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-nats-')));
    await s.run();
    return s;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** The running server's process id (its CPU time is read from /proc by the benchmark). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async run(): Promise<void> {
    const child = spawn(this.bin, ['-js', '-sd', this.storeDir, '-a', '127.0.0.1', '-p', String(this.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.log = '';
    const onData = (d: Buffer): void => void (this.log += d.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    await waitUntil(() => /Server is ready/.test(this.log) || child.exitCode !== null, 10_000, 'nats-server to start');
    if (child.exitCode !== null) throw new Error(`nats-server exited: ${this.log.slice(-500)}`);
  }

  /** Stops the server by its PID (SIGTERM: it flushes its store) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    process.kill(child.pid as number, signal);
    await Promise.race([exited, sleep(10_000)]); // bounds the wait for the exit
  }

  /** Starts it again on the same port with the same store. */
  restart(): Promise<void> {
    return this.run();
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.storeDir, { recursive: true, force: true });
  }
}

/** A line of a child's NDJSON stdout, with when the test saw it. */
export interface SeenLine {
  readonly at: number;
  readonly value: Record<string, unknown>;
}

/** `spikestream …` as a child process whose NDJSON stdout is collected. */
export class CliProcess {
  readonly lines: SeenLine[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  constructor(args: readonly string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push({ at: Date.now(), value: JSON.parse(line) as Record<string, unknown> });
        } catch {
          // not NDJSON: ignore
        }
      }
    });
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString('utf8')));
    this.exited = new Promise((r) => this.child.once('exit', (code) => r(code)));
  }

  get pid(): number {
    return this.child.pid as number;
  }

  of(type: string): SeenLine[] {
    return this.lines.filter((l) => l.value.type === type);
  }

  async first(type: string, timeoutMs = 30_000): Promise<SeenLine> {
    await waitUntil(() => this.of(type).length > 0 || this.child.exitCode !== null, timeoutMs, `'${type}' from spikestream ${this.child.spawnargs.slice(2, 3).join(' ')} (stderr: ${this.stderr.slice(-300)})`);
    const l = this.of(type)[0];
    if (!l) throw new Error(`spikestream exited (${this.child.exitCode}) before '${type}': ${this.stderr.slice(-500)}`);
    return l;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) process.kill(this.pid, sig);
  }

  async stop(): Promise<void> {
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    await Promise.race([this.exited, sleep(5000)]); // bounds the wait for the exit
    this.signal('SIGKILL');
  }
}

export interface Cluster {
  readonly nats: NatsServer;
  /** `spikestream worker --json --metrics-port 0` processes, ready. */
  readonly workers: CliProcess[];
  /** `spikestream serve --nats --json --quiet` processes, listening, and their URLs. */
  readonly gateways: { readonly proc: CliProcess; readonly url: string }[];
  /** Each worker's /metrics base URL (same order). */
  readonly workerUrls: string[];
  /** Stops every process (by PID) and the server, and removes its store. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Worker ids, one process each. */
  readonly workers: readonly string[];
  readonly gateways: number;
  /** --lease-ms of the workers (default: the bucket's, 5000). */
  readonly leaseMs?: number;
  readonly workerArgs?: readonly string[];
  readonly gatewayArgs?: readonly string[];
}

/** A nats-server, gateways and workers on 127.0.0.1, all started and ready (all stopped again if one fails to start). */
export async function startCluster(bin: string, o: ClusterOptions): Promise<Cluster> {
  const nats = await NatsServer.start(bin);
  const procs: CliProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop()));
    await nats.dispose();
  };
  try {
    const lease = o.leaseMs !== undefined ? ['--lease-ms', String(o.leaseMs)] : [];
    const workers = o.workers.map((id) => new CliProcess(['worker', '--nats', nats.url, '--id', id, ...lease, '--slots', '8', '--json', '--metrics-port', '0', ...(o.workerArgs ?? [])]));
    procs.push(...workers);
    const gatewayProcs = Array.from({ length: o.gateways }, () => new CliProcess(['serve', '--nats', nats.url, '--port', '0', '--json', '--quiet', ...(o.gatewayArgs ?? [])]));
    procs.push(...gatewayProcs);
    const gateways = await Promise.all(gatewayProcs.map(async (proc) => ({ proc, url: String((await proc.first('listening')).value.url) })));
    const workerUrls = await Promise.all(workers.map(async (w) => String((await w.first('ready')).value.metrics)));
    return { nats, workers, gateways, workerUrls, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The bundled recording sent to `<gateway>/ingest/<streamId>` at `factor` × real time. */
export function sendRecording(gatewayUrl: string, streamId: string, factor: number): Promise<SensorClientResult> {
  return streamToServer(`${gatewayUrl}/ingest/${streamId}`, paceBatches(readEventFile(RECORDING), speed(factor)), { width: 128, height: 128 });
}

export { scrapeMetrics as scrape } from '../helpers/scrape';

export interface StoredDecision {
  readonly decision: Decision;
  readonly worker: string;
  /** Server time the broker stored it (ms since the epoch). */
  readonly storedAt: number;
}

/** Every decision JetStream holds (fence markers left out), in stored order. */
export async function storedDecisions(url: string): Promise<StoredDecision[]> {
  const broker: Broker = await connectBroker(url, { name: 'test-reader' });
  try {
    const info = await broker.jsm.streams.info(DECISIONS_STREAM);
    const out: StoredDecision[] = [];
    if (info.state.messages === 0) return out;
    const consumer = await broker.js.consumers.get(DECISIONS_STREAM, { deliver_policy: 'all' });
    const messages = await consumer.consume({ max_messages: 1000 });
    for await (const m of messages as AsyncIterable<JsMsg>) {
      if (!m.headers?.get(HEADER.kind)) out.push({ decision: m.json<Decision>(), worker: m.headers?.get(HEADER.worker) ?? '', storedAt: m.info.timestampNanos / 1e6 });
      if (m.info.pending === 0) break;
    }
    messages.stop();
    return out;
  } finally {
    await broker.nc.close();
  }
}

/** What makes a decision (no wall-clock latency). */
export function essence(d: Decision): string {
  return `${d.sampleId} ${d.label} ${d.steps} ${d.stoppedBy} ${d.sampleStartUs}→${d.eventTimeUs} ${d.confidence} ${d.eventsConsumed} ${d.trueLabel ?? ''}`;
}

/** The reference run, kept while the model file is the same (the workers load it when they start). */
let reference: { modelStamp: string; decisions: Decision[] } | undefined;

/** The single-process run of the recording (the engine the embedded service runs), for stream `streamId`. */
export async function singleProcessDecisions(streamId: string): Promise<string[]> {
  const modelStamp = fs
    .readdirSync(MODEL_DIR)
    .map((f) => `${f}:${fs.statSync(path.join(MODEL_DIR, f)).mtimeMs}`)
    .join(',');
  if (reference?.modelStamp !== modelStamp) {
    const model = loadClassifierModel(MODEL_DIR);
    const scheduler = new SnnScheduler(new SnnRunner(model.net, 2));
    reference = { modelStamp, decisions: await lastValueFrom(classifyLive('ref', { width: 128, height: 128 }, eventFileSource(RECORDING), { model, scheduler, onDecided: DEFAULT_ON_DECIDED }).pipe(toArray())) };
  }
  return reference.decisions.map((d) => essence({ ...d, streamId, sampleId: d.sampleId.replace(/^ref#/, `${streamId}#`) }));
}

/** Stored decisions of one stream, by sample number. */
export function streamDecisions(all: readonly StoredDecision[], streamId: string): StoredDecision[] {
  const n = (d: Decision): number => Number(d.sampleId.slice(d.sampleId.lastIndexOf('#') + 1));
  return all.filter((s) => s.decision.streamId === streamId).sort((a, b) => n(a.decision) - n(b.decision));
}
