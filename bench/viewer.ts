/**
 * Viewer benchmark: `node dist/bench/viewer.js [--streams 64] [--pages 4] [--seconds 15]
 * [--preview-fps 20] [--p99 50] [--browser-nice 10]` (or `npm run bench:viewer`).
 *
 * Does the service keep real time with open viewer pages? Two phases on the same load: N live
 * streams (bench/cameras.ts: the bundled recording replayed in real time per camera, from
 * offset i/N) against the service with its viewer on, first with no page open, then with P
 * pages of the viewer open in a real headless Chromium (one browser context each, so that every
 * page is visible and animates). The service runs in a forked child (as in bench:pipeline);
 * cameras, a decision subscriber and the browser are driven from this process.
 *
 * A phase keeps real time when every event sent was accepted (no queue or rate-limit drops),
 * the decision latency p99 (cameras.ts: from the sending of the event that closed the deciding
 * bin to the decision's arrival) is ≤ --p99 ms, and the cameras kept their pace. Reported per
 * phase: latency p50/p99, the service's CPU (% of one core) and RSS, the browser's CPU (all its
 * processes), and per page: frames drawn per second (the page draws on demand, at most 20 a
 * second, only the panels on screen), how late those frames came against their plan (a busy
 * main thread), event images painted, preview frames and traces received per second; what the
 * pages missed (preview frames and messages dropped for slow subscribers). Ends with one JSON
 * line of figures.
 *
 * The browser shares this machine with the service and the cameras; it runs at nice
 * --browser-nice (default 10), so that it takes what they leave — as a page on another machine
 * would — and its frame rate shows what that leftover allows.
 */
import { fork } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Page } from 'puppeteer-core';
import { argValue, askChild, machine, median, percentile, printFigures, type BenchFigure } from './common';
import { decisionArrivals, decisionLatencies, latenessP99, loadRecording, loggedCamera, type SliceLog } from './cameras';
import { streamToServer } from '../src/client/sensor-client';
import type { ViewerFigures } from '../src/server/viewer';
import { closeBrowser, findChromium, launchBrowser, NO_CHROMIUM, type LaunchedBrowser } from '../test/viewer/browser';

const ROOT = path.resolve(__dirname, '..', '..');
const MODEL = path.join(ROOT, 'models', 'gesture');
const RECORDING = path.join(ROOT, 'recordings', 'gestures', 'user30_natural.aedat');
const GEOMETRY = { width: 128, height: 128 };

interface ServiceSample {
  cpuUs: number;
  rss: number;
}

// ---------------------------------------------------------------- the service (child process)
async function child(): Promise<void> {
  const { startService } = await import('../src/server/service');
  const { loadClassifierModel } = await import('../src/snn/model/classifier-model');
  const n = Number(process.env.BENCH_STREAMS ?? 64);
  const previewFps = Number(process.env.BENCH_PREVIEW_FPS ?? 20);
  const service = await startService({ model: loadClassifierModel(MODEL), port: 0, slots: Math.max(32, n), maxIngestStreams: 1024, maxSubscribers: 64, viewer: { previewFps } });
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'sample') {
      const c = process.cpuUsage();
      process.send!({ type: 'sample', sample: { cpuUs: c.user + c.system, rss: process.memoryUsage().rss } satisfies ServiceSample });
    } else if (m.cmd === 'stop') void service.stop(1000).then(() => process.exit(0));
  });
  process.send!({ type: 'ready', url: service.address.url });
}

// ---------------------------------------------------------------- the browser side
interface PageStats {
  draws: number;
  drawLateMs: number;
  framesReceived: number;
  framesPainted: number;
  traces: number;
  decisions: number;
}

function pageStats(page: Page): Promise<PageStats> {
  return page.evaluate('({ ...spikestreamViewer.stats })') as Promise<PageStats>;
}

/** The pids of a process and all its descendants, with their CPU seconds (user + system), from /proc (Linux). */
function processTree(rootPid: number): Map<number, number> {
  const tick = 100; // USER_HZ on Linux
  const children = new Map<number, number[]>();
  const cpu = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(f[1]);
      cpu.set(Number(name), (Number(f[11]) + Number(f[12])) / tick);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(name));
    } catch {
      // the process ended meanwhile
    }
  }
  const tree = new Map<number, number>();
  const todo = [rootPid];
  while (todo.length) {
    const p = todo.pop()!;
    tree.set(p, cpu.get(p) ?? 0);
    todo.push(...(children.get(p) ?? []));
  }
  return tree;
}

function treeCpuSeconds(rootPid: number): number {
  let total = 0;
  for (const s of processTree(rootPid).values()) total += s;
  return total;
}

// ---------------------------------------------------------------- one phase
interface Phase {
  pages: number;
  realTime: boolean;
  why: string[];
  p50: number;
  p99: number;
  serviceCpuPct: number;
  serviceRssMiB: number;
  browserCpuPct: number;
  drawsPerS: number[];
  drawLateMs: number[];
  paintedPerS: number[];
  previewPerS: number[];
  tracesPerS: number[];
  decisions: number;
  previewDrops: number;
  subscriberDrops: number;
}

type Recording = Awaited<ReturnType<typeof loadRecording>>;

async function phase(o: { n: number; pages: number; seconds: number; p99: number; previewFps: number; recording: Recording; browser?: LaunchedBrowser }): Promise<Phase> {
  const { batches, t0, period } = o.recording;
  const c = fork(__filename, ['--child'], { env: { ...process.env, BENCH_STREAMS: String(o.n), BENCH_PREVIEW_FPS: String(o.previewFps) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { url } = await askChild<{ url: string }>(c, '', 'ready');
  const pages: Page[] = [];
  for (let i = 0; i < o.pages; i++) {
    const page = await (await o.browser!.browser.createBrowserContext()).newPage();
    await page.setViewport({ width: 1600, height: 1000 });
    await page.goto(`${url}/`, { waitUntil: 'load' });
    pages.push(page);
  }
  const { ws: sub, arrivals } = await decisionArrivals(url);

  const logs = new Map<string, SliceLog>();
  const lateness: number[] = [];
  const svc0 = (await askChild<{ sample: ServiceSample }>(c, 'sample', 'sample')).sample;
  const browser0 = o.browser ? treeCpuSeconds(o.browser.pid) : 0;
  // Page counters from the moment the cameras start (the first second's panels are being built).
  const stats0 = await Promise.all(pages.map(pageStats));
  const wall0 = performance.now();
  const failed: string[] = [];
  const sent = await Promise.all(
    Array.from({ length: o.n }, (_, i) => {
      const log: SliceLog = { lastT: [], sentAt: [] };
      logs.set(`cam${i}`, log);
      return streamToServer(`${url}/ingest/cam${i}`, loggedCamera(batches, t0, period, i, o.n, o.seconds, log, lateness), GEOMETRY).catch((err: unknown) => {
        failed.push(err instanceof Error ? err.message : String(err));
        return { events: 0 };
      });
    }),
  );
  const wallS = (performance.now() - wall0) / 1000;
  const stats1 = await Promise.all(pages.map(pageStats));
  const browserCpu = o.browser ? treeCpuSeconds(o.browser.pid) - browser0 : 0;
  const svc1 = (await askChild<{ sample: ServiceSample }>(c, 'sample', 'sample')).sample;
  await new Promise((r) => setTimeout(r, 300)); // the last decisions
  const figures = (await (await fetch(`${url}/viewer/figures.json`)).json()) as ViewerFigures;
  sub.close();
  for (const p of pages) await p.browserContext().close();
  c.send({ cmd: 'stop' });
  await new Promise((r) => c.once('exit', r));

  const lat = decisionLatencies(arrivals, logs);
  const eventsSent = sent.reduce((s, r) => s + r.events, 0);
  const p50 = lat.length ? median(lat) : NaN;
  const p99 = lat.length ? percentile(lat, 0.99) : NaN;
  const why: string[] = [];
  if (failed.length > 0) why.push(`${failed.length} camera(s) failed: ${failed[0]}`);
  if (figures.eventsIn !== eventsSent) why.push(`events in ${figures.eventsIn} ≠ sent ${eventsSent}`);
  if (figures.eventsDropped > 0) why.push(`${figures.eventsDropped} events dropped`);
  if (!(p99 <= o.p99)) why.push(`latency p99 ${p99.toFixed(1)} ms > ${o.p99} ms`);
  if (latenessP99(lateness) > 50) why.push(`cameras late (p99 ${latenessP99(lateness).toFixed(0)} ms)`);
  if (arrivals.length === 0) why.push('no decisions');
  const perS = (k: keyof PageStats): number[] => stats1.map((s, i) => (s[k] - stats0[i][k]) / wallS);
  return {
    pages: o.pages,
    realTime: why.length === 0,
    why,
    p50,
    p99,
    serviceCpuPct: (100 * (svc1.cpuUs - svc0.cpuUs)) / 1e6 / wallS,
    serviceRssMiB: svc1.rss / 2 ** 20,
    browserCpuPct: (100 * browserCpu) / wallS,
    drawsPerS: perS('draws'),
    drawLateMs: stats1.map((s, i) => (s.drawLateMs - stats0[i].drawLateMs) / Math.max(1, s.draws - stats0[i].draws)),
    paintedPerS: perS('framesPainted'),
    previewPerS: perS('framesReceived'),
    tracesPerS: perS('traces'),
    decisions: arrivals.length,
    previewDrops: figures.previewDrops,
    subscriberDrops: figures.subscriberDrops,
  };
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const range = (xs: readonly number[], digits = 0): string => (xs.length ? `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}` : '–');

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const n = Number(argValue(args, '--streams') ?? 64);
  const pagesWanted = Number(argValue(args, '--pages') ?? 4);
  const seconds = Number(argValue(args, '--seconds') ?? 15);
  const p99 = Number(argValue(args, '--p99') ?? 50);
  const previewFps = Number(argValue(args, '--preview-fps') ?? 20);
  const browserNice = Number(argValue(args, '--browser-nice') ?? 10);
  const exe = findChromium();
  if (!exe) throw new Error(NO_CHROMIUM);
  const recording = await loadRecording(RECORDING);
  const mach = machine();
  process.stdout.write(
    `viewer bench: ${n} live streams (bundled recording, real time each) against the service with its viewer (preview ${previewFps} frames/s per stream), ${seconds} s per phase; service in a child process; cameras, subscriber and headless Chromium (${exe}, nice ${browserNice}) here\n${mach}; load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}\n`,
  );
  process.stdout.write(' pages | real time | latency p50 / p99 ms | service CPU |  RSS MiB | browser CPU | page draws/s (late ms) | images painted/s | preview frames/s | traces/s | page drops | notes\n');
  let browser: LaunchedBrowser | undefined;
  const done: Phase[] = [];
  try {
    browser = await launchBrowser(exe);
    // Renderers fork from processes that exist now (the zygote): they inherit this priority.
    for (const pid of processTree(browser.pid).keys()) os.setPriority(pid, browserNice);
    for (const pages of [0, pagesWanted]) {
      const P = await phase({ n, pages, seconds, p99, previewFps, recording, browser });
      done.push(P);
      process.stdout.write(
        `${String(pages).padStart(6)} | ${(P.realTime ? 'yes' : 'NO').padEnd(9)} | ${P.p50.toFixed(1).padStart(8)} / ${P.p99.toFixed(1).padStart(6)}      | ${P.serviceCpuPct.toFixed(0).padStart(10)}% | ${P.serviceRssMiB.toFixed(0).padStart(8)} | ${P.browserCpuPct.toFixed(0).padStart(10)}% | ${`${range(P.drawsPerS)} (${range(P.drawLateMs)})`.padStart(22)} | ${range(P.paintedPerS).padStart(16)} | ${range(P.previewPerS).padStart(16)} | ${range(P.tracesPerS).padStart(8)} | ${`${P.previewDrops} fr, ${P.subscriberDrops} msg`.padStart(10)} | ${P.why.join('; ')}\n`,
      );
    }
  } finally {
    await closeBrowser(browser);
  }
  const figures: BenchFigure[] = [];
  const put = (name: string, unit: string, value: number, extra: Record<string, unknown> = {}): void =>
    void figures.push({ name, unit, value: Number(value.toPrecision(4)), backend: 'js', machine: mach, streams: n, secondsPerPhase: seconds, previewFps, ...extra });
  for (const P of done) {
    const at = { pages: P.pages, realTime: P.realTime, why: P.why };
    put(`viewer_realtime_${n}streams_${P.pages}pages`, 'boolean', P.realTime ? 1 : 0, at);
    put(`viewer_decision_latency_p50_${P.pages}pages`, 'ms', P.p50, at);
    put(`viewer_decision_latency_p99_${P.pages}pages`, 'ms', P.p99, at);
    put(`viewer_service_cpu_${P.pages}pages`, '% of one core', P.serviceCpuPct, at);
    put(`viewer_service_rss_${P.pages}pages`, 'MiB', P.serviceRssMiB, at);
    if (P.pages > 0) {
      put(`viewer_browser_cpu_${P.pages}pages`, '% of one core', P.browserCpuPct, at);
      put(`viewer_page_draws_mean_${P.pages}pages`, 'frames drawn/s', mean(P.drawsPerS), { ...at, perPage: P.drawsPerS.map((x) => Number(x.toFixed(1))) });
      put(`viewer_page_draw_late_mean_${P.pages}pages`, 'ms', mean(P.drawLateMs), at);
      put(`viewer_page_images_painted_mean_${P.pages}pages`, 'event images/s', mean(P.paintedPerS), at);
      put(`viewer_page_preview_frames_mean_${P.pages}pages`, 'frames/s', mean(P.previewPerS), at);
      put(`viewer_page_drops_${P.pages}pages`, 'preview frames + messages', P.previewDrops + P.subscriberDrops, at);
    }
  }
  printFigures('viewer', figures);
}

if (process.argv.includes('--child')) void child();
else
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
