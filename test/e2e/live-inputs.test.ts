/**
 * The service's live inputs (`--input`) against the real partners, all in one service and one
 * real-time pass over the first 8 s of the bundled recording (three gestures), beside the same
 * events through WebSocket ingest at the same pace:
 *
 * - a DV network stream from our FORMATS.md writer: NONE, LZ4, ZSTD, each over TCP and a UNIX socket;
 * - a FIFO carrying the recording as EVT 3.0;
 * - faery's own encoder (t64_x16_y16_on8, t32_x16_y15_on1), paced at the recording's pace;
 * - the real `aestream` binary: timestamped SPIF (`--include-timestamp 1`) and plain SPIF.
 *
 * Decisions are compared in the mode where they depend on event times only
 * (`onDecided: 'skip-to-window-end'`, no idle flush, no wall-time limit: see test/e2e/service.test.ts
 * for why the default mode's next-sample start depends on delivery timing). Where timestamps travel,
 * every decision equals WebSocket ingest's (sample ids, classes, steps, times, confidence). Plain
 * SPIF has no time (stamped on arrival): its accuracy against the label windows is reported.
 */
import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { concatBatches, sliceByIndex, lowerBoundTime, type EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { parseGestureLabels } from '../../src/datasets/dvs-gesture';
import { isRightLive } from '../../src/eval/live-score';
import { startService, type Service } from '../../src/server/service';
import { parseInputUrls } from '../../src/server/input-url';
import { streamToServer } from '../../src/client/sensor-client';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { paceBatches } from '../../streams/sources/from-event-file';
import { REALTIME } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { DvNetworkWriter, type DvCompression } from '../helpers/dv-network-writer';
import { Evt3Encoder } from '../helpers/evt3-encoder';
import { aestreamBinary, faerySender, freeUdpPort, Partner, writeEventsCsv } from '../helpers/live-partners';
import { makeTempDir, repoRoot } from '../helpers/paths';
import { scrapeMetrics } from '../helpers/scrape';
import { waitFor } from '../helpers/time';

const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
const LABELS = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural_labels.csv');
const CLIP_US = 8_000_000;
const GEOMETRY = { width: 128, height: 128 };
const DV_CASES: [DvCompression, 'tcp' | 'unix'][] = [
  ['NONE', 'tcp'],
  ['LZ4', 'tcp'],
  ['ZSTD', 'tcp'],
  ['NONE', 'unix'],
  ['LZ4', 'unix'],
  ['ZSTD', 'unix'],
];
const TIMED_INPUTS = [...DV_CASES.map(([c, t]) => `dv-${t}-${c.toLowerCase()}`), 'fifo-evt3', 'faery-t64', 'faery-t32', 'aestream-spif-ts'];

/** What makes a decision, without the stream id and wall-clock latency. */
function key(d: Decision): string {
  const n = d.sampleId.slice(d.sampleId.lastIndexOf('#') + 1);
  return `#${n} ${d.label} steps ${d.steps}${d.early ? ' early' : ''} ${d.stoppedBy} t ${d.sampleStartUs}→${d.eventTimeUs} conf ${d.confidence}`;
}

/** The clip in 10 ms slices at the recording's pace (what every in-process feeder sends). */
function paced(clip: EventBatch): AsyncGenerator<EventBatch> {
  async function* whole(): AsyncGenerator<EventBatch> {
    yield clip;
  }
  return paceBatches(whole(), REALTIME);
}

async function feedFifo(fifo: string, clip: EventBatch): Promise<void> {
  const out = fs.createWriteStream(fifo);
  const write = (b: Uint8Array): Promise<void> => new Promise((resolve, reject) => out.write(b, (e) => (e ? reject(e) : resolve())));
  await write(Evt3Encoder.header(GEOMETRY));
  const enc = new Evt3Encoder();
  for await (const b of paced(clip)) await write(enc.encode(b));
  await new Promise<void>((resolve) => out.end(resolve));
}

describe('e2e: live inputs against the real partners, decisions equal to WebSocket ingest', function () {
  this.timeout(300_000);
  const dir = makeTempDir('spikestream-inputs-');
  const byStream = new Map<string, Decision[]>();
  const partnerOutput: Record<string, string> = {};
  let clip: EventBatch;
  let service: Service | undefined;
  let metrics = new Map<string, number>();
  const metric = (name: string, input: string, reason?: string): number | undefined =>
    metrics.get(`${name}{input="${input}"${reason === undefined ? '' : `,reason="${reason}"`}}`);
  let spifOffsetUs = 0;
  const writers: DvNetworkWriter[] = [];

  before(async function () {
    const aestream = aestreamBinary();
    const faery = faerySender();
    const all = concatBatches(await fromFile());
    // A length that is no multiple of 32, so that aestream's last timestamped datagram is a short one (its stale-words quirk).
    clip = sliceByIndex(all, 0, lowerBoundTime(all, CLIP_US) + 17);
    expect(clip.length % 32).to.not.equal(0);
    writeEventsCsv(path.join(dir, 'faery.csv'), clip, { header: true });
    // aestream's real-time mode never sends a file's first event (../shared/peers/README.md): a copy of it goes first.
    writeEventsCsv(path.join(dir, 'aestream.csv'), clip, { header: false, repeatFirst: true });
    const fifo = path.join(dir, 'camera.raw');
    execFileSync('mkfifo', [fifo]);
    const urls: string[] = [];
    for (const [compression, transport] of DV_CASES) {
      const listen = transport === 'tcp' ? { port: 0 } : { path: path.join(dir, `dv-${compression}.sock`) };
      const w = new DvNetworkWriter({ ...GEOMETRY, compression, listen });
      writers.push(w);
      urls.push(`${await w.listen()}#dv-${transport}-${compression.toLowerCase()}`);
    }
    const ports = { t64: await freeUdpPort(), t32: await freeUdpPort(), spifTs: await freeUdpPort(), spif: await freeUdpPort() };
    urls.push(`${fifo}#fifo-evt3`);
    urls.push(`udp://127.0.0.1:${ports.t64}?format=t64_x16_y16_on8&width=128&height=128#faery-t64`);
    urls.push(`udp://127.0.0.1:${ports.t32}?format=t32_x16_y15_on1&width=128&height=128#faery-t32`);
    urls.push(`udp://127.0.0.1:${ports.spifTs}?format=spif-ts&width=128&height=128#aestream-spif-ts`);
    urls.push(`udp://127.0.0.1:${ports.spif}?format=spif&width=128&height=128#aestream-spif`);

    const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    service = await startService({ model, port: 0, inputs: parseInputUrls(urls), onDecided: 'skip-to-window-end', sampleWallLimitMs: 600_000, onInputNotice: () => undefined });
    service.decisions.subscribe((d) => byStream.set(d.streamId, [...(byStream.get(d.streamId) ?? []), d]));
    await waitFor(() => writers.every((w) => w.clientCount === 1), 10_000, 'the DV inputs to connect');

    const base = service.address.url.replace(/^http/, 'ws');
    const started = Date.now();
    const partners = {
      'faery-t64': new Partner('python3', [faery, path.join(dir, 'faery.csv'), String(ports.t64), '--format', 't64_x16_y16_on8']),
      'faery-t32': new Partner('python3', [faery, path.join(dir, 'faery.csv'), String(ports.t32), '--format', 't32_x16_y15_on1']),
      'aestream-spif-ts': new Partner(aestream, ['input', 'file', path.join(dir, 'aestream.csv'), 'output', 'udp', '127.0.0.1', String(ports.spifTs), '--include-timestamp', '1']),
      'aestream-spif': new Partner(aestream, ['input', 'file', path.join(dir, 'aestream.csv'), 'output', 'udp', '127.0.0.1', String(ports.spif)]),
    };
    const sendDv = (async () => {
      for await (const b of paced(clip)) for (const w of writers) w.send(b);
    })();
    await Promise.all([
      streamToServer(`${base}/ingest/ws`, paced(clip), GEOMETRY),
      sendDv,
      feedFifo(fifo, clip),
      ...Object.entries(partners).map(async ([id, p]) => (partnerOutput[id] = await p.done(CLIP_US / 1000 + 30_000))),
    ]);
    // Plain SPIF is stamped on arrival: the recording's time 0 arrived about when the partners started.
    spifOffsetUs = started * 1000;
    // UDP inputs never end by themselves: let the last datagrams land, then stop (queues drain, last samples decided).
    await waitFor(() => (service?.server.streams().find((s) => s.streamId === 'aestream-spif')?.queuedEvents ?? 1) === 0, 10_000, 'the SPIF queue to drain');
    metrics = await scrapeMetrics(service.address.url);
    await service.stop(10_000);
    service = undefined;
  });

  after(async () => {
    await service?.stop(1000);
    for (const w of writers) await w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function fromFile(): Promise<EventBatch[]> {
    const out: EventBatch[] = [];
    for await (const b of readEventFile(RECORDING)) out.push(b);
    return out;
  }

  it('WebSocket ingest of the clip decides (the reference)', () => {
    expect(byStream.get('ws') ?? []).to.have.length.above(3);
  });

  for (const id of TIMED_INPUTS) {
    it(`${id}: every decision equals WebSocket ingest's (ids, classes, steps, times, confidence)`, () => {
      const want = (byStream.get('ws') ?? []).map(key);
      expect((byStream.get(id) ?? []).map(key)).to.deep.equal(want);
    });
  }

  it('no event of a timed input was dropped by our queues, and /metrics says so per input', () => {
    for (const id of TIMED_INPUTS) {
      const events = metric('spikestream_input_events_total', id);
      expect(events, id).to.equal(clip.length);
      for (const reason of ['queue_overflow', 'bad_input', 'out_of_bounds']) {
        expect(metric('spikestream_input_dropped_total', id, reason), `${id} ${reason}`).to.equal(0);
      }
    }
  });

  it("aestream's quirks: the first event never sent; the last timestamped datagram's stale words dropped as time_backwards", () => {
    // It reads clip.length + 1 lines (the first repeated) and sends clip.length: every event of the clip arrived (previous test).
    expect(partnerOutput['aestream-spif-ts']).to.include(`Sent a total of ${clip.length} events`);
    const staleWords = clip.length % 32; // the last datagram carries as many stale words as real events
    expect(metric('spikestream_input_dropped_total', 'aestream-spif-ts', 'time_backwards')).to.equal(staleWords);
    expect(metric('spikestream_input_events_total', 'aestream-spif')).to.equal(clip.length);
  });

  it('plain SPIF (stamped on arrival, real-time pace): accuracy against the label windows, reported beside WebSocket ingest', () => {
    const windows = parseGestureLabels(fs.readFileSync(LABELS, 'utf8')).filter((w) => w.tStart < CLIP_US);
    const accuracy = (ds: readonly Decision[], shiftUs: number): { confident: number; right: number } => {
      const confident = ds.filter((d) => d.confident !== false);
      return { confident: confident.length, right: confident.filter((d) => isRightLive(windows, { ...d, eventTimeUs: d.eventTimeUs - shiftUs })).length };
    };
    const ws = accuracy(byStream.get('ws') ?? [], 0);
    const spif = accuracy(byStream.get('aestream-spif') ?? [], spifOffsetUs);
    console.log(`      plain SPIF: ${spif.right}/${spif.confident} confident decisions right; WebSocket ingest: ${ws.right}/${ws.confident} (8 s clip; the full recording is in bench/live-inputs)`);
    // Three gestures give a handful of decisions, and arrival stamps move with the machine's load: too few and too
    // noisy for an accuracy target, which bench/live-inputs measures on whole passes of the recording. Here: it decides.
    expect((byStream.get('aestream-spif') ?? []).length).to.be.above(0);
  });
});
