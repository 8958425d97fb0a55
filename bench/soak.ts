/**
 * Soak benchmark: `npm run bench:soak [-- --streams 64 --minutes 60 --threads T --svg docs/soak.svg
 * --log soak.ndjson --row-s 60]`, or `--from-log soak.ndjson --svg docs/soak.svg` to draw a finished log again.
 *
 * N cameras (bench/wire-cameras.ts) replay the bundled recording in real time into the service (a
 * child process, bench/service-child.ts) for the given duration; one subscriber on /decisions.
 * Every minute one row: the service's RSS and CPU, decision latency p50/p99 over the minute's early
 * decisions (as bench:pipeline measures it), decisions in the minute, events sent / taken in /
 * dropped so far, the generator's lateness, the load average; with the rate and an ETA. Rows also
 * go to `--log` (NDJSON) as they come, so a run cut short still leaves its curve.
 *
 * The verdict (issue 24): RSS growth after the first 5 minutes (largest RSS after minute 5 over
 * the RSS at minute 5), p99 flat (median p99 of the last 10 minutes over that of minutes 6–15),
 * and events lost (sent − taken in, plus drops) after the cameras closed. The SVG draws RSS and
 * p99 per minute. Ends with one JSON line of figures.
 */
import * as fs from 'fs';
import * as os from 'os';
import { argValue, machine, median, percentile, printFigures, type BenchFigure } from './common';
import { decisionArrivals, decisionLatencies, latenessP99, loadRecording, type Arrival } from './cameras';
import { droppedEvents, forkService, GEOMETRY, RECORDING, scrapeMetrics, type ChildStats, type ServiceChild } from './service-child';
import { encodeRecording, WireCameras } from './wire-cameras';
import { axes, COLORS, DEFAULT_LAYOUT, extent, legend, open, polyline, scale } from '../src/confidence/svg';
import { defaultThreads } from '../src/cli/thread-options';

/** One minute of the soak. */
export interface SoakRow {
  minute: number;
  /** Seconds since the cameras started when the row was taken (a starved service answers late). */
  elapsedS: number;
  rssMiB: number;
  serviceCpuPct: number;
  p50: number;
  p99: number;
  latencyN: number;
  decisions: number;
  eventsSent: number;
  eventsIn: number;
  dropped: number;
  latenessP99: number;
  loadAverage1: number;
}

interface Window {
  readonly started: number;
  stats: ChildStats;
  wall: number;
  arrivalsSeen: number;
}

/** The minute since `w`: figures from the service, the subscriber and the cameras; moves `w` on. */
async function sampleMinute(minute: number, svc: ServiceChild, cams: WireCameras, arrivals: Arrival[], w: Window): Promise<SoakRow> {
  const stats = await svc.stats();
  const m = await scrapeMetrics(svc.url);
  const now = performance.now();
  const fresh = arrivals.splice(0, arrivals.length);
  const lat = decisionLatencies(fresh, cams.logs);
  const row: SoakRow = {
    minute,
    elapsedS: (now - w.started) / 1000,
    rssMiB: stats.rss / 2 ** 20,
    serviceCpuPct: (100 * (stats.cpuUs - w.stats.cpuUs)) / 1000 / (now - w.wall),
    p50: lat.length ? median(lat) : NaN,
    p99: lat.length ? percentile(lat, 0.99) : NaN,
    latencyN: lat.length,
    decisions: stats.decisions - w.stats.decisions,
    eventsSent: cams.events,
    eventsIn: m.get('spikestream_events_in_total') ?? 0,
    dropped: droppedEvents(m),
    latenessP99: latenessP99(cams.lateness),
    loadAverage1: os.loadavg()[0],
  };
  cams.trim(now - 30_000); // decisions arrive well within 30 s of their slice
  Object.assign(w, { stats, wall: now, arrivalsSeen: w.arrivalsSeen + fresh.length });
  return row;
}

function printRow(r: SoakRow, totalS: number, started: number): void {
  const elapsedS = (performance.now() - started) / 1000;
  const eta = Math.max(0, totalS - elapsedS);
  process.stdout.write(
    `${String(r.minute).padStart(6)} | ${r.rssMiB.toFixed(0).padStart(7)} | ${r.serviceCpuPct.toFixed(0).padStart(5)}% | ${r.p50.toFixed(1).padStart(6)} / ${r.p99.toFixed(1).padStart(6)} (${r.latencyN}) | ${String(r.decisions).padStart(9)} | ${String(r.eventsSent).padStart(11)} | ${String(r.eventsIn).padStart(11)} | ${String(r.dropped).padStart(7)} | ${r.latenessP99.toFixed(1).padStart(8)} | ${r.loadAverage1.toFixed(1).padStart(5)} | ${(r.eventsIn / elapsedS / 1e3).toFixed(0)} kev/s, ETA ${Math.floor(eta / 60)}m${String(Math.round(eta % 60)).padStart(2, '0')}s\n`,
  );
}

/** The three checks over the rows (and the final counts). */
export function soakVerdict(rows: readonly SoakRow[], final: { eventsSent: number; eventsIn: number; dropped: number }): { rssGrowth: number; p99Ratio: number; eventsLost: number } {
  const at5 = rows.find((r) => r.minute === 5) ?? rows[0];
  const after = rows.filter((r) => r.minute >= (at5?.minute ?? 0));
  const rssGrowth = at5 ? Math.max(...after.map((r) => r.rssMiB)) / at5.rssMiB - 1 : NaN;
  const early = rows.filter((r) => r.minute >= 6 && r.minute <= 15).map((r) => r.p99).filter(Number.isFinite);
  const late = rows.slice(-10).map((r) => r.p99).filter(Number.isFinite);
  const p99Ratio = early.length && late.length ? median(late) / median(early) : NaN;
  return { rssGrowth, p99Ratio, eventsLost: final.eventsSent - final.eventsIn + final.dropped };
}

/** RSS (left axis) and decision latency p99 (right axis) per minute. */
export function soakSvg(rows: readonly SoakRow[], title: string): string {
  const L = DEFAULT_LAYOUT;
  const parts = open(title, L);
  const xs = rows.map((r) => r.minute);
  const x = scale(0, Math.max(1, ...xs), L.m.left, L.w - L.m.right);
  const [rssLo, rssHi] = extent(rows.map((r) => r.rssMiB), 0.1);
  const y = scale(Math.min(0, rssLo), rssHi, L.h - L.m.bottom, L.m.top);
  const [, p99Hi] = extent(rows.map((r) => r.p99), 0.1);
  const y2 = scale(0, p99Hi, L.h - L.m.bottom, L.m.top);
  axes(parts, x, y, 'minute', 'service RSS (MiB)', { y2, y2Label: 'decision latency p99 (ms)' });
  parts.push(polyline(xs, rows.map((r) => r.rssMiB), x, y, COLORS[0], false, 'series rss'));
  parts.push(polyline(xs, rows.map((r) => r.p99), x, y2, COLORS[3], true, 'series p99'));
  legend(parts, [
    { label: 'RSS (left)', color: COLORS[0] },
    { label: 'p99 latency (right)', color: COLORS[3], dash: true },
  ]);
  parts.push('</svg>');
  return parts.join('\n');
}

function soakFigures(rows: readonly SoakRow[], final: { eventsSent: number; eventsIn: number; dropped: number }, o: { streams: number; minutes: number; threads: number }): BenchFigure[] {
  const mach = machine();
  const v = soakVerdict(rows, final);
  const put = (name: string, unit: string, value: number): BenchFigure => ({ name, unit, value: Number(value.toPrecision(4)), backend: 'js', machine: mach, ...o, loadAverage: os.loadavg() });
  return [
    put('soak_rss_growth_after_5min', 'fraction', v.rssGrowth),
    put('soak_p99_last10_over_min6to15', 'ratio', v.p99Ratio),
    put('soak_events_lost', 'events', v.eventsLost),
    put('soak_decisions', 'decisions', rows.reduce((s, r) => s + r.decisions, 0)),
    put('soak_p99_median_per_minute', 'ms', median(rows.map((r) => r.p99).filter(Number.isFinite))),
    put('soak_service_cpu_median_per_minute', '% of one core', median(rows.map((r) => r.serviceCpuPct))),
  ];
}

async function soak(streams: number, minutes: number, threads: number, log: string | undefined, rowS: number): Promise<{ rows: SoakRow[]; final: { eventsSent: number; eventsIn: number; dropped: number } }> {
  const { batches } = await loadRecording(RECORDING);
  const svc = await forkService({ slots: Math.max(32, streams), threads });
  const { ws: sub, arrivals } = await decisionArrivals(svc.url);
  const cams = new WireCameras(svc.url, encodeRecording(batches, GEOMETRY), streams, { prefix: 'soak', seconds: minutes * rowS });
  const now = performance.now();
  const w: Window = { started: now, stats: await svc.stats(), wall: now, arrivalsSeen: 0 };
  const started = w.wall;
  const rows: SoakRow[] = [];
  const running = cams.run();
  process.stdout.write(' minute | RSS MiB |   CPU | latency p50 / p99 ms | decisions | events sent |   events in | dropped | late p99 | load1 | progress\n');
  for (let minute = 1; minute <= minutes; minute++) {
    await new Promise((r) => setTimeout(r, Math.max(0, started + minute * rowS * 1000 - performance.now())));
    const row = await sampleMinute(minute, svc, cams, arrivals, w);
    rows.push(row);
    printRow(row, minutes * rowS, started);
    if (log) fs.appendFileSync(log, JSON.stringify(row) + '\n');
  }
  await running;
  await new Promise((r) => setTimeout(r, 2000)); // the last events through the queue
  const m = await scrapeMetrics(svc.url);
  const final = { eventsSent: cams.events, eventsIn: m.get('spikestream_events_in_total') ?? 0, dropped: droppedEvents(m) };
  sub.close();
  await svc.stop();
  if (cams.closedEarly.size > 0) process.stdout.write(`${cams.closedEarly.size} camera(s) closed early\n`);
  return { rows, final };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const svg = argValue(args, '--svg');
  const fromLog = argValue(args, '--from-log');
  const streams = Number(argValue(args, '--streams') ?? 64);
  const minutes = Number(argValue(args, '--minutes') ?? 60);
  const threads = Number(argValue(args, '--threads') ?? defaultThreads());
  const rowS = Number(argValue(args, '--row-s') ?? 60); // seconds per row: 60 (a quick check may use less)
  let rows: SoakRow[];
  let final: { eventsSent: number; eventsIn: number; dropped: number };
  if (fromLog) {
    rows = fs.readFileSync(fromLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SoakRow);
    const last = rows[rows.length - 1];
    final = { eventsSent: last.eventsSent, eventsIn: last.eventsIn, dropped: last.dropped };
  } else {
    process.stdout.write(`soak bench: ${streams} cameras in real time (${RECORDING}, wrapped) for ${minutes} min; service in a child process (${threads} worker thread${threads === 1 ? '' : 's'})\n${machine()}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
    ({ rows, final } = await soak(streams, minutes, threads, argValue(args, '--log'), rowS));
  }
  const v = soakVerdict(rows, final);
  process.stdout.write(`RSS growth after minute 5: ${(100 * v.rssGrowth).toFixed(1)}% · p99 last 10 min / minutes 6–15: ${v.p99Ratio.toFixed(2)}× · events lost: ${v.eventsLost} (sent ${final.eventsSent}, taken in ${final.eventsIn}, dropped ${final.dropped})\n`);
  if (svg) fs.writeFileSync(svg, soakSvg(rows, `Soak: ${streams} live streams, ${rows.length} min — RSS and decision latency p99 per minute`) + '\n');
  printFigures('soak', soakFigures(rows, final, { streams, minutes: rows.length, threads }));
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`bench:soak: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
