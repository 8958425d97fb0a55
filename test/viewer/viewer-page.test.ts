/**
 * The viewer page in a real browser: Debian's Chromium driven by puppeteer-core, against real
 * services on 127.0.0.1 fed by sensors replaying the bundled recording over WebSocket.
 *
 * Service A (bundled model, decisions labelled from the recording's label windows) gets two
 * streams (8× real time, from the start and from 12 s in); service B runs the same model with
 * θ = 1, so that every one of its decisions is uncertain (c_t never exceeds 1). One page is open on each; a plain
 * WebSocket subscriber on each service is the reference for what the page must list.
 *
 * A screenshot is saved to $VIEWER_SCREENSHOT (default: the OS temp folder); to refresh the
 * README's: `VIEWER_SCREENSHOT=docs/viewer.png npx mocha --no-config --timeout 120000 dist/test/viewer/viewer-page.test.js`.
 * Without Chromium the suite fails, saying how to install it (tests never skip).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { ConsoleMessage, HTTPRequest, Page } from 'puppeteer-core';
import WebSocket from 'ws';
import { readLabelsBeside } from '../../src/datasets/dvs-gesture';
import type { EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { streamToServer } from '../../src/client/sensor-client';
import { startService, type Service, type ServiceOptions } from '../../src/server/service';
import { liveTrueLabel } from '../../src/eval/live-score';
import { loadClassifierModel, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { paceBatches } from '../../streams/sources/from-event-file';
import { speed } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { repoRoot } from '../helpers/paths';
import { closeBrowser, findChromium, launchBrowser, NO_CHROMIUM, type LaunchedBrowser } from './browser';
import { installProbes, probe, type ChartState, type EventImageState } from './probes';
import { sleep, waitFor as waitForCondition } from '../helpers/time';
import { everyEventDecided } from '../server/helpers';

/** Each poll asks the browser: every 50 ms. */
const waitFor = (cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> => waitForCondition(cond, timeoutMs, what, 50);

const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
const MODEL_DIR = path.join(repoRoot, 'models', 'gesture');
const GEOMETRY = { width: 128, height: 128 };
const SCREENSHOT = process.env.VIEWER_SCREENSHOT ?? path.join(os.tmpdir(), 'spikestream-viewer.png');


/** Everything a page reports that would be a defect: console errors and warnings, page errors, failed or refused requests. */
interface Problem {
  at: number;
  what: string;
}

interface WatchedPage {
  page: Page;
  problems: Problem[];
  /** Every URL the page asked for. */
  requests: string[];
}

async function openPage(b: LaunchedBrowser, url: string): Promise<WatchedPage> {
  // One browser context (window) per page: in one window only the front tab is visible and animates.
  const page = await (await b.browser.createBrowserContext()).newPage();
  await page.setViewport({ width: 1180, height: 760 });
  const problems: Problem[] = [];
  const requests: string[] = [];
  const note = (what: string): void => void problems.push({ at: Date.now(), what });
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' || m.type() === 'warn') note(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e: unknown) => note(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('request', (r: HTTPRequest) => void requests.push(r.url()));
  page.on('requestfailed', (r: HTTPRequest) => note(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) note(`HTTP ${r.status()}: ${r.url()}`);
  });
  await installProbes(page);
  await page.goto(url, { waitUntil: 'load' });
  return { page, problems, requests };
}

function bySample<T extends { sampleId: string }>(xs: T[]): T[] {
  const n = (s: string): number => Number(s.slice(s.lastIndexOf('#') + 1));
  return [...xs].sort((a, b) => n(a.sampleId) - n(b.sampleId));
}

interface Sub {
  ws: WebSocket;
  decisions: Decision[];
}

async function subscribe(svc: Service): Promise<Sub> {
  const ws = new WebSocket(`${svc.address.url.replace(/^http/, 'ws')}/decisions`, { perMessageDeflate: false });
  const decisions: Decision[] = [];
  ws.on('message', (data) => {
    const { type, ...d } = JSON.parse(data.toString()) as { type: string } & Decision;
    if (type === 'decision') decisions.push(d);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, decisions };
}

describe('viewer: the live page in a real browser (Chromium, puppeteer-core)', function () {
  this.timeout(120_000);
  let browser: LaunchedBrowser | undefined;
  let model: ClassifierModel;
  let batches: EventBatch[];
  const services: Service[] = [];
  const subs: Sub[] = [];
  let a: Service;
  let b: Service;
  let pageA: WatchedPage;
  let pageB: WatchedPage;
  let subA: Sub;
  let subB: Sub;
  const images: EventImageState[] = [];
  const charts: ChartState[] = [];
  const labels = readLabelsBeside(RECORDING) ?? [];

  async function service(o: Partial<ServiceOptions> = {}): Promise<Service> {
    const s = await startService({ model, port: 0, viewer: {}, trueLabel: (d) => liveTrueLabel(labels, d), ...o });
    services.push(s);
    return s;
  }

  /** The recording from `fromS` to `untilS` seconds to `svc` as stream `id`, paced at `factor`× real time. */
  function sensor(svc: Service, id: string, factor: number, { fromS = 0, untilS = Infinity } = {}): ReturnType<typeof streamToServer> {
    const t0 = batches[0].t[0];
    async function* source(): AsyncGenerator<EventBatch> {
      for (const x of batches) {
        if (x.t[0] - t0 > untilS * 1e6) return;
        if (x.t[x.length - 1] - t0 >= fromS * 1e6) yield x;
      }
    }
    return streamToServer(`${svc.address.url.replace(/^http/, 'ws')}/ingest/${id}`, paceBatches(source(), speed(factor)), GEOMETRY);
  }

  before(async function () {
    const exe = findChromium();
    // A browser test that cannot find its browser fails: nothing is skipped.
    if (!exe) throw new Error(NO_CHROMIUM);
    model = loadClassifierModel(MODEL_DIR);
    batches = [];
    for await (const x of readEventFile(RECORDING)) batches.push(x);
    browser = await launchBrowser(exe!);
    a = await service();
    b = await service({ model: { ...model, theta: 1, thetaSource: 'override' } });
    [pageA, pageB] = await Promise.all([openPage(browser, `${a.address.url}/?linger=120`), openPage(browser, `${b.address.url}/?linger=120`)]);
    subA = await subscribe(a);
    subB = await subscribe(b);
    subs.push(subA, subB);
    await waitFor(async () => (await probe.status(pageA.page)).state === 'connected' && (await probe.status(pageB.page)).state === 'connected', 15_000, 'both pages connected');

    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    fs.rmSync(SCREENSHOT, { force: true });
    await probe.record(pageA.page, 'user30', 50);
    const sending = Promise.all([sensor(a, 'user30', 8), sensor(a, 'user30-late', 8, { fromS: 12 }), sensor(b, 'unsure', 20)]);
    let done = false;
    void sending.finally(() => (done = true));
    let shot = false;
    while (!done) {
      const now = await probe.snapshot(pageA.page, 'user30');
      // The README's picture: streams live, a few decisions in, the header's rates read.
      if (!shot && now.listed >= 5 && now.eventsPerSecond !== '–') {
        await pageA.page.screenshot({ path: SCREENSHOT });
        shot = true;
      }
      await sleep(50); // paces the snapshots while the sensors send
    }
    if (!shot) await pageA.page.screenshot({ path: SCREENSHOT });
    for (const r of await probe.stopRecording(pageA.page)) {
      images.push(r.image);
      charts.push(r.chart);
    }
    const [user30, late, unsure] = await sending;
    // The streams' last samples are decided after their sensors close: wait until each service has
    // decided every event sent and its subscriber holds every decision, then for the pages to list it all.
    await waitFor(
      () => everyEventDecided(a, user30.events + late.events, subA.decisions.length) && everyEventDecided(b, unsure.events, subB.decisions.length),
      20_000,
      'the services to decide every event sent and publish their last decisions',
    );
    await waitFor(
      async () =>
        (await probe.listed(pageA.page, 'user30')).length === subA.decisions.filter((d) => d.streamId === 'user30').length &&
        (await probe.listed(pageA.page, 'user30-late')).length === subA.decisions.filter((d) => d.streamId === 'user30-late').length &&
        (await probe.listed(pageB.page, 'unsure')).length === subB.decisions.length,
      10_000,
      'the pages to list every decision the subscribers received',
    ).catch(async (err: Error) => {
      const counts = { a: (await probe.listed(pageA.page, 'user30')).length, aLate: (await probe.listed(pageA.page, 'user30-late')).length, b: (await probe.listed(pageB.page, 'unsure')).length };
      const want = { a: subA.decisions.filter((d) => d.streamId === 'user30').length, aLate: subA.decisions.filter((d) => d.streamId === 'user30-late').length, b: subB.decisions.length };
      throw new Error(`${err.message}: listed ${JSON.stringify(counts)}, received ${JSON.stringify(want)}; ${JSON.stringify(pageA.problems)}`);
    });
  });

  after(async () => {
    for (const s of subs) s.ws.close();
    await closeBrowser(browser);
    for (const s of services.splice(0)) await s.stop(500);
  });

  it('paints the event image at the model input size, scaled up crisply; it is not blank and changes as frames are binned', () => {
    const painted = images.filter((x) => x.lit > 0);
    expect(painted.length, 'samples of the canvas with events on it').to.be.at.least(2);
    expect(new Set(painted.map((x) => x.hash)).size, 'distinct images').to.be.at.least(2);
    return probe.eventImage(pageA.page, 'user30').then((img) => {
      expect(img.width).to.equal(model.net.inputWidth);
      expect(img.cssWidth).to.be.greaterThan(4 * img.width);
      expect(img.rendering).to.equal('pixelated');
    });
  });

  it('plots the running sample’s c_t step by step against θ, marking the step where it stopped', async () => {
    const decided = new Map(subA.decisions.map((d) => [d.sampleId, d]));
    // Seen while the sensor ran: the running sample's c_t so far, and (once a sample was decided)
    // the last decided sample's curve with its stop, at the step its decision says.
    expect(charts.filter((c) => c.points > 0).length, 'charts with a running sample').to.be.greaterThan(0);
    for (const c of charts.filter((x) => x.stopStep !== '')) {
      const d = decided.get(c.decidedSampleId);
      expect(d, c.decidedSampleId).to.not.equal(undefined);
      expect([c.decidedPoints, c.stopStep]).to.deep.equal([d!.steps, String(d!.steps)]);
    }
    // After the stream: its last decision, stopped where it says (green or amber by its confidence).
    const last = subA.decisions.filter((d) => d.streamId === 'user30').pop()!;
    const end = await probe.chart(pageA.page, 'user30');
    expect([end.decidedSampleId, end.decidedPoints, end.stopStep]).to.deep.equal([last.sampleId, last.steps, String(last.steps)]);
    const lastUnsure = subB.decisions[subB.decisions.length - 1];
    const endB = await probe.chart(pageB.page, 'unsure');
    expect([endB.decidedSampleId, endB.stopStep]).to.deep.equal([lastUnsure.sampleId, String(lastUnsure.steps)]);
    expect(await probe.text(pageB.page, '.panel[data-stream="unsure"] .chart-caption')).to.contain(`stopped at ${lastUnsure.steps}/16, uncertain`);
    expect((await probe.chart(pageA.page, 'user30')).canvases).to.equal(1);
    const bars = await probe.texts(pageA.page, '.panel[data-stream="user30"] .bars li .val');
    expect(bars).to.have.length(model.classes.length);
    expect(bars.every((v) => /^\d+%$/.test(v))).to.equal(true);
  });

  it('lists exactly the decisions a WebSocket subscriber received, answers ticked or crossed against the labels', async () => {
    for (const id of ['user30', 'user30-late']) {
      const want = subA.decisions.filter((d) => d.streamId === id);
      const got = bySample(await probe.listed(pageA.page, id));
      expect(want.length).to.be.greaterThan(10);
      expect(got.map((g) => [g.sampleId, g.label, g.steps, g.confident, g.early, g.trueLabel])).to.deep.equal(
        want.map((d) => [d.sampleId, d.label, d.steps, d.confident, d.early, d.trueLabel ?? null]),
      );
      for (const g of got) {
        expect(g.list).to.equal(g.confident ? 'answers' : 'uncertain');
        if (g.confident) expect(g.mark).to.equal(g.trueLabel === null ? '·' : g.trueLabel === g.label ? '✓' : '✗');
      }
      expect(got.filter((g) => g.mark === '✓').length, 'right answers').to.be.greaterThan(0);
    }
  });

  it('shows uncertain decisions apart (θ = 1: c_t never exceeds it)', async () => {
    expect(subB.decisions.length).to.be.greaterThan(3);
    expect(subB.decisions.every((d) => !d.confident)).to.equal(true);
    const got = await probe.listed(pageB.page, 'unsure');
    expect(got.length).to.equal(subB.decisions.length);
    expect(got.every((g) => g.list === 'uncertain' && g.mark === '?')).to.equal(true);
    expect(await probe.texts(pageB.page, '.panel[data-stream="unsure"] .answers li')).to.deep.equal([]);
  });

  it('shows the service’s figures from the registry behind /metrics', async () => {
    // Every events/s reading the header showed: while the sensors ran (16× real time in all, ~13.5 k events/s each), tens of thousands.
    const shown = (await probe.eventsPerSecondShown(pageA.page)).map((t) => (t.endsWith(' k') ? 1000 * Number(t.slice(0, -2)) : Number(t)));
    expect(Math.max(...shown.filter((x) => Number.isFinite(x)))).to.be.within(20_000, 1_000_000);
    const text = await (await fetch(`${a.address.url}/metrics`)).text();
    const metric = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    const saved = metric('spikestream_steps_saved_total');
    const used = metric('spikestream_decision_steps_total');
    expect(used).to.equal(subA.decisions.reduce((s, d) => s + d.steps, 0));
    await waitFor(async () => (await probe.text(pageA.page, '#f-streams')) === '0', 5000, 'streams: 0 after the sensors left');
    // The stream count falls to 0 when the sensors close, the last decisions may be counted a reading later.
    const share = `${((100 * saved) / (saved + used)).toFixed(0)} %`;
    await waitFor(async () => (await probe.text(pageA.page, '#f-saved')) === share, 5000, `steps saved: ${share}`);
    expect(await probe.text(pageA.page, '#f-dropped')).to.equal('0');
    // The streams that left stay listed (greyed) for ?linger= seconds.
    expect(await probe.text(pageA.page, '.panel[data-stream="user30"] .presence')).to.equal('disconnected');
  });

  it('works offline: every request stays on the service’s origin; no console error, page error or failed request', () => {
    for (const [p, svc] of [
      [pageA, a],
      [pageB, b],
    ] as const) {
      const origin = new URL(svc.address.url).origin;
      const own = [`${origin}/`, `${origin.replace(/^http/, 'ws')}/`, 'data:'];
      const foreign = p.requests.filter((u) => !own.some((o) => u.startsWith(o)));
      expect(foreign).to.deep.equal([]);
      expect(p.requests.some((u) => u.endsWith('/viewer/vendor/uPlot.iife.min.js'))).to.equal(true);
      expect(p.problems.map((x) => x.what)).to.deep.equal([]);
    }
  });

  it('recovers after the server restarts on the same port: says so, reconnects, and shows the new service’s decisions', async () => {
    const port = a.address.port;
    const down = Date.now();
    await a.stop(500);
    services.splice(services.indexOf(a), 1);
    await waitFor(async () => (await probe.status(pageA.page)).state === 'reconnecting', 5000, 'the page to say the connection is lost');
    expect((await probe.status(pageA.page)).text).to.match(/connection lost/);
    // A few refused attempts, with backoff: the status line numbers them ('attempt 1' is the loss itself).
    let refusedSoFar = 0;
    const refusedTwice = async () => {
      const attempt = /\(attempt (\d+)\)/.exec((await probe.status(pageA.page)).text);
      refusedSoFar = Math.max(refusedSoFar, attempt ? Number(attempt[1]) - 1 : 0);
      return refusedSoFar >= 2;
    };
    await waitFor(refusedTwice, 10_000, 'the page to be refused twice while the service is down');
    a = await service({ port });
    await waitFor(async () => (await probe.status(pageA.page)).state === 'connected', 15_000, 'the page to reconnect');
    const up = Date.now();
    const sub = await subscribe(a);
    subs.push(sub);
    const before = (await probe.listed(pageA.page, 'user30')).length;
    // 6 s of the recording at 4×: long enough for a figures reading (every second) to list the stream again.
    const sending = sensor(a, 'user30', 4, { untilS: 6 });
    let sent = false;
    void sending.finally(() => (sent = true));
    let sawLive = false;
    while (!sent) {
      sawLive ||= (await probe.text(pageA.page, '.panel[data-stream="user30"] .presence')) === 'live';
      await sleep(100); // paces the readings while the sensor sends
    }
    await sending;
    expect(sawLive, 'the panel live again while the sensor sent').to.equal(true);
    await waitFor(() => sub.decisions.length > 0, 10_000, 'a decision from the new service');
    await waitFor(async () => (await probe.listed(pageA.page, 'user30')).length === before + sub.decisions.length, 10_000, 'the page to list the new decisions');
    expect(await pageA.page.evaluate('spikestreamViewer.stats.reconnects')).to.equal(1);

    // While the service was away the only complaints are the browser's own about refused feed connections.
    const origin = `127.0.0.1:${port}`;
    const refused = new RegExp(`WebSocket connection to 'ws://${origin.replace(/\./g, '\\.')}/(decisions|preview)[^']*' failed|ERR_CONNECTION_REFUSED`);
    const during = pageA.problems.filter((p) => p.at >= down && p.at <= up);
    expect(during.filter((p) => !refused.test(p.what)).map((p) => p.what)).to.deep.equal([]);
    expect(pageA.problems.filter((p) => p.at < down || p.at > up).map((p) => p.what)).to.deep.equal([]);
  });

  it('saved a screenshot of the page', () => {
    const png = fs.readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString('latin1')).to.equal('PNG');
    expect(png.length).to.be.greaterThan(20_000);
  });
});
