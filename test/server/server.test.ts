import { expect } from 'chai';
import { createHook } from 'async_hooks';
import * as http from 'http';
import { from } from 'rxjs';
import { WebSocket } from 'ws';
import { type EventBatch, concatBatches } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { type SpikeServer, type ServerOptions, type IngestStream, createServer, isLoopbackHost } from '../../src/server/server';
import { SensorClientError, streamToServer } from '../../src/client/sensor-client';
import { encodeEventMessage } from '../../src/formats/wire';
import type { Decision } from '../../streams/types';
import { closed, makeBatch, openWs, refusedStatus, sameBatch, sleep, waitFor } from './helpers';
import { makeDecision } from '../helpers/decision-fixture';

const G: Geometry = { width: 128, height: 128 };

interface Collected {
  stream: IngestStream;
  batches: EventBatch[];
  done: boolean;
  error?: unknown;
}

async function start(opts: ServerOptions = {}): Promise<{ srv: SpikeServer; base: string; ws: string; got: Map<string, Collected> }> {
  const srv = createServer({ host: '127.0.0.1', port: 0, ...opts });
  const got = new Map<string, Collected>();
  srv.ingest$.subscribe((stream) => {
    const c: Collected = { stream, batches: [], done: false };
    got.set(stream.streamId, c);
    stream.events.subscribe({
      next: (b) => c.batches.push(b),
      error: (e) => {
        c.error = e;
        c.done = true;
      },
      complete: () => (c.done = true),
    });
  });
  const info = await srv.listen();
  return { srv, base: info.url, ws: info.url.replace('http:', 'ws:'), got };
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function decision(streamId: string, i: number, extra: Partial<Decision> = {}): Decision {
  return makeDecision({ streamId, sampleId: `${streamId}#${i}`, label: i % 11, className: `class${i % 11}`, sampleStartUs: 1000 * i - 500, eventTimeUs: 1000 * i, ...extra });
}

/** Collects JSON messages of a subscriber socket. */
function collect(ws: WebSocket): { type: string; [k: string]: unknown }[] {
  const out: { type: string; [k: string]: unknown }[] = [];
  ws.on('message', (d) => out.push(JSON.parse(d.toString())));
  return out;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:\\.|[^"\\])*",?)*\})? (NaN|[+-]Inf|-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/;

describe('server: HTTP + WebSocket service (loopback)', function () {
  this.timeout(30000);
  const servers: SpikeServer[] = [];
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await Promise.all(servers.splice(0).map((s) => s.close({ drainMs: 100 })));
  });
  async function server(opts: ServerOptions = {}) {
    const s = await start(opts);
    servers.push(s.srv);
    return s;
  }
  async function ws(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
    const w = await openWs(url, headers);
    sockets.push(w);
    return w;
  }

  describe('startup and plain HTTP', () => {
    it('refuses a non-loopback address without a token', () => {
      expect(isLoopbackHost('127.0.0.1')).to.equal(true);
      expect(isLoopbackHost('::1')).to.equal(true);
      expect(isLoopbackHost('0.0.0.0')).to.equal(false);
      expect(() => createServer({ host: '0.0.0.0' })).to.throw(/token/);
      expect(() => createServer({ host: '::' })).to.throw(/token/);
      expect(() => createServer({ host: '0.0.0.0', token: 't' })).not.to.throw();
    });

    it('GET /health, /metrics (parseable Prometheus text), 404 and 405', async () => {
      const { base } = await server();
      const h = await get(`${base}/health`);
      expect(h.status).to.equal(200);
      expect(h.type).to.match(/application\/json/);
      const health = JSON.parse(h.body);
      expect(health).to.include({ status: 'ok', subscribers: 0 });
      expect(health.streams).to.deep.equal([]);
      const m = await get(`${base}/metrics`);
      expect(m.status).to.equal(200);
      expect(m.type).to.match(/^text\/plain; version=0\.0\.4/);
      const names = new Set<string>();
      const typed = new Set<string>();
      for (const line of m.body.trimEnd().split('\n')) {
        if (line === '' || line.startsWith('# HELP ')) continue; // prom-client puts a blank line between families
        if (line.startsWith('# TYPE ')) {
          typed.add(line.split(' ')[2]);
          continue;
        }
        const mm = SAMPLE_LINE.exec(line);
        expect(mm, `bad sample line: ${line}`).to.not.equal(null);
        names.add(mm![1].replace(/_(bucket|sum|count)$/, ''));
      }
      for (const n of [
        'spikestream_events_in_total',
        'spikestream_events_dropped_total',
        'spikestream_active_streams',
        'spikestream_active_slots',
        'spikestream_decisions_total',
        'spikestream_early_decisions_total',
        'spikestream_steps_saved_total',
        'spikestream_step_latency_seconds',
        'spikestream_subscriber_drops_total',
      ]) {
        expect(typed.has(n), n).to.equal(true);
      }
      for (const n of names) expect(typed.has(n), `${n} has no # TYPE`).to.equal(true);
      expect((await get(`${base}/nope`)).status).to.equal(404);
      expect((await get(`${base}/health`, {}, 'POST')).status).to.equal(405);
    });
  });

  describe('ingest', () => {
    it('token: missing or wrong → 401; Bearer header or ?token= → accepted; events arrive intact', async () => {
      const { srv, ws: url, got } = await server({ token: 's3cret' });
      expect(await refusedStatus(`${url}/ingest/cam0`)).to.equal(401);
      expect(await refusedStatus(`${url}/ingest/cam0`, { Authorization: 'Bearer nope' })).to.equal(401);
      expect(await refusedStatus(`${url}/ingest/cam0?token=nope`)).to.equal(401);
      expect(await refusedStatus(`${url}/decisions`)).to.equal(401);
      let e: unknown;
      try {
        await streamToServer(`${url}/ingest/cam0`, [makeBatch(10, G)], G, { token: 'wrong' });
      } catch (err) {
        e = err;
      }
      expect(e).to.be.instanceOf(SensorClientError);
      expect((e as SensorClientError).httpStatus).to.equal(401);

      const batches = [makeBatch(5000, G, 1, 0), makeBatch(3000, G, 2, 200000), makeBatch(1, G, 3, 300000)];
      const r = await streamToServer(`${url}/ingest/cam0`, batches, G, { token: 's3cret', maxEventsPerMessage: 1024 });
      expect(r).to.include({ events: 8001, messages: 5 + 3 + 1, closeCode: 1000 });
      await waitFor(() => got.get('cam0')?.done === true, 5000, 'cam0 to complete');
      const c = got.get('cam0')!;
      expect(c.stream.geometry).to.deep.equal(G);
      expect(sameBatch(concatBatches(c.batches), concatBatches(batches))).to.equal(true);
      expect(srv.metrics.eventsIn.get()).to.equal(8001);
      // ?token= works as well, and AEDAT 3.1 packets from an Observable decode to the same events.
      const b2 = makeBatch(4000, G, 7, 5000);
      await streamToServer(`${url}/ingest/cam1?token=s3cret`, from([b2]), G, { encoding: 'aedat3', maxEventsPerMessage: 1500 });
      await waitFor(() => got.get('cam1')?.done === true, 5000, 'cam1 to complete');
      expect(sameBatch(concatBatches(got.get('cam1')!.batches), b2)).to.equal(true);
      expect(srv.metrics.ingestRejected.get({ reason: 'auth' })).to.equal(4);
    });

    it('geometry from the URL; bad stream id or geometry → 400; unknown path → 404', async () => {
      const { ws: url, got } = await server();
      expect(await refusedStatus(`${url}/ingest/${'x'.repeat(65)}`)).to.equal(400);
      expect(await refusedStatus(`${url}/ingest/a%20b`)).to.equal(400);
      expect(await refusedStatus(`${url}/ingest/cam?width=0&height=5`)).to.equal(400);
      expect(await refusedStatus(`${url}/elsewhere`)).to.equal(404);
      const s = await ws(`${url}/ingest/cam?width=64&height=48`);
      await waitFor(() => got.has('cam'), 2000, 'ingest$ announcement');
      expect(got.get('cam')!.stream.geometry).to.deep.equal({ width: 64, height: 48 });
      // A message with another geometry is invalid for this connection.
      s.send(encodeEventMessage(makeBatch(3, G), G));
      const c = await closed(s);
      expect(c.code).to.equal(1007);
      expect(c.reason).to.match(/geometry/);
    });

    it('an oversized message closes that stream with 1009 while another stream continues untouched', async () => {
      const { srv, ws: url, got } = await server({ maxMessageBytes: 64 * 1024, maxEventsPerMessage: 100000 });
      const healthy = makeBatch(40000, G, 11, 0);
      const sending = streamToServer(`${url}/ingest/good`, [healthy], G, { maxEventsPerMessage: 2000 });
      const big = await ws(`${url}/ingest/big`);
      big.send(encodeEventMessage(makeBatch(5, G), G));
      big.send(encodeEventMessage(makeBatch(20000, G, 5, 1e6), G)); // ~100 kB > 64 KiB
      const c = await closed(big);
      expect(c.code).to.equal(1009);
      const r = await sending;
      expect(r.closeCode).to.equal(1000);
      await waitFor(() => got.get('good')?.done === true && got.get('big')?.done === true, 5000, 'streams to end');
      expect(sameBatch(concatBatches(got.get('good')!.batches), healthy)).to.equal(true);
      expect(concatBatches(got.get('big')!.batches).length).to.equal(5);
      await waitFor(() => srv.metrics.ingestRejected.get({ reason: 'too_big' }) === 1, 3000, 'too_big counted');
      // Too many events in one (small enough) message is also 1009.
      const { srv: srv2, ws: url2 } = await server({ maxEventsPerMessage: 100 });
      const m2 = await ws(`${url2}/ingest/m`);
      m2.send(encodeEventMessage(makeBatch(101, G), G));
      expect((await closed(m2)).code).to.equal(1009);
      await waitFor(() => srv2.metrics.ingestRejected.get({ reason: 'too_big' }) === 1, 3000, 'too_big counted');
    });

    it('garbage bytes → 1007, text → 1003, and other streams continue', async () => {
      const { srv, ws: url, got } = await server();
      const healthy = makeBatch(30000, G, 12, 0);
      const sending = streamToServer(`${url}/ingest/good`, [healthy], G, { maxEventsPerMessage: 1000 });
      const bad = await ws(`${url}/ingest/bad`);
      bad.send(Buffer.from('this is not a wire message at all'));
      const c = await closed(bad);
      expect(c.code).to.equal(1007);
      expect(c.reason).to.match(/version/);
      const bad2 = await ws(`${url}/ingest/bad2`);
      bad2.send(encodeEventMessage(makeBatch(10, G), G).subarray(0, 30));
      expect((await closed(bad2)).code).to.equal(1007);
      const txt = await ws(`${url}/ingest/txt`);
      txt.send('hello');
      expect((await closed(txt)).code).to.equal(1003);
      expect((await sending).closeCode).to.equal(1000);
      await waitFor(() => got.get('good')?.done === true, 5000, 'good to end');
      expect(sameBatch(concatBatches(got.get('good')!.batches), healthy)).to.equal(true);
      await waitFor(() => srv.metrics.ingestRejected.get({ reason: 'malformed' }) === 3, 3000, 'malformed counted');
    });

    it("flood beyond the rate limit: messages over budget are dropped and counted ('drop'), or the stream is closed with 1008 ('close')", async () => {
      const { srv, ws: url, got } = await server({ maxEventsPerSecond: 20000, burstEvents: 5000 });
      const batches = Array.from({ length: 50 }, (_, i) => makeBatch(1000, G, i + 1, i * 100000));
      const t0 = performance.now();
      const r = await streamToServer(`${url}/ingest/flood`, batches, G, { maxEventsPerMessage: 1000 });
      const elapsed = (performance.now() - t0) / 1000;
      expect(r.closeCode).to.equal(1000);
      await waitFor(() => got.get('flood')?.done === true, 5000, 'flood to end');
      const accepted = concatBatches(got.get('flood')!.batches).length;
      const dropped = srv.metrics.eventsDropped.get({ reason: 'rate_limit' });
      expect(accepted + dropped).to.equal(50000);
      expect(accepted).to.be.at.least(5000);
      expect(accepted).to.be.at.most(5000 + Math.ceil(20000 * elapsed) + 1000);
      expect(srv.metrics.eventsIn.get()).to.equal(accepted);
      // Accepted events are whole messages, in order.
      expect(accepted % 1000).to.equal(0);

      const { srv: s2, ws: url2 } = await server({ maxEventsPerSecond: 1000, burstEvents: 1000, rateLimitAction: 'close' });
      let err: unknown;
      try {
        await streamToServer(`${url2}/ingest/flood`, batches.slice(0, 5), G, { maxEventsPerMessage: 1000 });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(SensorClientError);
      expect((err as SensorClientError).closeCode).to.equal(1008);
      await waitFor(() => s2.metrics.ingestRejected.get({ reason: 'rate_limit' }) === 1, 3000, 'rate_limit counted');
    });

    it('concurrent-stream limit → 503; a second connection for the same streamId → 409', async () => {
      const { srv, ws: url, base } = await server({ maxIngestStreams: 2 });
      const a = await ws(`${url}/ingest/a`);
      await ws(`${url}/ingest/b`);
      expect(await refusedStatus(`${url}/ingest/a`)).to.equal(409);
      expect(await refusedStatus(`${url}/ingest/c`)).to.equal(503);
      expect(srv.metrics.activeStreams.get()).to.equal(2);
      const health = JSON.parse((await get(`${base}/health`)).body);
      expect(health.streams.map((s: { streamId: string }) => s.streamId).sort()).to.deep.equal(['a', 'b']);
      a.close();
      await waitFor(() => srv.metrics.activeStreams.get() === 1, 3000, 'a to be released');
      const c = await ws(`${url}/ingest/c`);
      const a2 = await ws(`${url}/ingest/a`).catch((e: Error) => e);
      expect(a2).to.be.instanceOf(Error); // still full (b and c)
      c.close();
      await waitFor(() => srv.metrics.activeStreams.get() === 1, 3000, 'c to be released');
      await ws(`${url}/ingest/a`);
      expect(srv.metrics.ingestRejected.get({ reason: 'conflict' })).to.equal(1);
      expect(srv.metrics.ingestRejected.get({ reason: 'busy' })).to.equal(2);
    });
  });

  describe('decision subscribers', () => {
    it('receive published decisions and traces according to ?stream= and ?trace=1', async () => {
      const { srv, ws: url } = await server();
      const all = collect(await ws(`${url}/decisions`));
      const onlyA = collect(await ws(`${url}/decisions?stream=a`));
      const traceB = collect(await ws(`${url}/decisions?stream=b&trace=1`));
      const traceAll = collect(await ws(`${url}/decisions?trace=1`));
      expect(await refusedStatus(`${url}/decisions?trace=maybe`)).to.equal(400);
      await waitFor(() => srv.hub.size === 4, 2000, 'subscribers');
      for (let i = 0; i < 3; i++) {
        srv.publish(decision('a', i, { early: i !== 2, steps: i === 2 ? 16 : 4 }));
        srv.publish(decision('b', i));
        srv.publishTrace({ streamId: 'a', sampleId: `a#${i}`, step: i, confidence: 0.5, predicted: 1 });
        srv.publishTrace({ streamId: 'b', sampleId: `b#${i}`, step: i, confidence: 0.5, predicted: 2 });
      }
      expect(srv.metrics.decisions.get()).to.equal(6);
      expect(srv.metrics.earlyDecisions.get()).to.equal(5);
      expect(srv.metrics.stepsSaved.get()).to.equal(5 * 12);
      // One last decision per stream marks the end: the hub writes to each socket in publish order,
      // so once a subscriber holds the markers its filter lets through, a message the filter should
      // have dropped would already be there.
      srv.publish(decision('a', 99));
      srv.publish(decision('b', 99));
      const isMarker = (m: (typeof all)[number]): boolean => m.sampleId === 'a#99' || m.sampleId === 'b#99';
      const markers = (ms: typeof all): number => ms.filter(isMarker).length;
      await waitFor(() => markers(all) === 2 && markers(onlyA) === 1 && markers(traceB) === 1 && markers(traceAll) === 2, 3000, 'the end markers');
      const [allGot, onlyAGot, traceBGot, traceAllGot] = [all, onlyA, traceB, traceAll].map((ms) => ms.filter((m) => !isMarker(m)));
      expect([allGot.length, onlyAGot.length, traceBGot.length, traceAllGot.length]).to.deep.equal([6, 3, 6, 12]);
      expect(allGot.every((m) => m.type === 'decision')).to.equal(true);
      expect(onlyAGot.map((m) => m.sampleId)).to.deep.equal(['a#0', 'a#1', 'a#2']);
      expect(traceBGot.every((m) => m.streamId === 'b')).to.equal(true);
      expect(traceBGot.filter((m) => m.type === 'trace').length).to.equal(3);
      expect(traceAllGot.filter((m) => m.type === 'trace').length).to.equal(6);
      expect(allGot[0]).to.deep.equal({ type: 'decision', ...decision('a', 0) });
    });

    it('a stalled subscriber does not delay a healthy one; its drops are counted', async () => {
      const { srv, ws: url } = await server({ subscriberMaxBufferedBytes: 256 * 1024 });
      const stalledWs = await ws(`${url}/decisions?trace=1`);
      const healthyWs = await ws(`${url}/decisions?trace=1`);
      const healthy: { type: string; sampleId?: string; at: number }[] = [];
      healthyWs.on('message', (d) => {
        const m = JSON.parse(d.toString());
        healthy.push({ type: m.type, sampleId: m.sampleId, at: performance.now() });
      });
      await waitFor(() => srv.hub.size === 2, 2000, 'subscribers');
      // The stalled client stops reading: the kernel buffers fill, then its ws backlog grows.
      (stalledWs as unknown as { _socket: { pause(): void } })._socket.pause();
      const pad = 'x'.repeat(32 * 1024);
      const stalledSub = () => srv.hub.stats().find((s) => s.id === 1)!;
      let traces = 0;
      let maxPublishMs = 0;
      while (stalledSub().dropped === 0 && traces < 1500) {
        const t = performance.now();
        srv.publishTrace({ streamId: 's', sampleId: 's#0', step: traces++, confidence: 0.1, predicted: 0, pad });
        maxPublishMs = Math.max(maxPublishMs, performance.now() - t);
        if (traces % 8 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(stalledSub().dropped, 'the stalled subscriber should be dropping by now').to.be.greaterThan(0);
      expect(stalledSub().bufferedAmount).to.be.at.most(256 * 1024);
      await waitFor(() => healthy.length === traces, 10000, 'healthy to receive every trace');
      // Now N decisions, one every 2 ms: the healthy subscriber gets each promptly.
      const N = 100;
      const sentAt: number[] = [];
      for (let i = 0; i < N; i++) {
        sentAt.push(performance.now());
        srv.publish(decision('s', i));
        await sleep(2); // paces the publisher: one decision every 2 ms, as a live stream would send them
      }
      await waitFor(() => healthy.filter((m) => m.type === 'decision').length === N, 5000, 'healthy decisions');
      const got = healthy.filter((m) => m.type === 'decision');
      const lat = got.map((m, i) => m.at - sentAt[i]).sort((a, b) => a - b);
      const p50 = lat[Math.floor(N / 2)];
      const max = lat[N - 1];
      console.log(
        `      stalled-subscriber check: ${traces} × 32 KiB traces until drops began; healthy decision latency p50 ${p50.toFixed(2)} ms, max ${max.toFixed(2)} ms; stalled drops ${stalledSub().dropped}; slowest publish ${maxPublishMs.toFixed(2)} ms`,
      );
      expect(max).to.be.lessThan(250);
      expect(got.map((m) => m.sampleId)).to.deep.equal(Array.from({ length: N }, (_, i) => `s#${i}`));
      const st = stalledSub();
      // Small decisions still fit while its backlog has room; its memory stays bounded either way.
      expect(st.dropped).to.be.at.least(1);
      expect(st.bufferedAmount).to.be.at.most(256 * 1024);
      expect(srv.hub.droppedTotal).to.equal(st.dropped);
      expect(srv.metrics.subscriberDrops.get()).to.equal(st.dropped);
      const healthySub = srv.hub.stats().find((s) => s.id === 2)!;
      expect(healthySub.dropped).to.equal(0);
    });
  });

  describe('graceful close', () => {
    it('stops ingest (1001), delivers queued events, flushes the last decisions, closes subscribers with 1001', async () => {
      const srv = createServer({ port: 0 });
      servers.push(srv);
      const base = (await srv.listen()).url;
      const url = base.replace('http:', 'ws:');
      let count = 0;
      let completed = false;
      srv.ingest$.subscribe((s) => {
        s.events.subscribe({
          next: (b) => srv.publish(decision(s.streamId, count++, { eventTimeUs: b.t[b.length - 1] })),
          complete: () => {
            completed = true;
            srv.publish(decision(s.streamId, 999, { early: false, steps: 16 }));
          },
        });
      });
      const subWs = await ws(`${url}/decisions`);
      const msgs = collect(subWs);
      const subClosed = closed(subWs);
      const sensor = await ws(`${url}/ingest/cam`);
      const sensorClosed = closed(sensor);
      for (let i = 0; i < 5; i++) sensor.send(encodeEventMessage(makeBatch(100, G, i + 1, i * 10000), G));
      await waitFor(() => srv.streams()[0]?.messages === 5, 3000, 'five messages');
      const t0 = performance.now();
      await srv.close({ drainMs: 2000 });
      const took = performance.now() - t0;
      expect(completed).to.equal(true);
      expect((await sensorClosed).code).to.equal(1001);
      expect((await subClosed).code).to.equal(1001);
      expect(msgs.map((m) => m.sampleId)).to.deep.equal(['cam#0', 'cam#1', 'cam#2', 'cam#3', 'cam#4', 'cam#999']);
      expect(took).to.be.lessThan(2500);
      const after = await get(`${base}/health`).catch((e: Error) => e);
      expect(after).to.be.instanceOf(Error);
      await srv.close(); // idempotent
    });

    it('an idle close returns at once and leaves no timer behind (the process can exit)', async () => {
      const srv = createServer({ port: 0 });
      await srv.listen();
      // Every timer created while closing, until it fires or is cleared.
      const pending = new Set<number>();
      const hook = createHook({
        init: (id, type) => void (type === 'Timeout' && pending.add(id)),
        destroy: (id) => void pending.delete(id),
      }).enable();
      const t0 = performance.now();
      let took: number;
      try {
        await srv.close({ drainMs: 2000, waitFor: Promise.resolve() });
        took = performance.now() - t0;
        await new Promise((r) => setImmediate(r)); // destroy hooks of cleared timers run a turn later
      } finally {
        hook.disable();
      }
      expect(took).to.be.lessThan(500);
      expect(pending.size, 'timers left running by close()').to.equal(0);
    });

    it('is bounded by drainMs even when nobody consumes a stream', async () => {
      const srv = createServer({ port: 0 });
      const info = await srv.listen();
      srv.ingest$.subscribe(() => undefined); // announced, never consumed
      const sensor = await openWs(`${info.url.replace('http:', 'ws:')}/ingest/idle`);
      sensor.on('error', () => undefined);
      sensor.send(encodeEventMessage(makeBatch(100, G), G));
      await waitFor(() => srv.streams()[0]?.messages === 1, 3000, 'message');
      const t0 = performance.now();
      await srv.close({ drainMs: 300 });
      expect(performance.now() - t0).to.be.lessThan(1500);
      expect(srv.metrics.eventsDropped.get({ reason: 'shutdown' })).to.equal(100);
    });
  });
});
