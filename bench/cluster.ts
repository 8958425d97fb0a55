/**
 * Cluster benchmark: `npm run bench:cluster` (`node dist/bench/cluster.js [--workers 1,2]
 * [--levels 8,16,32,48,64] [--seconds S] [--p99 ms] [--batch-ms 0,20]`); `--batch-ms` runs one
 * cluster per value of the gateway's `--batch-ms` (how long a sensor message waits to be stored
 * with the next ones as one JetStream message).
 *
 * Setup, per worker count k: a nats-server of its own (JetStream file store in a temporary
 * folder), one gateway (`spikestream serve --nats`) and k workers (`spikestream worker`), each a
 * process of the built CLI; this process is the load generator — N simulated cameras replaying
 * the bundled 28 s recording in real time (camera i from offset i/N, wrapped: DVS128-Gesture
 * rates, ~13.5 kev/s each) into the gateway, and one subscriber on the gateway's /decisions.
 * Each level runs S seconds (default 10) with its own stream ids; levels go up until one is not
 * sustained.
 *
 * Decision latency: from the wall time the event that closed the deciding bin was sent to the
 * decision's arrival at the subscriber (both clocks here), over early decisions — the whole path:
 * gateway → JetStream → worker → JetStream → gateway → subscriber — after a warm-up (--warmup-s,
 * default 2): a new stream first waits for a worker to take its lease and catches up; the time
 * from a stream's first event sent to a worker taking it is reported apart.
 *
 * A level is sustained in real time when: every event sent was accepted by the gateway and none
 * was dropped on the way to JetStream; decision latency p99 ≤ --p99 ms (default 100); the
 * workers' lag (events stored but not yet read, sampled every 500 ms) never above one second of
 * input (N × 13.5 k events); and the generator kept its pace (slice lateness p99 ≤ 50 ms).
 * CPU per process (from /proc, % of one core over the level): nats-server, gateway, workers; the
 * broker's share is nats-server's CPU over the cluster's (nats + gateway + workers).
 * Ends with one JSON line of figures.
 */
import * as fs from 'fs';
import * as os from 'os';
import { argValue, machine, median, percentile, printFigures, type BenchFigure } from './common';
import { decisionArrivals, decisionLatencies, latenessP99, loadRecording } from './cameras';
import { encodeRecording, runWireCameras, type EncodedRecording } from './wire-cameras';
import { type Cluster, natsServerPath, RECORDING, scrape, sleep, startCluster } from '../test/broker/cluster';

const GEOMETRY = { width: 128, height: 128 };
const EVENTS_PER_SECOND = 13_500;
const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

/** CPU seconds a process has used (user + system), from /proc; 0 when unreadable. */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

interface Level {
  n: number;
  /** Median and largest time from a stream's first event sent to a worker taking its lease (ms). */
  takenP50: number;
  takenMax: number;
  sustained: boolean;
  why: string[];
  p50: number;
  p99: number;
  latencyN: number;
  decisions: number;
  natsCpuPct: number;
  gatewayCpuPct: number;
  workersCpuPct: number;
  brokerShare: number;
  generatorCpuPct: number;
  maxLag: number;
  loadAverage: number;
}

async function runLevel(c: Cluster, n: number, seconds: number, warmupS: number, p99Bound: number, rec: EncodedRecording): Promise<Level> {
  const gatewayUrl = c.gateways[0].url;
  const prefix = `L${n}x`;
  const { ws: sub, arrivals: all } = await decisionArrivals(gatewayUrl);
  const pids = { nats: c.nats.pid, gateway: c.gateways[0].proc.pid, workers: c.workers.map((w) => w.pid) };
  const cpu = (): { nats: number; gateway: number; workers: number } => ({ nats: cpuSeconds(pids.nats), gateway: cpuSeconds(pids.gateway), workers: pids.workers.reduce((s, p) => s + cpuSeconds(p), 0) });
  const gw0 = await scrape(gatewayUrl);

  let maxLag = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const lags = await Promise.all(c.workerUrls.map((u) => scrape(u).then((m) => m.get('spikestream_worker_lag_events') ?? 0, () => 0)));
      maxLag = Math.max(maxLag, lags.reduce((a, b) => a + b, 0));
      await sleep(500);
    }
  })();

  const cpu0 = cpu();
  const gen0 = process.cpuUsage();
  const wall0 = performance.now();
  const sent = await runWireCameras(gatewayUrl, rec, n, { prefix, seconds });
  const logs = sent.logs;
  await sleep(1000); // the last decisions on their way back
  const wall = (performance.now() - wall0) / 1000;
  const cpu1 = cpu();
  const gen = process.cpuUsage(gen0);
  sampling = false;
  await sampler;
  const gw1 = await scrape(gatewayUrl);
  sub.close();

  const arrivals = all.filter((a) => a.streamId.startsWith(prefix));
  const delta = (name: string): number => (gw1.get(name) ?? 0) - (gw0.get(name) ?? 0);
  const lat = decisionLatencies(arrivals.filter((a) => a.eventTimeUs >= warmupS * 1e6), logs);
  // Worker lines carry Date.now() of when this process read them; slices carry performance.now().
  const clockOffset = Date.now() - performance.now();
  const taken = [...logs]
    .map(([id, log]) => (c.workers.flatMap((w) => w.of('acquired')).find((l) => l.value.streamId === id)?.at ?? NaN) - clockOffset - log.sentAt[0])
    .filter((x) => Number.isFinite(x));
  const p50 = lat.length ? median(lat) : NaN;
  const p99 = lat.length ? percentile(lat, 0.99) : NaN;
  const eventsSent = sent.events;
  const eventsIn = delta('spikestream_events_in_total');
  const dropped = delta('spikestream_broker_dropped_messages_total') + delta('spikestream_events_dropped_total{reason="queue_overflow"}') + delta('spikestream_events_dropped_total{reason="rate_limit"}');
  const pct = (s: number): number => (100 * s) / wall;
  const nats = cpu1.nats - cpu0.nats;
  const gateway = cpu1.gateway - cpu0.gateway;
  const workers = cpu1.workers - cpu0.workers;
  const why: string[] = [];
  if (eventsIn !== eventsSent) why.push(`events in ${eventsIn} ≠ sent ${eventsSent}`);
  if (dropped > 0) why.push(`${dropped} dropped`);
  if (!(p99 <= p99Bound)) why.push(`latency p99 ${p99.toFixed(1)} ms > ${p99Bound} ms`);
  if (maxLag > n * EVENTS_PER_SECOND) why.push(`lag ${maxLag} events`);
  const late = latenessP99(sent.lateness);
  if (late > 50) why.push(`generator-bound (slice lateness p99 ${late.toFixed(1)} ms)`);
  if (arrivals.length === 0) why.push('no decisions');
  if (sent.closedEarly.size > 0) why.push(`${sent.closedEarly.size} camera(s) closed early`);
  return {
    n,
    takenP50: taken.length ? median(taken) : NaN,
    takenMax: taken.length ? Math.max(...taken) : NaN,
    sustained: why.length === 0,
    why,
    p50,
    p99,
    latencyN: lat.length,
    decisions: arrivals.length,
    natsCpuPct: pct(nats),
    gatewayCpuPct: pct(gateway),
    workersCpuPct: pct(workers),
    brokerShare: nats + gateway + workers > 0 ? nats / (nats + gateway + workers) : 0,
    generatorCpuPct: (100 * (gen.user + gen.system)) / 1e6 / wall,
    maxLag,
    loadAverage: os.loadavg()[0],
  };
}

/** CPU per stream (% of one core) of each process kind and of the whole path. */
function perStream(L: Level): string {
  const each = [L.natsCpuPct, L.gatewayCpuPct, L.workersCpuPct, L.natsCpuPct + L.gatewayCpuPct + L.workersCpuPct].map((x) => (x / L.n).toFixed(2));
  return `${each.join(' / ')} %`.padStart(26);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const bin = natsServerPath();
  if (!bin) throw new Error('nats-server is not installed (Debian: apt-get install nats-server)');
  const seconds = Number(argValue(args, '--seconds') ?? 10);
  const warmupS = Number(argValue(args, '--warmup-s') ?? 2);
  const p99Bound = Number(argValue(args, '--p99') ?? 100);
  const workerCounts = (argValue(args, '--workers') ?? '1,2').split(',').map(Number);
  const levels = (argValue(args, '--levels') ?? '8,16,32,48,64').split(',').map(Number);
  const { batches } = await loadRecording(RECORDING);
  const rec = encodeRecording(batches, GEOMETRY);
  const mach = machine();
  process.stdout.write(
    `cluster bench: nats-server + 1 gateway + k workers (processes), N cameras in real time here (${RECORDING}, ${seconds} s per level), one subscriber on the gateway\n${mach}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`,
  );
  const figures: BenchFigure[] = [];
  const put = (name: string, unit: string, value: number, extra: Record<string, unknown> = {}): void =>
    void figures.push({ name, unit, value: Number(value.toPrecision(4)), backend: 'js', machine: mach, ...extra });
  // '--batch-ms 0,20': the gateway storing each sensor message alone, then batching (one cluster each).
  const batchList = (argValue(args, '--batch-ms') ?? '').split(',').filter(Boolean).map(Number);
  for (const [batchMs, k] of (batchList.length ? batchList : [undefined]).flatMap((b) => workerCounts.map((w) => [b, w] as const))) {
    const tag = `${k}workers${batchMs === undefined ? '' : `_batch${batchMs}ms`}`;
    const gatewayArgs = ['--max-streams', '1024', ...(batchMs === undefined ? [] : ['--batch-ms', String(batchMs)])];
    const c = await startCluster(bin, { workers: Array.from({ length: k }, (_, i) => `bench${i + 1}`), gateways: 1, workerArgs: ['--slots', '256'], gatewayArgs });
    process.stdout.write(`\n${k} worker${k === 1 ? '' : 's'}${batchMs === undefined ? '' : `, gateway batching ${batchMs} ms`}:\n streams | sustained | latency p50 / p99 ms | lease taken after p50 / max ms | nats CPU | gateway CPU | workers CPU | broker share | per stream: nats / gateway / workers / all | gen CPU | max lag | decisions | load1 | notes\n`);
    const done: Level[] = [];
    try {
      for (const n of levels) {
        const L = await runLevel(c, n, seconds, warmupS, p99Bound, rec);
        done.push(L);
        process.stdout.write(
          `${String(n).padStart(8)} | ${(L.sustained ? 'yes' : 'NO').padEnd(9)} | ${L.p50.toFixed(1).padStart(8)} / ${L.p99.toFixed(1).padStart(6)} (${L.latencyN}) | ${L.takenP50.toFixed(0).padStart(17)} / ${L.takenMax.toFixed(0).padStart(5)} | ${L.natsCpuPct.toFixed(0).padStart(7)}% | ${L.gatewayCpuPct.toFixed(0).padStart(10)}% | ${L.workersCpuPct.toFixed(0).padStart(10)}% | ${(100 * L.brokerShare).toFixed(0).padStart(11)}% | ${perStream(L)} | ${L.generatorCpuPct.toFixed(0).padStart(6)}% | ${String(L.maxLag).padStart(7)} | ${String(L.decisions).padStart(9)} | ${L.loadAverage.toFixed(1).padStart(5)} | ${L.why.join('; ')}\n`,
        );
        if (!L.sustained) break;
        await sleep(1000);
      }
    } finally {
      await c.stop();
    }
    const best = done.filter((l) => l.sustained).pop();
    put(`cluster_max_realtime_streams_${tag}`, 'streams', best ? best.n : 0, { workers: k, p99BoundMs: p99Bound, secondsPerLevel: seconds, tested: done.map((l) => l.n), loadAverage: os.loadavg() });
    for (const l of done) {
      const at = { workers: k, streams: l.n, sustained: l.sustained, ...(batchMs === undefined ? {} : { batchMs }) };
      put(`cluster_decision_latency_p50_${tag}_${l.n}streams`, 'ms', l.p50, at);
      put(`cluster_decision_latency_p99_${tag}_${l.n}streams`, 'ms', l.p99, at);
      put(`cluster_lease_taken_max_${tag}_${l.n}streams`, 'ms', l.takenMax, at);
      put(`cluster_broker_cpu_${tag}_${l.n}streams`, '% of one core', l.natsCpuPct, at);
      put(`cluster_broker_cpu_share_${tag}_${l.n}streams`, 'fraction', l.brokerShare, at);
      put(`cluster_workers_cpu_${tag}_${l.n}streams`, '% of one core', l.workersCpuPct, at);
      put(`cluster_gateway_cpu_${tag}_${l.n}streams`, '% of one core', l.gatewayCpuPct, at);
      put(`cluster_cpu_per_stream_${tag}_${l.n}streams`, '% of one core', (l.natsCpuPct + l.gatewayCpuPct + l.workersCpuPct) / l.n, { ...at, nats: l.natsCpuPct / l.n, gateway: l.gatewayCpuPct / l.n, workers: l.workersCpuPct / l.n, loadAverage1: l.loadAverage });
      put(`cluster_generator_cpu_${tag}_${l.n}streams`, '% of one core', l.generatorCpuPct, at);
    }
  }
  printFigures('cluster', figures);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:cluster: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
