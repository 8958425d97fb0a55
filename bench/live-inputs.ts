/**
 * bench:live-inputs — what the live inputs (`serve --input`) cost and carry, on this machine, each
 * part in one run of the service in a child process (bundled gesture model, typed runner):
 *
 * 1. CPU per input vs WebSocket ingest: the first `--seconds` (default 12) of the bundled 128×128
 *    DVS128-Gesture-style recording (13,500 events/s) at real time through each input, one fresh
 *    service each, every input `--rounds` times (default 3) interleaved; the median of the service's
 *    CPU seconds from 3 s in (a fresh process warms up) to the end, and its ratio to WebSocket ingest's.
 * 2. `--streams` (default 16) UDP inputs in real time: the same seconds sent to every input at once
 *    (faery's t64 layout, 100 events a datagram); events received and sent per input, events dropped
 *    by our queues (target 0), the service's CPU share of one core, and the lag left at the end.
 * 3. Plain SPIF accuracy: the whole recording `--spif-passes` times (default 2) through the real
 *    `aestream` (SPIF words without time, stamped on arrival) beside WebSocket ingest, both at real
 *    time in one service; the share of confident decisions that are right against the label
 *    windows, for each.
 *
 * Senders run in this process (pre-encoded, paced by event time) except aestream. Progress on
 * stderr; the last line of stdout is one JSON line. `--parts 1,2,3` picks parts.
 * Usage: npm run bench:live-inputs [-- --seconds 12 --rounds 3 --streams 16 --spif-passes 2 --parts 1,2,3
 *   --only fifo,dv+tcp (part 1: these inputs, by name prefix, beside WebSocket ingest)]
 */
import { fork, type ChildProcess } from 'child_process';
import * as dgram from 'dgram';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { readEventFile } from 'aedat-parser-ts/node';
import { concatBatches, lowerBoundTime, sliceByIndex, type EventBatch } from '../src/events/event-batch';
import { parseGestureLabels } from '../src/datasets/dvs-gesture';
import { isRightLive } from '../src/eval/live-score';
import { streamToServer } from '../src/client/sensor-client';
import { paceBatches } from '../streams/sources/from-event-file';
import { REALTIME } from '../streams/sources/pacing';
import type { Decision } from '../streams/types';
import { argValue, askChild, machine, median, printFigures, type BenchFigure } from './common';
import { DvNetworkWriter, type DvCompression } from '../test/helpers/dv-network-writer';
import { Evt3Encoder } from '../test/helpers/evt3-encoder';
import { encodeDatagram, SENDER_EVENTS_PER_DATAGRAM } from '../test/helpers/udp-encoder';
import { aestreamBinary, freeUdpPort, Partner, writeEventsCsv } from '../test/helpers/live-partners';
import type { UdpFormat } from '../streams/sources/udp-formats';

const ROOT = path.resolve(__dirname, '..', '..');
const RECORDING = path.join(ROOT, 'recordings', 'gestures', 'user30_natural.aedat');
const LABELS = path.join(ROOT, 'recordings', 'gestures', 'user30_natural_labels.csv');
const MODEL = path.join(ROOT, 'models', 'gesture');
const GEOMETRY = { width: 128, height: 128 };
const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface ChildReport {
  cpuUs: number;
  streams: { streamId: string; enqueuedEvents: number; queuedEvents: number; droppedEvents: number; firstEventUs?: number }[];
  metrics: Record<string, number>;
  decisions: Decision[];
}

/** The service under test in a child process with these `--input` URLs. */
class ServiceChild {
  private constructor(
    private readonly c: ChildProcess,
    readonly url: string,
  ) {}

  static async start(inputs: readonly string[]): Promise<ServiceChild> {
    const c = fork(__filename, ['--child'], { env: { ...process.env, BENCH_INPUTS: JSON.stringify(inputs) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { url } = await askChild<{ url: string }>(c, '', 'ready');
    return new ServiceChild(c, url);
  }

  report(): Promise<ChildReport> {
    return askChild<{ report: ChildReport }>(this.c, 'report', 'report').then((m) => m.report);
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.c.once('exit', r));
    this.c.send({ cmd: 'stop' });
    await exited;
  }
}

async function child(): Promise<void> {
  const { startService } = await import('../src/server/service');
  const { loadClassifierModel } = await import('../src/snn/model/classifier-model');
  const { parseInputUrls } = await import('../src/server/input-url');
  const { scrapeMetrics } = await import('./service-child');
  const decisions: Decision[] = [];
  const service = await startService({ model: loadClassifierModel(MODEL), port: 0, runner: 'typed', inputs: parseInputUrls(JSON.parse(process.env.BENCH_INPUTS ?? '[]') as string[]), onInputNotice: log });
  service.decisions.subscribe((d) => decisions.push(d));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'report') {
      const c = process.cpuUsage();
      void scrapeMetrics(service.address.url).then((metrics) =>
        process.send!({ type: 'report', report: { cpuUs: c.user + c.system, streams: service.server.streams(), metrics: Object.fromEntries(metrics), decisions } }),
      );
    } else if (m.cmd === 'stop') void service.stop(2000).then(() => process.exit(0));
  });
  process.send!({ type: 'ready', url: service.address.url });
}

/** The recording's first `seconds` (all of it with Infinity). */
async function recording(seconds: number): Promise<EventBatch> {
  const parts: EventBatch[] = [];
  for await (const b of readEventFile(RECORDING)) parts.push(b);
  const all = concatBatches(parts);
  return Number.isFinite(seconds) ? sliceByIndex(all, 0, lowerBoundTime(all, all.t[0] + seconds * 1e6)) : all;
}

function paced(events: EventBatch): AsyncGenerator<EventBatch> {
  return paceBatches(
    (async function* () {
      yield events;
    })(),
    REALTIME,
  );
}

/** Sends `events` in real time to UDP `ports` as `format` datagrams of the sender's size. */
async function sendUdp(events: EventBatch, format: UdpFormat, ports: readonly number[]): Promise<number> {
  const s = dgram.createSocket('udp4');
  const per = SENDER_EVENTS_PER_DATAGRAM[format];
  let datagrams = 0;
  let last: Promise<void> = Promise.resolve();
  for await (const b of paced(events)) {
    for (let i = 0; i < b.length; i += per) {
      const d = encodeDatagram(format, b, i, Math.min(b.length, i + per));
      for (const port of ports) {
        last = new Promise<void>((resolve) => s.send(d, port, '127.0.0.1', () => resolve()));
        datagrams++;
      }
    }
  }
  // Sends complete in order: once the last one has, closing loses nothing.
  await last;
  await new Promise<void>((r) => s.close(() => r()));
  return datagrams;
}

interface Transport {
  readonly name: string;
  /** Sets up the sender; returns the service's `--input` URLs (none for WebSocket) and the sending. */
  prepare(events: EventBatch, dir: string): Promise<{ inputs: string[]; send: (service: ServiceChild) => Promise<void>; close?: () => Promise<void> }>;
}

function udpTransport(format: UdpFormat): Transport {
  return {
    name: `udp ${format}`,
    async prepare(events) {
      const port = await freeUdpPort();
      return { inputs: [`udp://127.0.0.1:${port}?format=${format}&width=128&height=128#in`], send: async () => void (await sendUdp(events, format, [port])) };
    },
  };
}

function dvTransport(compression: DvCompression, over: 'tcp' | 'unix'): Transport {
  return {
    name: `dv+${over} ${compression}`,
    async prepare(events, dir) {
      const sock = path.join(fs.mkdtempSync(path.join(dir, 'dv-')), `${compression}.sock`);
      const writer = new DvNetworkWriter({ ...GEOMETRY, compression, listen: over === 'tcp' ? { port: 0 } : { path: sock } });
      const url = await writer.listen();
      return {
        inputs: [`${url}#in`],
        send: async () => {
          while (writer.clientCount === 0) await new Promise((r) => setTimeout(r, 10));
          for await (const b of paced(events)) writer.send(b);
        },
        close: () => writer.close(),
      };
    },
  };
}

const TRANSPORTS: Transport[] = [
  { name: 'websocket', prepare: async (events) => ({ inputs: [], send: async (s) => void (await streamToServer(`${s.url.replace(/^http/, 'ws')}/ingest/in`, paced(events), GEOMETRY)) }) },
  udpTransport('t64_x16_y16_on8'),
  udpTransport('t32_x16_y15_on1'),
  udpTransport('spif-ts'),
  udpTransport('spif'),
  dvTransport('NONE', 'tcp'),
  dvTransport('LZ4', 'tcp'),
  dvTransport('ZSTD', 'tcp'),
  dvTransport('LZ4', 'unix'),
  {
    name: 'fifo evt3',
    async prepare(events, dir) {
      const fifo = path.join(fs.mkdtempSync(path.join(dir, 'fifo-')), 'camera.raw');
      execFileSync('mkfifo', [fifo]);
      return {
        inputs: [`${fifo}#in`],
        send: async () => {
          const out = fs.createWriteStream(fifo);
          out.write(Evt3Encoder.header(GEOMETRY));
          const enc = new Evt3Encoder();
          for await (const b of paced(events)) out.write(enc.encode(b));
          await new Promise<void>((r) => out.end(r));
        },
      };
    },
  },
];

/** Waits until the service has taken every queued event and has been quiet for `settleMs`. */
async function drained(s: ServiceChild, settleMs = 1000): Promise<ChildReport> {
  for (;;) {
    const r = await s.report();
    if (r.streams.every((x) => x.queuedEvents === 0)) {
      await new Promise((res) => setTimeout(res, settleMs));
      return s.report();
    }
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** One run of `t`: a fresh service, the events at real time, drained; the service's CPU seconds and what it received. */
async function runOnce(t: Transport, events: EventBatch, dir: string, warmupS: number): Promise<{ cpu: number; wall: number; received: number; dropped: number; decisions: number }> {
  const { inputs, send, close } = await t.prepare(events, dir);
  const s = await ServiceChild.start(inputs);
  // The first seconds warm a fresh process up (JIT of its decoder): measured from the same moment for every input.
  const sending = send(s);
  await new Promise((r) => setTimeout(r, warmupS * 1000));
  const before = await s.report();
  const t0 = performance.now();
  await sending;
  const after = await drained(s);
  const wall = (performance.now() - t0) / 1000;
  await s.stop();
  await close?.();
  // A WebSocket stream is gone from the list once its sensor closed: its events are in /metrics.
  const received = t.name === 'websocket' ? after.metrics['spikestream_events_in_total'] ?? 0 : after.streams.reduce((a, x) => a + x.enqueuedEvents, 0);
  const dropped = after.streams.reduce((a, x) => a + x.droppedEvents, 0);
  return { cpu: (after.cpuUs - before.cpuUs) / 1e6, wall, received, dropped, decisions: after.decisions.length };
}

/** Every transport `rounds` times, interleaved (so that the machine's load moves all alike); medians and their ratio to WebSocket ingest's. */
async function cpuPerInput(events: EventBatch, dir: string, rounds: number, warmupS: number, only: readonly string[]): Promise<BenchFigure[]> {
  // WebSocket ingest always runs: it is what the others are measured against.
  const transports = TRANSPORTS.filter((t) => t.name === 'websocket' || only.length === 0 || only.some((p) => t.name.startsWith(p)));
  const runs = new Map<string, Awaited<ReturnType<typeof runOnce>>[]>();
  for (let r = 0; r < rounds; r++) {
    for (const [i, t] of transports.entries()) {
      const run = await runOnce(t, events, dir, warmupS);
      runs.set(t.name, [...(runs.get(t.name) ?? []), run]);
      log(`[1/3 round ${r + 1}/${rounds}, ${i + 1}/${transports.length}] ${t.name}: service CPU ${run.cpu.toFixed(2)} s over ${run.wall.toFixed(1)} s, ${run.received}/${events.length} events, ${run.dropped} dropped, ${run.decisions} decisions, load ${os.loadavg()[0].toFixed(1)}`);
    }
  }
  const wsCpu = median(runs.get('websocket')!.map((x) => x.cpu));
  return transports.map((t) => {
    const rs = runs.get(t.name)!;
    const cpu = median(rs.map((x) => x.cpu));
    log(`[1/3] ${t.name}: median service CPU ${cpu.toFixed(3)} s, ×${(cpu / wsCpu).toFixed(3)} WebSocket ingest's`);
    return { name: `service CPU per input: ${t.name}`, unit: 'CPU s (median)', value: cpu, backend: 'typed', machine: machine(), ratioToWebSocket: cpu / wsCpu, cpuPerRound: rs.map((x) => x.cpu), events: events.length, received: rs.map((x) => x.received), dropped: rs.map((x) => x.dropped), decisions: rs.map((x) => x.decisions), loadAvg1: os.loadavg()[0] };
  });
}

async function manyUdp(events: EventBatch, streams: number): Promise<BenchFigure> {
  const ports = await Promise.all(Array.from({ length: streams }, () => freeUdpPort()));
  const s = await ServiceChild.start(ports.map((p, i) => `udp://127.0.0.1:${p}?format=t64_x16_y16_on8&width=128&height=128#cam${i}`));
  const before = await s.report();
  const t0 = performance.now();
  const datagrams = await sendUdp(events, 't64_x16_y16_on8', ports);
  const sendWall = (performance.now() - t0) / 1000;
  const atEnd = await s.report();
  const lagEvents = atEnd.streams.reduce((a, x) => a + x.queuedEvents, 0);
  const after = await drained(s);
  const drainS = (performance.now() - t0) / 1000 - sendWall;
  const cpu = (after.cpuUs - before.cpuUs) / 1e6;
  const received = after.streams.map((x) => x.enqueuedEvents);
  const overflow = after.streams.reduce((a, x) => a + (after.metrics[`spikestream_input_dropped_total{input="${x.streamId}",reason="queue_overflow"}`] ?? 0), 0);
  const lost = streams * events.length - received.reduce((a, b) => a + b, 0);
  log(`[2/3] ${streams} UDP inputs: ${datagrams} datagrams in ${sendWall.toFixed(1)} s; dropped by our queues ${overflow}; lost before reaching us ${lost}; ${after.decisions.length} decisions; service CPU ${(cpu / (sendWall + drainS)).toFixed(2)} of a core; ${lagEvents} events queued at the end, drained in ${drainS.toFixed(2)} s`);
  await s.stop();
  return { name: `${streams} UDP inputs in real time: events dropped by our queues`, unit: 'events', value: overflow, backend: 'typed', machine: machine(), streams, eventsPerStream: events.length, datagrams, lostBeforeUs: lost, minReceived: Math.min(...received), decisions: after.decisions.length, cpuCoreShare: cpu / (sendWall + drainS), lagEventsAtEnd: lagEvents, drainS, loadAvg1: os.loadavg()[0] };
}

/** Confident decisions of `id` that are right against the label windows, its times shifted back by `shiftUs`. */
function scoreStream(decisions: readonly Decision[], id: string, shiftUs: number, windows: ReturnType<typeof parseGestureLabels>): { n: number; right: number; shown: string } {
  const mine = decisions.filter((d) => d.streamId === id);
  const right = (d: Decision): boolean => isRightLive(windows, { ...d, eventTimeUs: d.eventTimeUs - shiftUs });
  const confident = mine.filter((d) => d.confident !== false);
  const shown = mine.map((d) => `${d.label}${d.confident === false ? '?' : right(d) ? '✓' : '✗'}@${((d.eventTimeUs - shiftUs) / 1e6).toFixed(2)}s`).join(' ');
  return { n: confident.length, right: confident.filter(right).length, shown };
}

async function spifAccuracy(dir: string, passes: number): Promise<BenchFigure> {
  const once = await recording(Infinity);
  // `passes` copies of the recording, each after the last (time keeps increasing), as one longer camera session.
  const span = once.t[once.length - 1] - once.t[0] + 1_000_000;
  const events = concatBatches(Array.from({ length: passes }, (_, k) => ({ ...once, t: once.t.map((t) => t + k * span) })));
  const csv = path.join(dir, 'aestream.csv');
  // aestream's real-time mode never sends a file's first event: a copy of it goes first.
  writeEventsCsv(csv, events, { header: false, repeatFirst: true });
  const port = await freeUdpPort();
  const s = await ServiceChild.start([`udp://127.0.0.1:${port}?format=spif&width=128&height=128#spif`]);
  const aestream = new Partner(aestreamBinary(), ['input', 'file', csv, 'output', 'udp', '127.0.0.1', String(port)]);
  const limit = (events.t[events.length - 1] - events.t[0]) / 1000 + 60_000;
  await Promise.all([aestream.done(limit), streamToServer(`${s.url.replace(/^http/, 'ws')}/ingest/ws`, paced(events), GEOMETRY)]);
  const report = await drained(s, 3000);
  await s.stop();
  const windows = parseGestureLabels(fs.readFileSync(LABELS, 'utf8'));
  const allWindows = Array.from({ length: passes }, (_, k) => windows.map((w) => ({ ...w, tStart: w.tStart + k * span, tEnd: w.tEnd + k * span }))).flat();
  const ws = scoreStream(report.decisions, 'ws', 0, allWindows);
  // The receiver's clock against the recording's: AEStream sends its first datagram when the 128th word is in, at that event's time.
  const firstArrival = report.streams.find((x) => x.streamId === 'spif')?.firstEventUs ?? NaN;
  const spif = scoreStream(report.decisions, 'spif', firstArrival - events.t[SENDER_EVENTS_PER_DATAGRAM.spif - 1], allWindows);
  log(`[3/3] ws decisions (class, ✓ right / ✗ wrong / ? uncertain, recording time): ${ws.shown}`);
  log(`[3/3] spif decisions: ${spif.shown}`);
  const points = 100 * (spif.right / spif.n - ws.right / ws.n);
  log(`[3/3] plain SPIF: ${spif.right}/${spif.n} confident decisions right; WebSocket ingest: ${ws.right}/${ws.n}; difference ${points.toFixed(1)} points`);
  return { name: `plain SPIF accuracy minus WebSocket ingest's (confident decisions right; ${passes} pass(es) of the recording, real time)`, unit: 'points', value: points, backend: 'typed', machine: machine(), spif: { n: spif.n, right: spif.right }, websocket: { n: ws.n, right: ws.right }, loadAvg1: os.loadavg()[0] };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const seconds = Number(argValue(args, '--seconds') ?? 12);
  const streams = Number(argValue(args, '--streams') ?? 16);
  const parts = new Set((argValue(args, '--parts') ?? '1,2,3').split(','));
  const rounds = Number(argValue(args, '--rounds') ?? 3);
  const passes = Number(argValue(args, '--spif-passes') ?? 2);
  const only = (argValue(args, '--only') ?? '').split(',').filter((x) => x !== '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-bench-inputs-'));
  const figures: BenchFigure[] = [];
  try {
    const events = await recording(seconds);
    log(`bench:live-inputs: ${seconds} s of ${path.basename(RECORDING)} (${events.length} events) per run; load average ${os.loadavg()[0].toFixed(1)}`);
    if (parts.has('1')) figures.push(...(await cpuPerInput(events, dir, rounds, Math.min(3, seconds / 4), only)));
    if (parts.has('2')) figures.push(await manyUdp(events, streams));
    if (parts.has('3')) figures.push(await spifAccuracy(dir, passes));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  printFigures('live-inputs', figures);
}

if (process.argv.includes('--child')) void child();
else if (require.main === module) void main().catch((err: unknown) => {
  log(`bench:live-inputs: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
