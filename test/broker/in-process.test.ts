/**
 * A gateway and a worker in this process (startGateway, startWorker) on a nats-server of the
 * test's own: traces reach `?trace=1` subscribers, a sensor that reconnects to another gateway
 * goes on with the next sample numbers, the worker's metrics say what it holds and how far behind
 * it is, and stopping it releases its streams.
 */
import { expect } from 'chai';
import { lastValueFrom, toArray } from 'rxjs';
import WebSocket from 'ws';
import { connectBroker, leasesBucket } from '../../src/broker/connect';
import { startGateway, type Gateway } from '../../src/broker/gateway';
import { streamToken } from '../../src/broker/names';
import { startWorker, type Worker, type WorkerEvent } from '../../src/broker/worker';
import { sliceByTime, type EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { streamToServer } from '../../src/client/sensor-client';
import { SnnRunner } from '../../src/snn/runner';
import { SnnScheduler } from '../../src/snn/scheduler';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { sourceFromBatches } from '../../streams/core/event-source';
import { classifyLive } from '../../streams/operators/classify-live';
import type { Decision } from '../../streams/types';
import { essence, MODEL_DIR, NatsServer, RECORDING, requireNatsServer, scrape, waitUntil } from './cluster';
import { DEFAULT_ON_DECIDED } from '../../src/defaults';

const GEOMETRY = { width: 128, height: 128 };

describe('NATS mode in one process: traces, a sensor reconnecting elsewhere, metrics, stop', function () {
  this.timeout(120_000);
  const model = loadClassifierModel(MODEL_DIR);
  let server: NatsServer | undefined;
  const gateways: Gateway[] = [];
  let worker: Worker | undefined;

  after(async () => {
    await worker?.stop();
    await Promise.all(gateways.map((g) => g.stop(500)));
    await server?.dispose();
  });

  it('relays traces and decisions; a reconnection goes on with the next samples; stopping releases the streams', async function () {
    server = await NatsServer.start(requireNatsServer(this));
    const events: WorkerEvent[] = [];
    worker = await startWorker({ url: server.url, model, id: 'solo', leaseMs: 1000, traces: true, metricsPort: 0, report: (e) => events.push(e) });
    gateways.push(await startGateway({ url: server.url, port: 0 }), await startGateway({ url: server.url, port: 0 }));
    const [a, b] = gateways;
    const health = (await (await fetch(`${a.address.url}/health`)).json()) as { broker: { connected: boolean } };
    expect(health.broker.connected).to.equal(true);

    const got: (Decision & { type: string })[] = [];
    const traces: { type: string; sampleId: string; step: number; confidence: number; eventCount: number; probabilities: number[] }[] = [];
    const sub = new WebSocket(`${b.address.url.replace(/^http/, 'ws')}/decisions?trace=1`);
    sub.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string };
      if (m.type === 'trace') traces.push(m as (typeof traces)[number]);
      else got.push(m as Decision & { type: string });
    });
    await new Promise((r) => sub.once('open', r));

    const all: EventBatch[] = [];
    for await (const batch of readEventFile(RECORDING)) all.push(batch);
    const part = (from: number, to: number): EventBatch[] => all.map((x) => sliceByTime(x, from, to)).filter((x) => x.length > 0);
    const t0 = all[0].t[0];
    const first = part(t0, t0 + 9_000_000);
    const second = part(t0 + 9_000_000, t0 + 18_000_000);
    const offline = async (batches: EventBatch[]): Promise<Decision[]> =>
      lastValueFrom(classifyLive('cam', GEOMETRY, sourceFromBatches(batches), { model, scheduler: new SnnScheduler(new SnnRunner(model.net, 2)), onDecided: DEFAULT_ON_DECIDED }).pipe(toArray()));
    const [ref1, ref2] = [await offline(first), await offline(second)];

    // The sensor sends the first part through gateway a, then reconnects to gateway b with the second.
    await streamToServer(`${a.address.url}/ingest/cam`, first, GEOMETRY);
    await waitUntil(() => got.length >= ref1.length, 30_000, 'the first connection\u2019s decisions');
    await streamToServer(`${b.address.url}/ingest/cam`, second, GEOMETRY);
    await waitUntil(() => got.length >= ref1.length + ref2.length, 30_000, 'the second connection\u2019s decisions');
    const renumbered = ref2.map((d) => ({ ...d, sampleId: `cam#${Number(d.sampleId.split('#')[1]) + ref1.length}` }));
    expect(got.map(essence)).to.deep.equal([...ref1, ...renumbered].map(essence));

    // Traces of every decided sample, its steps 0…k−1.
    for (const d of got.slice(0, 5)) {
      const steps = traces.filter((t) => t.sampleId === d.sampleId).map((t) => t.step);
      expect(steps, d.sampleId).to.deep.equal(Array.from({ length: d.steps }, (_, k) => k));
    }
    // The service's trace shape (one trace builder): class probabilities whose largest is the step's confidence.
    for (const t of traces.slice(0, 20)) {
      expect(t.probabilities, `${t.sampleId} step ${t.step}`).to.have.length(model.classes.length);
      expect(Math.max(...t.probabilities)).to.be.closeTo(t.confidence, 1e-4);
      expect(t.eventCount).to.be.a('number');
    }

    const m = await scrape(worker.metricsUrl as string);
    expect(m.get('spikestream_worker_streams_owned')).to.equal(1);
    expect(m.get('spikestream_worker_decisions_published_total')).to.equal(got.length);
    await waitUntil(async () => (await scrape(worker!.metricsUrl as string)).get('spikestream_worker_lag_events') === 0, 5000, 'the lag to read 0');
    const h = (await (await fetch(`${worker.metricsUrl}/health`)).json()) as { owned: string[]; broker: { connected: boolean } };
    expect(h).to.include({ status: 'ok' });
    expect(h.owned).to.deep.equal(['cam']);

    // The sensor has gone and all is decided: the worker lets the stream go after a lease time.
    await waitUntil(() => worker!.owned().length === 0 && events.some((e) => e.type === 'released'), 10_000, 'the stream to be released');

    // A worker that stops gives its streams up at once (no waiting for the TTL).
    const sending = streamToServer(`${a.address.url}/ingest/cam`, part(t0 + 18_000_000, t0 + 27_000_000), GEOMETRY);
    await waitUntil(() => worker!.owned().length === 1, 10_000, 'the third connection to be taken');
    await worker.stop();
    const broker = await connectBroker(server.url, { name: 'check' });
    const leases = (await leasesBucket(broker)).kv;
    const lease = await leases.get(streamToken('cam'));
    expect(lease === null || lease.operation !== 'PUT', 'the lease key is gone').to.equal(true);
    await broker.nc.close();
    await sending;
    sub.close();
  });
});
