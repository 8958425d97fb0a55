import { expect } from 'chai';
import type { AddressInfo } from 'net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventBatch } from '../../src/events/event-batch';
import { WireDecoder, closeCodeFor, encodeEventMessage } from '../../src/formats/wire';
import { streamToServer } from '../../src/client/sensor-client';
import { IngestClosedError, WebSocketIngest, type WebSocketSourceOptions, fromWebSocket } from '../../streams/sources/from-websocket';
import { closed, makeBatch, openWs, sleep, waitFor } from './helpers';

const G = { width: 64, height: 64 };

/** A bare ws server on loopback; `onConn` gets each server-side socket. */
async function bare(onConn: (ws: WebSocket) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', onConn);
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as AddressInfo).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

describe('streams/sources/from-websocket', function () {
  this.timeout(20000);
  const opts = (o: Partial<WebSocketSourceOptions> = {}): WebSocketSourceOptions => ({ decoder: new WireDecoder(), closeCodeFor, ...o });

  it('forward (a relay): each accepted message is decoded once and handed over with its exact bytes; nothing is queued', async () => {
    let ingest: WebSocketIngest | undefined;
    const wire = new WireDecoder();
    let decodes = 0;
    const forwarded: { bytes: Uint8Array; events: number }[] = [];
    const decoder = { decode: (b: Uint8Array) => (decodes++, wire.decode(b)) };
    const srv = await bare((ws) => (ingest = new WebSocketIngest(ws, opts({ decoder, forward: (bytes, d) => forwarded.push({ bytes, events: d.batch.length }) }))));
    const client = await openWs(srv.url);
    const sent = [encodeEventMessage(makeBatch(10, G), G), encodeEventMessage(makeBatch(5, G, 2, 1_000_000), G)];
    for (const m of sent) client.send(m);
    await waitFor(() => forwarded.length === 2, 2000, 'forwarded messages');
    expect(decodes).to.equal(2);
    expect(forwarded.map((f) => Buffer.from(f.bytes).equals(Buffer.from(sent[forwarded.indexOf(f)])))).to.deep.equal([true, true]);
    expect(forwarded.map((f) => f.events)).to.deep.equal([10, 5]);
    expect(ingest!.queue.stats.enqueuedEvents, 'queued events').to.equal(0);
    client.close();
    await srv.close();
  });

  it('unsubscribing closes the connection with 1000', async () => {
    let ingest: WebSocketIngest | undefined;
    const srv = await bare((ws) => (ingest = new WebSocketIngest(ws, opts())));
    const client = await openWs(srv.url);
    const c = closed(client);
    client.send(encodeEventMessage(makeBatch(10, G), G));
    await waitFor(() => ingest !== undefined && ingest.messages === 1, 2000, 'message');
    const got: EventBatch[] = [];
    const sub = ingest!.events.subscribe((b) => got.push(b));
    await waitFor(() => got.length === 1, 2000, 'batch');
    expect(await ingest!.geometryReady).to.deep.equal(G);
    sub.unsubscribe();
    expect((await c).code).to.equal(1000);
    await srv.close();
  });

  it('errorOnProtocolError: a malformed message errors the Observable with IngestClosedError(1007) after queued events', async () => {
    let events: import('rxjs').Observable<EventBatch> | undefined;
    const srv = await bare((ws) => (events = fromWebSocket(ws, opts({ errorOnProtocolError: true }))));
    const client = await openWs(srv.url);
    const c = closed(client);
    client.send(encodeEventMessage(makeBatch(10, G), G));
    client.send(Buffer.from([1, 9, 9]));
    expect((await c).code).to.equal(1007);
    const got: EventBatch[] = [];
    const err = await new Promise<unknown>((resolve) => events!.subscribe({ next: (b) => got.push(b), error: resolve, complete: () => resolve(undefined) }));
    expect(got.length).to.equal(1);
    expect(err).to.be.instanceOf(IngestClosedError);
    expect((err as IngestClosedError).code).to.equal(1007);
    await srv.close();
  });

  it("queue overflow under 'error' closes with 1008; the default completes cleanly", async () => {
    let ingest: WebSocketIngest | undefined;
    const srv = await bare((ws) => (ingest = new WebSocketIngest(ws, opts({ capacityEvents: 15, overflow: 'error' }))));
    const client = await openWs(srv.url);
    const c = closed(client);
    client.send(encodeEventMessage(makeBatch(10, G), G));
    client.send(encodeEventMessage(makeBatch(10, G, 2, 5000), G));
    expect((await c).code).to.equal(1008);
    let completed = false;
    ingest!.events.subscribe({ complete: () => (completed = true) });
    await waitFor(() => completed, 2000, 'completion');
    expect(ingest!.queue.stats).to.include({ enqueuedEvents: 10, droppedEvents: 10 });
    expect(ingest!.closeInfo).to.include({ code: 1008, by: 'protocol' });
    await srv.close();
  });

  it('sensor client: stops pulling input while the server does not read (bounded memory), finishes when it does', async () => {
    let serverSide: WebSocket | undefined;
    let received = 0;
    const srv = await bare((ws) => {
      serverSide = ws;
      (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      ws.on('message', () => received++);
    });
    let pulled = 0;
    async function* gen() {
      for (let i = 0; i < 600; i++) {
        pulled++;
        yield makeBatch(5000, G, i + 1, i * 1e6); // ~26 kB per message
      }
    }
    const done = streamToServer(srv.url, gen(), G, { maxBufferedBytes: 256 * 1024 });
    await waitFor(() => serverSide !== undefined, 2000, 'connection');
    let lastPulled = -1;
    let unchangedSince = Date.now();
    const pullsStopped = () => {
      if (pulled !== lastPulled) [lastPulled, unchangedSince] = [pulled, Date.now()];
      return Date.now() - unchangedSince >= 100;
    };
    await waitFor(pullsStopped, 10_000, 'the client to stop pulling (no pull for 100 ms)');
    const stalledAt = pulled;
    await sleep(200); // a fixed wait is the point: no pull may happen while the server is not reading
    expect(pulled).to.equal(stalledAt); // not pulling while blocked
    expect(stalledAt).to.be.lessThan(600);
    console.log(`      sensor client paused after ${stalledAt} of 600 batches (~${((stalledAt * 26) / 1024).toFixed(1)} MiB incl. kernel buffers)`);
    (serverSide as unknown as { _socket: { resume(): void } })._socket.resume();
    // The bare server never closes; answer the client's close.
    const r = await done;
    expect(r.events).to.equal(600 * 5000);
    expect(received).to.equal(600);
    await srv.close();
  });
});
