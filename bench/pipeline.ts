/**
 * Live pipeline benchmark: `node dist/bench/pipeline.js [--max N] [--seconds S] [--levels 1,2,4]
 * [--threads T] [--p99 ms] [--thetas calibrated,1] [--all-levels] [--on-decided next-sample]
 * [--profile DIR]` (or `npm run bench:pipeline`). `--profile DIR`: the service runs under `node
 * --cpu-prof`, one .cpuprofile per level in DIR (open it in Chrome DevTools). `--thetas
 * calibrated,1`: each level runs once per θ, back to back, and the service's CPU ratio is printed
 * (θ = 1 never stops early). `--all-levels`: go on past a level that is not sustained.
 * `--on-decided`: the service's mode after an early decision (default: the service's own).
 *
 * Setup (two processes, because the machine has 2 cores and the service should be measured
 * alone): a forked child runs the service (bench/service-child.ts: `startService`, bundled model,
 * 127.0.0.1, port 0, T worker threads classifying — default the CLI's `defaultThreads` — and its
 * main thread on the sockets); this process is the load generator: N simulated cameras
 * (`runWireCameras`, one WebSocket each, pre-encoded wire messages shared by all) replay the
 * bundled 28 s recording in real time — camera i starts at slice ⌊i·S/N⌋ of the recording and
 * wraps around (time kept monotone), i.e. DVS128-Gesture rates, ~13.5 kev/s per camera — plus one
 * WebSocket subscriber on /decisions. Each level runs S seconds (default 10).
 *
 * Decision latency: from the wall time the event that closed the deciding bin was sent (the
 * first event at/after the decision's eventTimeUs; recorded per 10 ms paced slice as it is
 * handed to the socket) to the decision's arrival at the subscriber — both clocks in this
 * process. Counted over early decisions (their deciding frame was closed by that event; a
 * non-early sample's last frame may be closed by the segmenter's quiet-gap end instead).
 *
 * A level is sustained in real time when: every event sent was accepted (spikestream_events_in
 * = events sent, no queue/rate-limit drops, no buffer drops in the pipeline); decision latency
 * p99 ≤ --p99 ms (default 50); no backlog growth (events queued in the server, sampled from
 * /health every 250 ms, never above one second of input: N × 13.5 k); and the generator kept
 * its pace (p99 lateness of its slices ≤ 50 ms — otherwise the level says "generator-bound").
 * Per level: latency p50/p99, the service's CPU (process.cpuUsage, % of one core) and RSS, the
 * generator's CPU, and the work saved by early termination (steps saved / steps without it,
 * early-decision rate). Ends with one JSON line of figures.
 */
import * as os from 'os';
import { argValue, machine, median, percentile, printFigures, type BenchFigure } from './common';
import type { OnDecided } from '../streams/core/live-segmenter';
import { defaultThreads } from '../src/cli/thread-options';
import { decisionArrivals, decisionLatencies, latenessP99, loadRecording } from './cameras';
import { droppedEvents, forkService, GEOMETRY, RECORDING, scrapeMetrics } from './service-child';
import { encodeRecording, runWireCameras, type EncodedRecording } from './wire-cameras';

interface Level {
  n: number;
  sustained: boolean;
  why: string[];
  p50: number;
  p99: number;
  latencyN: number;
  serviceCpuPct: number;
  serviceCpuPerStreamPct: number;
  generatorCpuPct: number;
  rssMiB: number;
  eventsSent: number;
  eventsIn: number;
  decisions: number;
  earlyRate: number;
  stepsSavedFrac: number;
  maxQueued: number;
  lagP99: number;
  maxBatch: number;
  loadAverage: number;
}

async function runLevel(n: number, seconds: number, p99Bound: number, rec: EncodedRecording, threads: number, theta: number | undefined, profile?: string): Promise<Level> {
  const profileAt = profile ? { dir: profile, name: `service-${n}streams${theta === undefined ? '' : `-theta${theta}`}.cpuprofile` } : undefined;
  const c = await forkService({ slots: Math.max(32, n), threads, theta, profile: profileAt, onDecided: argValue(process.argv, '--on-decided') as OnDecided | undefined });
  const url = c.url;
  const { ws: sub, arrivals } = await decisionArrivals(url);

  let maxQueued = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const h = (await (await fetch(`${url}/health`)).json()) as { streams: { queuedEvents: number }[] };
        maxQueued = Math.max(maxQueued, h.streams.reduce((a, s) => a + s.queuedEvents, 0));
      } catch {
        /* closing */
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  const before = await c.stats();
  const genCpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const sent = await runWireCameras(url, rec, n, { prefix: 'cam', seconds });
  const wall = performance.now() - wall0;
  const gen = process.cpuUsage(genCpu0);
  await new Promise((r) => setTimeout(r, 300)); // last decisions
  sampling = false;
  await sampler;
  const after = await c.stats();
  const m = await scrapeMetrics(url);
  sub.close();
  await c.stop();

  const lat = decisionLatencies(arrivals, sent.logs);
  const eventsSent = sent.events;
  const eventsIn = m.get('spikestream_events_in_total') ?? 0;
  const dropped = droppedEvents(m);
  const decisions = after.decisions - before.decisions;
  const early = after.early - before.early;
  const saved = after.stepsSaved - before.stepsSaved;
  const run = after.stepsRun - before.stepsRun;
  const p50 = lat.length ? median(lat) : NaN;
  const p99 = lat.length ? percentile(lat, 0.99) : NaN;
  const lagP99 = latenessP99(sent.lateness);
  const why: string[] = [];
  if (eventsIn !== eventsSent) why.push(`events in ${eventsIn} ≠ sent ${eventsSent}`);
  if (dropped > 0) why.push(`${dropped} events dropped`);
  if (!(p99 <= p99Bound)) why.push(`latency p99 ${p99.toFixed(1)} ms > ${p99Bound} ms`);
  if (maxQueued > n * 13_500) why.push(`backlog ${maxQueued} events queued`);
  if (lagP99 > 50) why.push(`generator-bound (slice lateness p99 ${lagP99.toFixed(1)} ms)`);
  if (decisions === 0) why.push('no decisions');
  if (sent.closedEarly.size > 0) why.push(`${sent.closedEarly.size} camera(s) closed early (${[...sent.closedEarly][0].join(': ')})`);
  return {
    n,
    sustained: why.length === 0,
    why,
    p50,
    p99,
    latencyN: lat.length,
    serviceCpuPct: (100 * (after.cpuUs - before.cpuUs)) / 1000 / wall,
    serviceCpuPerStreamPct: (100 * (after.cpuUs - before.cpuUs)) / 1000 / wall / n,
    generatorCpuPct: (100 * (gen.user + gen.system)) / 1000 / wall,
    rssMiB: after.rss / 2 ** 20,
    eventsSent,
    eventsIn,
    decisions,
    earlyRate: decisions > 0 ? early / decisions : 0,
    stepsSavedFrac: run + saved > 0 ? saved / (run + saved) : 0,
    maxQueued,
    lagP99,
    maxBatch: after.maxBatch,
    loadAverage: os.loadavg()[0],
  };
}

/** One row of the table. */
function row(L: Level, theta: string): string {
  const cells = [
    String(L.n).padStart(8),
    theta.padStart(5),
    (L.sustained ? 'yes' : 'NO').padEnd(9),
    `${L.p50.toFixed(1).padStart(8)} / ${L.p99.toFixed(1).padStart(6)} (${L.latencyN})`,
    `${L.serviceCpuPct.toFixed(0).padStart(9)}%`,
    `${L.serviceCpuPerStreamPct.toFixed(2).padStart(9)}%`,
    `${L.generatorCpuPct.toFixed(0).padStart(6)}%`,
    L.rssMiB.toFixed(0).padStart(7),
    String(L.eventsIn).padStart(9),
    String(L.decisions).padStart(9),
    `${(100 * L.earlyRate).toFixed(0).padStart(4)}%`,
    `${(100 * L.stepsSavedFrac).toFixed(1).padStart(10)}%`,
    String(L.maxQueued).padStart(10),
    L.loadAverage.toFixed(1).padStart(5),
    L.why.join('; '),
  ];
  return cells.join(' | ') + '\n';
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const max = Number(argValue(args, '--max') ?? 256);
  const seconds = Number(argValue(args, '--seconds') ?? 10);
  const p99Bound = Number(argValue(args, '--p99') ?? 50);
  const threads = Number(argValue(args, '--threads') ?? defaultThreads());
  // '--thetas calibrated,1': each level once per θ, back to back (θ = 1 never stops early).
  const thetas = (argValue(args, '--thetas') ?? 'calibrated').split(',').map((t) => (t === 'calibrated' ? undefined : Number(t)));
  const keepGoing = args.includes('--all-levels');
  const levels = (argValue(args, '--levels') ?? '1,2,4,8,16,32,48,64,96,128,192,256')
    .split(',')
    .map(Number)
    .filter((x) => x >= 1 && x <= max);
  const { batches, period } = await loadRecording(RECORDING);
  const rec = encodeRecording(batches, GEOMETRY);
  const mach = machine();
  process.stdout.write(`pipeline bench: bundled model, ${RECORDING} (${(period / 1e6).toFixed(1)} s) in real time per camera (pre-encoded wire messages shared by all cameras), ${seconds} s per level; service in a child process (${threads} worker thread${threads === 1 ? '' : 's'}${threads === 1 ? ', i.e. all on its main thread' : ' + its main thread on the sockets'}), cameras + subscriber here\n${mach}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
  process.stdout.write(' streams | theta | sustained | latency p50 / p99 ms | service CPU | per stream | gen CPU | RSS MiB | events in | decisions | early | steps saved | max queued | load1 | notes\n');
  const done: (Level & { theta: number | undefined })[] = [];
  for (const n of levels) {
    let all = true;
    for (const theta of thetas) {
      const L = await runLevel(n, seconds, p99Bound, rec, threads, theta, argValue(args, '--profile'));
      done.push({ ...L, theta });
      process.stdout.write(row(L, theta === undefined ? 'cal' : String(theta)));
      all &&= L.sustained;
    }
    if (thetas.length === 2) {
      const [a, b] = done.slice(-2);
      process.stdout.write(`         service CPU θ ${a.theta ?? 'calibrated'} / θ ${b.theta ?? 'calibrated'} at ${n} streams: ${(a.serviceCpuPct / b.serviceCpuPct).toFixed(2)}×\n`);
    }
    if (!all && !keepGoing) break;
  }
  printFigures('pipeline', pipelineFigures(done, { mach, p99Bound, seconds, threads }));
}

function pipelineFigures(done: readonly (Level & { theta: number | undefined })[], o: { mach: string; p99Bound: number; seconds: number; threads: number }): BenchFigure[] {
  const figures: BenchFigure[] = [];
  const put = (name: string, unit: string, value: number, extra: Record<string, unknown> = {}) =>
    figures.push({ name, unit, value: Number(value.toPrecision(4)), backend: 'js', machine: o.mach, ...extra });
  const calibrated = done.filter((l) => l.theta === undefined);
  const best = calibrated.filter((l) => l.sustained).pop();
  put('pipeline_max_realtime_streams', 'streams', best ? best.n : 0, { p99BoundMs: o.p99Bound, secondsPerLevel: o.seconds, tested: calibrated.map((l) => l.n), threads: o.threads, loadAverage: os.loadavg() });
  for (const l of done) {
    const tag = l.theta === undefined ? '' : `_theta${l.theta}`;
    const at = { streams: l.n, sustained: l.sustained, theta: l.theta ?? 'calibrated', loadAverage1: l.loadAverage };
    put(`pipeline_decision_latency_p50_${l.n}streams${tag}`, 'ms', l.p50, at);
    put(`pipeline_decision_latency_p99_${l.n}streams${tag}`, 'ms', l.p99, at);
    put(`pipeline_service_cpu_${l.n}streams${tag}`, '% of one core', l.serviceCpuPct, at);
    put(`pipeline_service_cpu_per_stream_${l.n}streams${tag}`, '% of one core', l.serviceCpuPerStreamPct, at);
    put(`pipeline_generator_cpu_${l.n}streams${tag}`, '% of one core', l.generatorCpuPct, at);
    put(`pipeline_service_rss_${l.n}streams${tag}`, 'MiB', l.rssMiB, at);
    put(`pipeline_steps_saved_fraction_${l.n}streams${tag}`, 'fraction', l.stepsSavedFrac, at);
    put(`pipeline_early_decision_rate_${l.n}streams${tag}`, 'fraction', l.earlyRate, at);
  }
  for (const l of done.filter((d) => d.theta !== undefined)) {
    const cal = calibrated.find((c) => c.n === l.n);
    if (cal) put(`pipeline_service_cpu_ratio_calibrated_vs_theta${l.theta}_${l.n}streams`, 'ratio', cal.serviceCpuPct / l.serviceCpuPct, { streams: l.n });
  }
  return figures;
}

main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
