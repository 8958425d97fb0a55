import { expect } from 'chai';
import WebSocket from 'ws';
import * as dgram from 'dgram';
import * as path from 'path';
import { startService, type Service } from '../../src/server/service';
import { InputStartError } from '../../src/server/inputs';
import { parseInputUrls } from '../../src/server/input-url';
import { loadClassifierModel, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { freeUdpPort } from '../helpers/live-partners';
import { repoRoot } from '../helpers/paths';
import { scrapeMetrics } from '../helpers/scrape';
import { waitFor } from '../helpers/time';
import { encodeDatagram } from '../helpers/udp-encoder';
import { randomEvents } from '../helpers/events';

function send(port: number, bytes: Uint8Array): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => s.send(bytes, port, '127.0.0.1', (e) => (s.close(), e ? reject(e) : resolve())));
}

describe('server: live inputs beside WebSocket ingest (the service side)', function () {
  this.timeout(30000);
  let model: ClassifierModel;
  let service: Service | undefined;
  before(() => (model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'))));
  afterEach(async () => {
    await service?.stop(1000);
    service = undefined;
  });

  it('a sensor size the model cannot take closes only that input, with one line, counted; the others are listed in /health and count what they get', async () => {
    const [big, ok] = [await freeUdpPort(), await freeUdpPort()];
    const lines: string[] = [];
    service = await startService({
      model,
      port: 0,
      inputs: parseInputUrls([`udp://127.0.0.1:${big}?format=spif&width=640&height=480#big`, `udp://127.0.0.1:${ok}?format=t64_x16_y16_on8&width=128&height=128#ok`]),
      onInputNotice: (l) => lines.push(l),
    });
    await waitFor(() => lines.some((l) => l.startsWith('input big: refused: ')), 5000, 'the refusal');
    expect(lines.filter((l) => l.startsWith('input big:'))).to.have.length(1);
    expect(lines[0]).to.match(/640×480|640x480/);
    const events = randomEvents(100, 128, 128, 1, 3, 5000);
    await send(ok, encodeDatagram('t64_x16_y16_on8', events));
    await send(ok, new Uint8Array(7));
    await waitFor(async () => (await scrapeMetrics(service!.address.url)).get('spikestream_input_bad_messages_total{input="ok"}') === 1, 5000, 'the bad datagram counted');
    const m = await scrapeMetrics(service.address.url);
    expect(m.get('spikestream_input_refused_total{input="big"}')).to.equal(1);
    expect(m.get('spikestream_input_refused_total{input="ok"}')).to.equal(0);
    expect(m.get('spikestream_input_events_total{input="ok"}')).to.equal(100);
    const health = (await (await fetch(`${service.address.url}/health`)).json()) as { streams: { streamId: string; input?: string; messages: number }[] };
    expect(health.streams.find((s) => s.streamId === 'ok')).to.deep.include({ input: `udp://127.0.0.1:${ok}?format=t64_x16_y16_on8&width=128&height=128#ok`, messages: 2, firstEventUs: events.t[0] });
    // A WebSocket sensor cannot take a live input's stream id.
    const ws = new WebSocket(`${service.address.url.replace(/^http/, 'ws')}/ingest/ok?width=128&height=128`);
    const refusal = await new Promise<{ status: number; body: string }>((resolve) =>
      ws.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }),
    );
    expect(refusal.status).to.equal(409);
    expect(refusal.body).to.include("stream 'ok' is a live input of this service (--input)");
    // The refused input's port is released: nothing listens beyond what the user asked for.
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.bind(big, '127.0.0.1', () => resolve());
    });
    probe.close();
  });

  it('an input that cannot start (its UDP port in use) stops the service from starting, in one line', async () => {
    const busy = dgram.createSocket('udp4');
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', r));
    const port = busy.address().port;
    try {
      await startService({ model, port: 0, inputs: parseInputUrls([`udp://127.0.0.1:${port}?format=spif&width=128&height=128`]) }).then(
        (s) => {
          service = s;
          expect.fail('started');
        },
        (err: Error) => {
          expect(err).to.be.instanceOf(InputStartError);
          expect(err.message).to.equal(`input udp-${port} (udp://127.0.0.1:${port}?format=spif&width=128&height=128) cannot start: bind EADDRINUSE 127.0.0.1:${port}`);
        },
      );
    } finally {
      busy.close();
    }
  });
});
