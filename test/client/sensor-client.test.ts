import { expect } from 'chai';
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { sliceByIndex } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { Aedat31Writer } from 'aedat-parser-ts';
import { type SpikeServer, type ServerOptions, type IngestStream, createServer } from '../../src/server/server';
import { SensorClientError, type SensorFailureKind, streamToServer } from '../../src/client/sensor-client';
import { makeTempDir } from '../helpers/paths';
import { makeBatch, openWs, sleep } from '../server/helpers';

const G: Geometry = { width: 128, height: 128 };
const TOKEN = 's3cret';
const refuse128 = (g: Geometry): string | undefined => (g.width === 128 ? 'sensor 128x128 does not fit the 34x34 model (use --fit or --roi)' : undefined);

/** A server for one case; `onStream` is what the "service" does with each announced stream. */
interface Setup {
  options?: ServerOptions;
  onStream?: (s: IngestStream) => void;
  /** Path and query after the base URL (default /ingest/cam). */
  target?: string;
  /** Opens a first connection with this stream id before the case runs. */
  occupy?: string;
  /** No server at all: the port was free a moment ago. */
  noServer?: boolean;
  token?: string;
}

interface Case extends Setup {
  name: string;
  kind: SensorFailureKind;
  httpStatus?: number;
  closeCode?: number;
  /** The one line, after `spikestream: ` (URL included). */
  line: RegExp;
}

const CASES: Case[] = [
  { name: 'no server (ECONNREFUSED)', noServer: true, kind: 'connect', line: /^cannot connect to ws:\/\/127\.0\.0\.1:\d+\/ingest\/cam: connection refused \(is the server running and listening there\?\)$/ },
  { name: 'missing token (401)', options: { token: TOKEN }, kind: 'refused', httpStatus: 401, line: /^ws:\/\/127\.0\.0\.1:\d+\/ingest\/cam refused the stream: HTTP 401 missing or wrong token \(pass the server's token\)$/ },
  { name: 'wrong token (401)', options: { token: TOKEN }, token: 'nope', kind: 'refused', httpStatus: 401, line: /refused the stream: HTTP 401 missing or wrong token/ },
  { name: 'wrong path (404)', target: '/ingestion/cam', kind: 'refused', httpStatus: 404, line: /^ws:\/\/127\.0\.0\.1:\d+\/ingestion\/cam refused the stream: HTTP 404 no such endpoint \(use \/ingest\/<streamId> or \/decisions\)$/ },
  { name: 'duplicate stream id (409)', occupy: 'cam', kind: 'refused', httpStatus: 409, line: /refused the stream: HTTP 409 stream 'cam' is already connected$/ },
  { name: 'sensor size refused at the upgrade (422)', options: { acceptGeometry: refuse128 }, target: '/ingest/cam?width=128&height=128', kind: 'refused', httpStatus: 422, line: /\/ingest\/cam\?width=128&height=128 refused the stream: HTTP 422 sensor 128x128 does not fit the 34x34 model \(use --fit or --roi\)$/ },
  { name: 'sensor size refused at the first message (4422)', options: { acceptGeometry: refuse128 }, kind: 'closed', closeCode: 4422, line: /\/ingest\/cam closed the stream with 4422 \(sensor size refused\): sensor 128x128 does not fit the 34x34 model \(use --fit or --roi\), after \d+ events sent$/ },
  { name: 'pipeline error (1011)', onStream: (s) => s.close(1011, 'pipeline error'), kind: 'closed', closeCode: 1011, line: /closed the stream with 1011 \(the server failed on this stream\): pipeline error, after \d+ events sent$/ },
  { name: 'geometry that contradicts the URL (1007)', target: '/ingest/cam?width=64&height=64', kind: 'closed', closeCode: 1007, line: /closed the stream with 1007 \(malformed message\): .*geometry/ },
  { name: 'over the event rate (1008)', options: { maxEventsPerSecond: 10, burstEvents: 10, rateLimitAction: 'close' }, kind: 'closed', closeCode: 1008, line: /closed the stream with 1008 \(policy violation\): event rate limit exceeded/ },
  { name: 'message with too many events (1009)', options: { maxEventsPerMessage: 5 }, kind: 'closed', closeCode: 1009, line: /closed the stream with 1009 \(message too big\)/ },
];

describe('sensor client: every way a stream can fail is one clear line and a non-zero exit', function () {
  this.timeout(120000);
  const servers: SpikeServer[] = [];
  let dir: string;
  let file: string;
  // 2000 events over about 2 s of sensor time: long enough that a paced sensor is still sending when the server objects.
  const batch = makeBatch(2000, G, 3, 0, 2000);
  /** The recording as a camera would send it: 200-event slices, 20 ms apart. */
  async function* paced() {
    for (let i = 0; i < batch.length; i += 200) {
      yield sliceByIndex(batch, i, Math.min(batch.length, i + 200));
      await sleep(20); // paces the sensor: still sending when the server objects
    }
  }
  before(() => {
    dir = makeTempDir();
    file = path.join(dir, 'cam.aedat');
    const w = new Aedat31Writer({ geometry: G });
    fs.writeFileSync(file, Buffer.concat([w.header(), w.encode(batch)]));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close({ drainMs: 100 })));
  });

  /** Starts the case's server; returns the URL the sensor should use. */
  async function setUp(c: Setup): Promise<string> {
    const srv = createServer({ host: '127.0.0.1', port: 0, ...c.options });
    srv.ingest$.subscribe(c.onStream ?? ((s) => s.events.subscribe()));
    const { port } = await srv.listen();
    const base = `ws://127.0.0.1:${port}`;
    if (c.noServer) await srv.close({ drainMs: 0 });
    else servers.push(srv);
    if (c.occupy) await openWs(`${base}/ingest/${c.occupy}`);
    return `${base}${c.target ?? '/ingest/cam'}`;
  }

  describe('streamToServer', () => {
    for (const c of CASES) {
      it(`${c.name}: SensorClientError ${c.kind}${c.httpStatus ? ` ${c.httpStatus}` : ''}${c.closeCode ? ` ${c.closeCode}` : ''}`, async () => {
        const url = await setUp(c);
        const err = await streamToServer(url, paced(), G, { token: c.token }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).to.be.instanceOf(SensorClientError);
        const e = err as SensorClientError;
        expect(e.message).to.match(c.line);
        expect(e.message).to.not.contain('\n');
        expect(e.message).to.not.contain('Unexpected server response');
        expect(e.kind).to.equal(c.kind);
        expect(e.httpStatus).to.equal(c.httpStatus);
        if (c.closeCode !== undefined) expect(e.closeCode).to.equal(c.closeCode);
      });
    }

    it('the server closing with 1000 before everything was sent is a failure, not a success', async () => {
      let consumer: IngestStream | undefined;
      const url = await setUp({ onStream: (s) => (consumer = s) });
      async function* endless() {
        for (let i = 0; ; i++) {
          if (i === 3) consumer?.events.subscribe().unsubscribe(); // the pipeline gives up on the stream
          yield makeBatch(100, G, i + 1, i * 10000);
          await sleep(10); // paces the endless sensor, so the server's close arrives while it sends
        }
      }
      const err = await streamToServer(url, endless(), G).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SensorClientError);
      expect((err as SensorClientError).message).to.match(/closed the stream with 1000 \(normal close\): consumer unsubscribed, after \d+ events sent$/);
    });

    it('a whole recording sent and closed normally resolves with what was sent', async () => {
      const url = await setUp({});
      const r = await streamToServer(url, [batch], G, { maxEventsPerMessage: 500 });
      expect(r).to.include({ events: 2000, messages: 4, closeCode: 1000 });
    });
  });

  describe('spikestream sensor (child process)', () => {
    const main = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
    function sensor(url: string, extra: readonly string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        execFile(process.execPath, [main, 'sensor', file, '--url', url, '--speed', '4', ...extra], { timeout: 90000, env: { ...process.env, SPIKESTREAM_TOKEN: '' } }, (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
          resolve({ code, stdout, stderr });
        });
      });
    }

    it('each failure: exit 1 and exactly one line on stderr naming the URL and the cause, no stack trace', async () => {
      // Each case has its own server; the child processes run side by side.
      const runs = await Promise.all(
        CASES.map(async (c) => {
          const url = await setUp(c);
          return { c, r: await sensor(url, c.token ? ['--token', c.token] : []) };
        }),
      );
      for (const { c, r } of runs) {
        const lines = r.stderr.split('\n').filter((l) => l !== '');
        expect(r.code, `${c.name}: exit code (stderr: ${r.stderr})`).to.equal(1);
        expect(lines, `${c.name}: stderr`).to.have.length(1);
        expect(lines[0].replace(/^spikestream: /, ''), c.name).to.match(c.line);
        expect(r.stderr, c.name).to.not.match(/^\s+at /m);
      }
    });

    it('a normal run exits 0 and reports what was sent; a malformed --url is a usage error (exit 2)', async () => {
      const url = await setUp({});
      const ok = await sensor(url, ['--json']);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stderr).to.equal('');
      expect(JSON.parse(ok.stdout)).to.include({ events: 2000, closeCode: 1000 });
      const bad = await sensor('127.0.0.1:8080/ingest/cam');
      expect(bad.code).to.equal(2);
      expect(bad.stderr.trim()).to.match(/^spikestream: --url must be a ws:\/\/ URL/);
    });
  });
});
