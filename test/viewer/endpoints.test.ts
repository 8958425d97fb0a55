/**
 * The viewer's HTTP side without a browser: the page's files, its JSON (model, figures), the
 * token, and the /preview feed over real sockets on 127.0.0.1 with the bundled model and recording.
 */
import { expect } from 'chai';
import { channelNames } from '../../src/snn/input-encoding';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import type { EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { loadViewerAssets, viewerDir } from '../../src/server/http/viewer-routes';
import { decodePreviewFrame, type PreviewFrame } from '../../src/server/preview';
import { streamToServer } from '../../src/client/sensor-client';
import { startService, type Service, type ServiceOptions } from '../../src/server/service';
import { viewerFigures, viewerModelInfo, type ViewerConfig, type ViewerFigures } from '../../src/server/viewer';
import { forLiveStreams, loadClassifierModel, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { paceBatches } from '../../streams/sources/from-event-file';
import { speed } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { makeTempDir, repoRoot } from '../helpers/paths';
import { writeTinyModel } from '../helpers/tiny-model';
import { everyEventDecided, openWs, refusedStatus, sleep, waitFor } from '../server/helpers';

const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
const GEOMETRY = { width: 128, height: 128 };

/** Opens `/preview…` with a raw TCP socket and then never reads: the page that stopped reading. */
function stalledPreview(port: number, target: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    sock.once('error', reject);
    sock.once('data', (d) => {
      if (!d.toString('latin1').startsWith('HTTP/1.1 101')) return reject(new Error(`not upgraded: ${d.toString('latin1').split('\r\n')[0]}`));
      sock.pause();
      resolve(sock);
    });
    sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

function metricValue(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe('viewer: the page’s files, JSON and preview feed over HTTP and WebSocket', function () {
  this.timeout(60_000);
  let model: ClassifierModel;
  let batches: EventBatch[];
  const services: Service[] = [];

  async function service(o: Partial<ServiceOptions> = {}): Promise<Service> {
    const s = await startService({ model, port: 0, viewer: {}, ...o });
    services.push(s);
    return s;
  }

  function sensor(svc: Service, id: string, factor: number): ReturnType<typeof streamToServer> {
    async function* source(): AsyncGenerator<EventBatch> {
      yield* batches;
    }
    return streamToServer(`${svc.address.url.replace(/^http/, 'ws')}/ingest/${id}`, paceBatches(source(), speed(factor)), GEOMETRY);
  }

  before(async () => {
    model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    batches = [];
    for await (const b of readEventFile(RECORDING)) batches.push(b);
  });

  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop(500);
  });

  it('serves the page at / and its files under /viewer/ (uPlot and aedat-parser-ts from their packages), same-origin only; nothing else', async () => {
    const { url } = (await service()).address;
    const page = await fetch(`${url}/?token=ignored`);
    expect(page.status).to.equal(200);
    expect(page.headers.get('content-type')).to.equal('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).to.contain("default-src 'self'");
    const html = await page.text();
    expect(html).to.contain('viewer/vendor/uPlot.iife.min.js');
    expect(html).to.not.match(/(src|href)="(https?:)?\/\//); // no other origin
    for (const [p, type] of [
      ['/viewer/app.js', 'text/javascript; charset=utf-8'],
      ['/viewer/viewer.css', 'text/css; charset=utf-8'],
      ['/viewer/vendor/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
      ['/viewer/vendor/uPlot.min.css', 'text/css; charset=utf-8'],
      ['/viewer/vendor/aedat-parser-ts.js', 'text/javascript; charset=utf-8'],
      ['/viewer/file-player.js', 'text/javascript; charset=utf-8'],
    ]) {
      const r = await fetch(`${url}${p}`);
      expect([p, r.status, r.headers.get('content-type')]).to.deep.equal([p, 200, type]);
      expect((await r.arrayBuffer()).byteLength).to.be.greaterThan(500);
    }
    const head = await fetch(`${url}/viewer/app.js`, { method: 'HEAD' });
    expect([head.status, Number(head.headers.get('content-length')) > 500]).to.deep.equal([200, true]);
    for (const p of ['/viewer/nope.js', '/viewer/../package.json', '/viewer/%2e%2e/package.json', '/viewer/vendor/uPlot.js', '/index.html']) {
      expect([p, (await fetch(`${url}${p}`)).status]).to.deep.equal([p, 404]);
    }
    expect(viewerDir()).to.equal(path.join(repoRoot, 'viewer'));
  });

  it('without a viewer: / and /preview are 404, as before', async () => {
    const { url } = (await service({ viewer: undefined })).address;
    expect((await fetch(`${url}/`)).status).to.equal(404);
    expect((await fetch(`${url}/viewer/config.json`)).status).to.equal(404);
    expect(await refusedStatus(`${url.replace(/^http/, 'ws')}/preview`)).to.equal(404);
  });

  it('a missing viewer folder leaves / unserved (uPlot and aedat-parser-ts are still found)', () => {
    const assets = loadViewerAssets(path.join(repoRoot, 'no-such-viewer'));
    expect([...assets.keys()].sort()).to.deep.equal(['/viewer/vendor/aedat-parser-ts.js', '/viewer/vendor/uPlot.iife.min.js', '/viewer/vendor/uPlot.min.css']);
  });

  it('with a token: the page and its files are public, its JSON and feeds need the token', async () => {
    const { url } = (await service({ token: 's3cret' })).address;
    const ws = url.replace(/^http/, 'ws');
    expect((await fetch(`${url}/`)).status).to.equal(200);
    expect((await fetch(`${url}/viewer/app.js`)).status).to.equal(200);
    for (const p of ['/viewer/config.json', '/viewer/figures.json']) {
      const refused = await fetch(`${url}${p}`);
      expect([p, refused.status, refused.headers.get('www-authenticate')]).to.deep.equal([p, 401, 'Bearer']);
      expect((await fetch(`${url}${p}?token=wrong`)).status).to.equal(401);
      expect((await fetch(`${url}${p}?token=s3cret`)).status).to.equal(200);
      expect((await fetch(`${url}${p}`, { headers: { Authorization: 'Bearer s3cret' } })).status).to.equal(200);
    }
    expect(await refusedStatus(`${ws}/preview`)).to.equal(401);
    expect(await refusedStatus(`${ws}/preview?stream=bad%20id&token=s3cret`)).to.equal(400);
    (await openWs(`${ws}/preview?token=s3cret`)).close();
    (await openWs(`${ws}/decisions?trace=1&token=s3cret`)).close();
  });

  it('config.json describes the model; figures.json equals the registry behind /metrics', async () => {
    const svc = await service({ viewer: { previewFps: 12.5 } });
    const { url } = svc.address;
    const config = (await (await fetch(`${url}/viewer/config.json`)).json()) as ViewerConfig;
    // The service's streams are live: the page shows the live calibration's θ, labelled by its stop rule.
    const live = forLiveStreams(model);
    expect(config).to.deep.equal({ model: viewerModelInfo(live), previewFps: 12.5 });
    expect(config.model).to.include({ name: 'gesture', theta: live.theta, stopRule: live.stopRule, maxSteps: 16, binUs: 100_000, inputWidth: 32, inputHeight: 32 });
    expect(config.model!.thetaLabel).to.match(live.stopRule === 'calibrated' ? /^θ = [\d.]+ \(calibrated probability that the class is right, answer at ≥ θ; / : /^θ = [\d.]+ \(the paper's c_t, answer at > θ; /);
    expect(config.model!.classes).to.have.length(11);
    // The event image's colours are named after the model's input channels.
    expect(config.model!.channels).to.deep.equal(channelNames(model.encoding));
    expect(model.encoding).to.equal('time-ramp'); // the bundled gesture model's input (docs/models-and-training.md)

    const decisions: Decision[] = [];
    svc.decisions.subscribe((d) => decisions.push(d));
    const sending = sensor(svc, 'cam', 20);
    let sent = false;
    void sending.finally(() => (sent = true));
    // While the sensor sends, the figures list its stream.
    const during: ViewerFigures[] = [];
    while (!sent) {
      during.push((await (await fetch(`${url}/viewer/figures.json`)).json()) as ViewerFigures);
      await sleep(100); // paces the readings: a page polls the figures about this often
    }
    const listed = during.filter((f) => f.streams.length > 0);
    expect(listed.length, 'readings while the sensor sent').to.be.greaterThan(0);
    for (const f of listed) expect([f.streams.map((x) => x.id), f.activeStreams]).to.deep.equal([['cam'], 1]);
    // The size is null until the sensor's first message says it.
    expect(listed.some((f) => f.streams[0].width === 128 && f.streams[0].height === 128)).to.equal(true);
    await sending;
    await svc.stop(2000); // every decision published; the registry still answers
    services.splice(0);
    const text = await svc.server.metrics.expose();
    const f = await viewerFigures(svc.server.metrics, []);
    expect(f).to.deep.include({
      eventsIn: metricValue(text, 'spikestream_events_in_total'),
      decisions: metricValue(text, 'spikestream_decisions_total'),
      uncertain: metricValue(text, 'spikestream_decisions_uncertain_total'),
      early: metricValue(text, 'spikestream_early_decisions_total'),
      stepsSaved: metricValue(text, 'spikestream_steps_saved_total'),
      decisionSteps: metricValue(text, 'spikestream_decision_steps_total'),
      subscriberDrops: 0,
      previewDrops: 0,
      eventsDropped: 0,
    });
    expect(f.eventsIn).to.equal(378_593);
    expect(f.decisions + f.uncertain).to.equal(decisions.length);
    expect(f.decisionSteps).to.equal(decisions.reduce((s, d) => s + d.steps, 0));
    expect(f.stepsSavedShare).to.be.closeTo(f.stepsSaved / (f.stepsSaved + f.decisionSteps), 1e-12);
    expect(f.stepsSavedShare).to.be.within(0.3, 0.9);
  });

  it('/preview: the frames the network sees, at the model’s input size, at most --preview-fps per stream', async () => {
    const svc = await service({ viewer: { previewFps: 10 } });
    const ws = svc.address.url.replace(/^http/, 'ws');
    const all = await openWs(`${ws}/preview`);
    const other = await openWs(`${ws}/preview?stream=other`);
    const frames: { f: PreviewFrame; at: number }[] = [];
    let otherGot = 0;
    all.on('message', (d: Buffer) => frames.push({ f: decodePreviewFrame(new Uint8Array(d)), at: performance.now() }));
    other.on('message', () => otherGot++);
    const t0 = performance.now();
    await sensor(svc, 'cam', 10); // 28 s of recording in ~2.8 s: 280 frames binned
    const seconds = (performance.now() - t0) / 1000;
    const subscribers = metricValue(await svc.server.metrics.expose(), 'spikestream_preview_subscribers');
    // Stopping ends the stream's pipeline, whose last pending frame then goes out, before it closes
    // the pages (1001): once both are closed every frame is in, and the other stream's page got none.
    const pagesClosed = Promise.all([all, other].map((page) => new Promise((resolve) => page.once('close', resolve))));
    await svc.stop(5000);
    await pagesClosed;
    expect(otherGot).to.equal(0);
    expect(frames.length).to.be.within(5, Math.ceil(seconds * 10) + 3);
    for (const { f } of frames) {
      expect([f.streamId, f.width, f.height, f.counts.length]).to.deep.equal(['cam', 32, 32, 32 * 32 * 2]);
      expect(f.sampleId).to.match(/^cam#\d+$/);
    }
    expect(frames.some(({ f }) => f.counts.some((c) => c > 0))).to.equal(true);
    // 100 ms apart as sent; on arrival, event-loop jitter aside.
    const gaps = frames.slice(1).map((x, i) => x.at - frames[i].at).sort((p, q) => p - q);
    expect(gaps[Math.floor(gaps.length / 2)]).to.be.within(80, 130);
    const text = await svc.server.metrics.expose();
    expect(metricValue(text, 'spikestream_preview_frames_total')).to.equal(frames.length);
    expect(subscribers).to.equal(2);
  });

  it('a page that stops reading never slows the pipeline: its frames are dropped and counted, decisions are unchanged', async () => {
    // Frames of a full-resolution model (128×128×2 = 32 KiB each, 560 per stream), so that the
    // page's TCP buffers fill within one replay and the server sees the backlog grow.
    const dir = makeTempDir('spikestream-viewer-');
    writeTinyModel(dir, { downsample: 1, binUs: 50_000, T: 12 });
    const big = loadClassifierModel(dir);
    fs.rmSync(dir, { recursive: true, force: true });
    const svc = await service({ model: big, viewer: { previewFps: 1000, previewMaxBufferedBytes: 256 * 1024 } });
    const decisions: Decision[] = [];
    svc.decisions.subscribe((d) => decisions.push(d));
    const stalled = await stalledPreview(svc.address.port, '/preview?stream=watched');
    const [watched, control] = await Promise.all([sensor(svc, 'watched', 10), sensor(svc, 'control', 10)]);
    await waitFor(() => everyEventDecided(svc, watched.events + control.events, decisions.length), 10_000, 'every event sent to be segmented and every sample decided and published');
    const text = await svc.server.metrics.expose();
    const dropped = metricValue(text, 'spikestream_preview_dropped_total');
    const sent = metricValue(text, 'spikestream_preview_frames_total');
    console.log(`      stalled page: ${sent} frames sent until its backlog filled, ${dropped} dropped; sensors took ${watched.durationMs.toFixed(0)} / ${control.durationMs.toFixed(0)} ms`);
    expect(dropped).to.be.greaterThan(0);
    expect(svc.server.preview!.stats()[0].dropped).to.equal(dropped);
    // The watched stream is decided exactly like the unwatched one, and as fast.
    const key = (d: Decision): string => `${d.sampleId.split('#')[1]} ${d.label} ${d.steps} ${d.confidence}`;
    const of = (id: string): string[] => decisions.filter((d) => d.streamId === id).map(key);
    expect(of('watched').length).to.be.greaterThan(5);
    expect(of('watched')).to.deep.equal(of('control'));
    expect(watched.durationMs).to.be.lessThan(control.durationMs * 1.2 + 200);
    stalled.destroy();
  });
});
