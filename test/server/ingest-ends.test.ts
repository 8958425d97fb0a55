import { expect } from 'chai';
import * as net from 'net';
import { WebSocket } from 'ws';
import type { Geometry } from '../../src/events/geometry';
import { type SpikeServer, type ServerOptions, type IngestStream, createServer, CLOSE_GEOMETRY_REFUSED, INGEST_CLOSE_REASONS, INGEST_REJECT_REASONS } from '../../src/server/server';
import { encodeEventMessage } from '../../src/formats/wire';
import { closed, makeBatch, openWs, refusedStatus, waitFor } from './helpers';

const MODEL_SIZE: Geometry = { width: 128, height: 128 };
const onlyModelSize = (g: Geometry): string | undefined =>
  g.width === MODEL_SIZE.width && g.height === MODEL_SIZE.height ? undefined : `sensor ${g.width}x${g.height} does not fit the 128x128 model (use --fit or --roi)`;

/** The body of a refused upgrade. */
function refusal(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
        req.destroy();
      });
    });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`expected ${url} to be refused, but it opened`));
    });
  });
}

function sum(srv: SpikeServer, counter: 'rejected' | 'closed'): number {
  const m = srv.metrics;
  return counter === 'rejected'
    ? INGEST_REJECT_REASONS.reduce((a, reason) => a + m.ingestRejected.get({ reason }), 0)
    : INGEST_CLOSE_REASONS.reduce((a, reason) => a + m.ingestClosed.get({ reason }), 0);
}

describe('server: sensors the model cannot take, and every close counted', function () {
  this.timeout(30000);
  const servers: SpikeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close({ drainMs: 100 })));
  });
  async function server(opts: ServerOptions = {}, onStream: (s: IngestStream) => void = (s) => s.events.subscribe()) {
    const srv = createServer({ host: '127.0.0.1', port: 0, ...opts });
    servers.push(srv);
    const announced: IngestStream[] = [];
    srv.ingest$.subscribe((s) => {
      announced.push(s);
      onStream(s);
    });
    const info = await srv.listen();
    return { srv, ws: info.url.replace('http:', 'ws:'), announced };
  }

  it('geometry in the URL that the model cannot take → HTTP 422 with the message; counted; nothing announced', async () => {
    const { srv, ws: url, announced } = await server({ acceptGeometry: onlyModelSize });
    const r = await refusal(`${url}/ingest/cam?width=240&height=180`);
    expect(r.status).to.equal(422);
    expect(r.body).to.equal('sensor 240x180 does not fit the 128x128 model (use --fit or --roi)\n');
    expect(srv.metrics.ingestRejected.get({ reason: 'geometry' })).to.equal(1);
    expect(srv.metrics.httpRefused.get({ status: 422 })).to.equal(1);
    const ok = await openWs(`${url}/ingest/cam?width=128&height=128`);
    await waitFor(() => announced.length === 1, 2000, 'the good stream');
    expect(announced[0].geometry).to.deep.equal(MODEL_SIZE);
    ok.close();
  });

  it('geometry from the first message that the model cannot take → close 4422 with the message (≤ 123 bytes); its events counted as discarded', async () => {
    const long = (g: Geometry): string => `sensor ${g.width}x${g.height} does not fit: ${'because '.repeat(30)}`;
    const { srv, ws: url, announced } = await server({ acceptGeometry: (g) => (g.width === 128 ? undefined : long(g)) });
    const s = await openWs(`${url}/ingest/cam`);
    const g: Geometry = { width: 346, height: 260 };
    s.send(encodeEventMessage(makeBatch(50, g), g));
    const c = await closed(s);
    expect(c.code).to.equal(CLOSE_GEOMETRY_REFUSED);
    expect(c.reason.startsWith('sensor 346x260 does not fit: because')).to.equal(true);
    expect(Buffer.byteLength(c.reason)).to.be.at.most(123);
    expect(announced).to.deep.equal([]);
    await waitFor(() => srv.metrics.ingestRejected.get({ reason: 'geometry' }) === 1, 2000, 'geometry counted');
    expect(srv.metrics.eventsDropped.get({ reason: 'discarded' })).to.equal(50);
    expect(srv.streams()).to.deep.equal([]);
  });

  it('a geometry check that throws refuses the stream with its message instead of failing the server', async () => {
    const { srv, ws: url } = await server({
      acceptGeometry: () => {
        throw new Error('model not loaded');
      },
    });
    const r = await refusal(`${url}/ingest/cam?width=128&height=128`);
    expect(r.status).to.equal(422);
    expect(r.body).to.match(/cannot check the sensor size 128x128: model not loaded/);
    expect(srv.metrics.ingestRejected.get({ reason: 'geometry' })).to.equal(1);
  });

  it('40 wrong-size sensors (URL and first message) and then a good one: the good one is announced and nothing is held', async () => {
    const { srv, ws: url, announced } = await server({ acceptGeometry: onlyModelSize, maxIngestStreams: 4 });
    const wrong: Geometry = { width: 240, height: 180 };
    for (let i = 0; i < 20; i++) expect(await refusedStatus(`${url}/ingest/w${i}?width=240&height=180`)).to.equal(422);
    for (let i = 0; i < 20; i++) {
      const s = await openWs(`${url}/ingest/m${i}`);
      s.send(encodeEventMessage(makeBatch(10, wrong, i + 1), wrong));
      expect((await closed(s)).code).to.equal(CLOSE_GEOMETRY_REFUSED);
    }
    await waitFor(() => srv.metrics.ingestRejected.get({ reason: 'geometry' }) === 40, 3000, 'all 40 counted');
    const good = await openWs(`${url}/ingest/good`);
    good.send(encodeEventMessage(makeBatch(10, MODEL_SIZE), MODEL_SIZE));
    await waitFor(() => announced.length === 1, 2000, 'the good stream');
    expect(announced[0].streamId).to.equal('good');
    expect(srv.streams().map((s) => s.streamId)).to.deep.equal(['good']);
    good.close();
  });

  it('every end of an accepted connection is counted once, in ingest_rejected or ingest_closed', async () => {
    const byId = new Map<string, IngestStream>();
    const { srv, ws: url } = await server({}, (s) => {
      byId.set(s.streamId, s);
      if (s.streamId !== 'unsub') s.events.subscribe();
    });
    const open = async (id: string): Promise<WebSocket> => {
      const w = await openWs(`${url}/ingest/${id}?width=128&height=128`);
      await waitFor(() => byId.has(id), 2000, `${id} announced`);
      return w;
    };
    // The service's pipeline fails on this stream: 1011.
    const failing = await open('failing');
    const failed = closed(failing);
    byId.get('failing')!.close(1011, 'pipeline error');
    expect(await failed).to.deep.equal({ code: 1011, reason: 'pipeline error' });
    // The consumer subscribes and unsubscribes: 1000 from our side.
    const unsub = await open('unsub');
    const unsubClosed = closed(unsub);
    byId.get('unsub')!.events.subscribe().unsubscribe();
    expect((await unsubClosed).code).to.equal(1000);
    // The service closes a stream for its own reasons.
    const other = await open('other');
    const otherClosed = closed(other);
    byId.get('other')!.close();
    expect((await otherClosed).code).to.equal(1000);
    // The sensor ends normally, and another drops its TCP connection.
    (await open('done')).close(1000, 'done');
    (await open('dropped')).terminate();
    // Malformed input from the sensor.
    const bad = await open('bad');
    bad.send(Buffer.from('garbage'));
    expect((await closed(bad)).code).to.equal(1007);
    // Shutdown closes what is left with 1001.
    const last = await open('last');
    const lastClosed = closed(last);
    await waitFor(() => sum(srv, 'closed') + sum(srv, 'rejected') === 6, 3000, 'six ends counted');
    await srv.close({ drainMs: 200 });
    expect((await lastClosed).code).to.equal(1001);
    const m = srv.metrics;
    expect({
      pipeline_error: m.ingestClosed.get({ reason: 'pipeline_error' }),
      consumer_unsubscribed: m.ingestClosed.get({ reason: 'consumer_unsubscribed' }),
      service: m.ingestClosed.get({ reason: 'service' }),
      sensor: m.ingestClosed.get({ reason: 'sensor' }),
      sensor_abnormal: m.ingestClosed.get({ reason: 'sensor_abnormal' }),
      shutdown: m.ingestClosed.get({ reason: 'shutdown' }),
      malformed: m.ingestRejected.get({ reason: 'malformed' }),
    }).to.deep.equal({ pipeline_error: 1, consumer_unsubscribed: 1, service: 1, sensor: 1, sensor_abnormal: 1, shutdown: 1, malformed: 1 });
    expect(sum(srv, 'closed') + sum(srv, 'rejected')).to.equal(byId.size);
    const text = await m.expose();
    expect(text).to.contain('spikestream_ingest_closed_total{reason="pipeline_error"} 1');
  });

  it('an upgrade that completes its headers during shutdown is refused with 503 and counted as shutting_down', async () => {
    const { srv, ws: url } = await server();
    const port = Number(new URL(url).port);
    let serverSide: net.Socket | undefined;
    srv.http.once('connection', (accepted: net.Socket) => (serverSide = accepted));
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', () => undefined);
    await new Promise((r) => socket.once('connect', r));
    const firstLines = 'GET /ingest/late HTTP/1.1\r\nHost: 127.0.0.1\r\n';
    socket.write(firstLines);
    // The first lines must reach the server's parser before close() (else the connection is idle and
    // simply closed). Nothing announces a partly received request, but the server's socket counts
    // what it read, and the parser takes each read as it comes.
    await waitFor(() => (serverSide?.bytesRead ?? 0) >= firstLines.length, 2000, 'the server to read the first lines');
    const closing = srv.close({ drainMs: 300 });
    socket.write('Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await waitFor(() => answer.includes('\r\n\r\n'), 2000, 'an answer');
    await closing;
    socket.destroy();
    expect(answer).to.match(/^HTTP\/1\.1 503 /);
    expect(srv.metrics.ingestRejected.get({ reason: 'shutting_down' })).to.equal(1);
  });
});
