/**
 * The NATS mode's parts, one at a time: names, checkpoint and stream-entry values, leases
 * (compare-and-set, expiry by TTL and by the worker's own clock), fenced decision publishing,
 * retries, the gateway's decision relay and
 * the one-line errors for a NATS URL that cannot be used.
 */
import { expect } from 'chai';
import { createHook } from 'async_hooks';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { decodeCheckpoint, encodeCheckpoint, CheckpointError, type StreamCheckpoint } from '../../src/broker/checkpoint';
import { BrokerConnectError, connectBroker, ensureStreams, leasesBucket, type Broker } from '../../src/broker/connect';
import { DecisionPublisher, FencedError } from '../../src/broker/decision-publisher';
import { Lease } from '../../src/broker/lease';
import { Placement, presenceKey } from '../../src/broker/placement';
import { decodeDecisionCounts, DECISIONS_STREAM, encodeDecisionCounts, HEADER, streamIdOfToken, streamToken } from '../../src/broker/names';
import { publishWithRetry, PublishAbortedError } from '../../src/broker/publish';
import { streamHasWork, type StreamEntry } from '../../src/broker/stream-entry';
import { runSpikestreamAsync } from '../helpers/cli';
import { makeDecision } from '../helpers/decision-fixture';
import { describeWorkerEvent } from '../../src/cli/worker';
import { startGateway, storedDecision } from '../../src/broker/gateway';
import { decisionFrame, SubscriberHub } from '../../streams/sinks/to-subscribers';
import { FakeSocket } from '../helpers/sockets';
import { headers } from '@nats-io/nats-core';
import { startWorker } from '../../src/broker/worker';
import { planStreamFit } from '../../streams/operators/classify-stream';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { CliProcess, freePort, MODEL_DIR, NatsServer, requireNatsServer, sleep } from './cluster';

describe('broker names and values', () => {
  it('a stream id is one subject token and KV key, and comes back from it', () => {
    for (const id of ['cam0', 'a.b', 'site:3', 'x=y', 'A-b_c.d:e']) {
      const t = streamToken(id);
      expect(t).to.match(/^[A-Za-z0-9_=-]+$/);
      expect(streamIdOfToken(t)).to.equal(id);
    }
    expect(streamToken('a.b')).to.not.equal(streamToken('a:b'));
  });

  it('a checkpoint survives JSON (the detector\u2019s −Infinity included); a bad one names the stream', () => {
    const cp: StreamCheckpoint = {
      v: 1,
      seq: 42,
      sample: 7,
      resume: { connection: 'g.1', geometry: { width: 128, height: 128 }, index: 3, tumblingOrigin: 5, detector: { times: [1, 2, 3], quietFrom: -Infinity } },
      owner: 'w1',
      state: 'owned',
      task: '4',
      at: 1,
    };
    expect(decodeCheckpoint(encodeCheckpoint(cp), 'cam0')).to.deep.equal(cp);
    expect(() => decodeCheckpoint('{', 'cam0')).to.throw(CheckpointError, "checkpoint of stream 'cam0': not JSON");
    expect(() => decodeCheckpoint(JSON.stringify({ ...cp, seq: -1 }), 'cam0')).to.throw(CheckpointError, /seq and sample/);
    expect(() => decodeCheckpoint(JSON.stringify({ ...cp, resume: { index: 1 } }), 'cam0')).to.throw(CheckpointError, /resume needs/);
  });

  it('a stream has work while open, or closed with events after what a worker finished', () => {
    const e: StreamEntry = { connection: 'g.1', gateway: 'g', geometry: { width: 1, height: 1 }, state: 'open', openedAt: 0 };
    expect(streamHasWork(e)).to.equal(true);
    expect(streamHasWork({ ...e, state: 'closed', endSeq: 10 })).to.equal(true);
    expect(streamHasWork({ ...e, state: 'closed', endSeq: 10, doneSeq: 9 })).to.equal(true);
    expect(streamHasWork({ ...e, state: 'closed', endSeq: 10, doneSeq: 10 })).to.equal(false);
  });
});

describe('the gateway\u2019s decision relay', () => {
  it('hands a stored decision to subscribers byte for byte, unparsed, as the embedded service sends it', () => {
    const d = makeDecision({ streamId: 'cam.0', sampleId: 'cam.0#3', confident: false, steps: 7, maxSteps: 20, early: false });
    const h = headers();
    h.set(HEADER.counts, encodeDecisionCounts(d));
    const frame = decisionFrame(d);
    const hub = new SubscriberHub();
    const all = new FakeSocket();
    const confidentOnly = new FakeSocket();
    hub.add(all);
    hub.add(confidentOnly, { confident: true });
    const parse = JSON.parse;
    let parsed = 0;
    JSON.parse = (...args: Parameters<typeof JSON.parse>) => (parsed++, parse(...args));
    try {
      const stored = storedDecision('spikestream.decisions.cam=2E0', h, frame);
      expect(stored?.streamId).to.equal('cam.0');
      expect(stored?.counts).to.deep.equal({ steps: 7, maxSteps: 20, early: false, confident: false });
      hub.publishFrame(stored!.streamId, stored!.frame, stored!.counts.confident === false);
    } finally {
      JSON.parse = parse;
    }
    expect(parsed, 'JSON.parse calls while relaying').to.equal(0);
    expect(all.sent).to.deep.equal([frame]);
    expect(confidentOnly.sent, 'an uncertain decision is not an answer').to.deep.equal([]);
    const local = new FakeSocket();
    const localHub = new SubscriberHub();
    localHub.add(local);
    localHub.publish(d);
    expect(local.sent, 'the embedded service\u2019s frame').to.deep.equal([frame]);
  });

  it('skips fence markers and refuses a message without counts', () => {
    const fence = headers();
    fence.set(HEADER.kind, 'fence');
    expect(storedDecision('spikestream.decisions.cam', fence, '')).to.equal(undefined);
    expect(storedDecision('spikestream.decisions.cam', headers(), '{}')).to.equal(undefined);
    expect(decodeDecisionCounts('7 20 1 x')).to.equal(undefined);
  });
});

describe('planStreamFit and the worker\u2019s event lines', () => {
  it('fits a sensor to the model, or says which option would', () => {
    const model = loadClassifierModel(MODEL_DIR);
    const same = planStreamFit(model, { width: 128, height: 128 });
    expect('fit' in same && same.fit.plan.identity).to.equal(true);
    const refused = planStreamFit(model, { width: 240, height: 180 });
    expect('refusal' in refused ? refused.refusal : '').to.match(/--fit/);
    const scaled = planStreamFit(model, { width: 240, height: 180 }, { fit: 'scale' });
    expect('fit' in scaled && scaled.fit.geometry).to.deep.equal({ width: 128, height: 128 });
  });

  it('describes each worker event on one line', () => {
    expect(describeWorkerEvent({ type: 'acquired', streamId: 'cam0', takeover: true, from: 'w2', sample: 7, seq: 120 })).to.equal('cam0: taken over from w2, from sample #7 (message 120)');
    expect(describeWorkerEvent({ type: 'acquired', streamId: 'cam0', takeover: false, sample: 0, seq: 0 })).to.equal('cam0: taken, from sample #0 (message 0)');
    expect(describeWorkerEvent({ type: 'released', streamId: 'cam0', sample: 53 })).to.equal('cam0: released after sample #52 (its sensor has gone)');
    expect(describeWorkerEvent({ type: 'lost', streamId: 'cam0', why: 'taken' })).to.equal('cam0: lease lost (taken); another worker goes on');
    expect(describeWorkerEvent({ type: 'error', streamId: 'cam0', message: 'x' })).to.equal('cam0: x');
  });
});

describe('Placement: which free streams a worker tries', () => {
  const entry: StreamEntry = { connection: 'g.1', gateway: 'g', geometry: { width: 128, height: 128 }, state: 'open', openedAt: 0 };

  function sixStreamsThreeWorkers(): Placement {
    const p = new Placement('A', 1000);
    for (const w of ['A', 'B', 'C']) p.onLeaseKey(presenceKey(w), w, 0);
    for (let i = 0; i < 6; i++) p.onStreamEntry(streamToken(`cam.${i}`), entry);
    return p;
  }

  it('takes its fair share at once, leaves the rest to the others for a while, then takes stragglers', () => {
    const p = sixStreamsThreeWorkers();
    expect(p.due(10, 0, () => false)).to.deep.equal(['cam.0', 'cam.1']);
    const q = sixStreamsThreeWorkers();
    expect(q.due(10, 2, () => false), 'at its share').to.deep.equal([]);
    expect(q.due(400, 2, () => false).length, 'nobody took them in 300 ms').to.equal(6);
  });

  it('leaves a stream whose lease is being renewed, and tries it once the renewals stop for a lease time', () => {
    const p = sixStreamsThreeWorkers();
    for (let i = 0; i < 6; i++) p.onLeaseKey(streamToken(`cam.${i}`), 'B', 0);
    expect(p.due(500, 0, () => false)).to.deep.equal([]);
    p.onLeaseKey(streamToken('cam.3'), 'B', 900);
    const at1200 = p.due(1200, 0, () => false);
    expect(at1200, 'cam.3 renewed at 900 ms').to.not.include('cam.3');
    expect(at1200.length, 'the others stopped renewing at 0 ms').to.be.greaterThan(0);
    expect(p.due(2000, 0, () => false)).to.include('cam.3');
    // A stream whose sensor has gone and that a worker finished has no work.
    p.onStreamEntry(streamToken('cam.0'), { ...entry, state: 'closed', endSeq: 5, doneSeq: 5 });
    expect(p.due(5000, 0, () => false)).to.not.include('cam.0');
  });
});

describe('publishWithRetry', () => {
  const timeout = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
  const fake = (answers: (Error | { seq: number })[]): { js: JetStreamClient; calls: () => number } => {
    let n = 0;
    const js = { publish: async () => (n < answers.length ? answers[n++] : { seq: 99 }) } as unknown as JetStreamClient;
    const wrapped = {
      publish: async (...args: unknown[]) => {
        const a = await (js.publish as (...x: unknown[]) => Promise<Error | { seq: number }>)(...args);
        if (a instanceof Error) throw a;
        return a;
      },
    } as unknown as JetStreamClient;
    return { js: wrapped, calls: () => n };
  };

  it('tries again after a timeout, counting why, until the broker stores the message', async () => {
    const f = fake([timeout, timeout, { seq: 5 }]);
    const reasons: string[] = [];
    const ack = await publishWithRetry(f.js, 's', 'x', {}, { onRetry: (r) => reasons.push(r) });
    expect(ack.seq).to.equal(5);
    expect(reasons).to.deep.equal(['timeout', 'timeout']);
  });

  it('stops when told to, and gives a fatal answer back at once', async () => {
    const control = new AbortController();
    const f = fake([timeout, timeout, timeout, timeout]);
    // Told to stop while it retries: at its second retry.
    let retries = 0;
    const onRetry = (): void => {
      if (++retries === 2) control.abort();
    };
    const err = await publishWithRetry(f.js, 's', 'x', {}, { signal: control.signal, onRetry }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PublishAbortedError);
    const fatal = new Error('no');
    const g = fake([fatal]);
    expect(await publishWithRetry(g.js, 's', 'x', {}, { fatal: (e) => e === fatal }).catch((e: unknown) => e)).to.equal(fatal);
    expect(await publishWithRetry(g.js, 's', 'x', {}, { mayPublish: () => false }).catch((e: unknown) => e)).to.be.instanceOf(PublishAbortedError);
  });
});

describe('leases and fencing on a real nats-server', function () {
  this.timeout(60_000);
  let server: NatsServer | undefined;
  let broker: Broker | undefined;

  before(async function () {
    server = await NatsServer.start(requireNatsServer(this));
    broker = await connectBroker(server.url, { name: 'units' });
    await ensureStreams(broker.jsm);
  });

  after(async () => {
    await broker?.nc.close();
    await server?.dispose();
  });

  it('one worker at a time: create wins once; renewing after another took it over ends the lease', async () => {
    const { kv, leaseMs } = await leasesBucket(broker as Broker, 600);
    expect(leaseMs).to.equal(600);
    const a = (await Lease.acquire(kv, 'cam0', 'A', leaseMs)) as Lease;
    expect(a).to.be.instanceOf(Lease);
    expect(await Lease.acquire(kv, 'cam0', 'B', leaseMs)).to.equal(undefined);
    await a.renew();
    expect(a.held).to.equal(true);
    // A stops renewing (as if killed): the TTL frees the key and B takes it.
    a.stop();
    let b: Lease | undefined;
    const t0 = Date.now();
    while (!b && Date.now() - t0 < 5000) {
      b = await Lease.acquire(kv, 'cam0', 'B', leaseMs);
      if (!b) await sleep(50); // polls the key until the TTL frees it
    }
    expect(b, 'taken after the TTL').to.be.instanceOf(Lease);
    expect(Date.now() - t0).to.be.within(300, 2500);
    b?.stop();
    // A second lease of A, whose revision is now stale, is refused on its next renewal.
    const c = (await Lease.acquire(kv, 'cam1', 'A', leaseMs)) as Lease;
    await kv.delete(streamToken('cam1'));
    await Lease.acquire(kv, 'cam1', 'B', leaseMs);
    await c.renew();
    expect(c.ended).to.equal('taken');
    expect(c.signal.aborted).to.equal(true);
    // Every worker must use the bucket's lease time.
    const mismatch = await leasesBucket(broker as Broker, 900).catch((e: unknown) => e);
    expect(String(mismatch)).to.match(/has a lease time of 600 ms; start every worker with --lease-ms 600/);
  });

  it('a lease whose renewals get no answer ends by the worker\u2019s own clock', async () => {
    const silent = { create: async () => 1, update: () => new Promise<number>(() => undefined), delete: async () => undefined } as unknown as KV;
    const lease = (await Lease.acquire(silent, 'cam2', 'A', 300)) as Lease;
    expect(lease.held).to.equal(true);
    await sleep(350); // a fixed wait is the point: the lease ends by the worker's own clock, read when asked (no event fires)
    expect(lease.held).to.equal(false);
    expect(lease.ended).to.equal('expired');
  });

  it('after another owner fenced the stream, a publish of the earlier owner is refused by the broker', async () => {
    const a = new DecisionPublisher(broker as Broker, 'cam9', 'A');
    await a.fence('A:1');
    expect(await a.publish(makeDecision({ streamId: 'cam9', sampleId: 'cam9#0' }))).to.equal('stored');
    const b = new DecisionPublisher(broker as Broker, 'cam9', 'B');
    await b.fence('B:1');
    // B publishes again what A stored: the broker keeps one copy.
    expect(await b.publish(makeDecision({ streamId: 'cam9', sampleId: 'cam9#0' }))).to.equal('duplicate');
    expect(await b.publish(makeDecision({ streamId: 'cam9', sampleId: 'cam9#1' }))).to.equal('stored');
    const err = await a.publish(makeDecision({ streamId: 'cam9', sampleId: 'cam9#2' })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(FencedError);
    const info = await (broker as Broker).jsm.streams.info(DECISIONS_STREAM, { subjects_filter: 'spikestream.decisions.cam9' });
    expect(info.state.subjects?.['spikestream.decisions.cam9'], 'two fences and two decisions').to.equal(4);
  });

  it('beyond the duplicate window, a new owner does not publish again what the last stored decision covers', async () => {
    const jsm = (broker as Broker).jsm;
    const dup = (await jsm.streams.info(DECISIONS_STREAM)).config.duplicate_window;
    await jsm.streams.update(DECISIONS_STREAM, { duplicate_window: 100_000_000 }); // 100 ms
    try {
      const a = new DecisionPublisher(broker as Broker, 'cam8', 'A');
      await a.fence('A:1');
      for (const n of [0, 1]) await a.publish(makeDecision({ streamId: 'cam8', sampleId: `cam8#${n}` }));
      await sleep(500); // a fixed wait is the point: past the 100 ms duplicate window the broker forgets the ids, unannounced
      const b = new DecisionPublisher(broker as Broker, 'cam8', 'B');
      await b.fence('B:1');
      expect(await b.publish(makeDecision({ streamId: 'cam8', sampleId: 'cam8#1' }))).to.equal('duplicate');
      expect(await b.publish(makeDecision({ streamId: 'cam8', sampleId: 'cam8#2' }))).to.equal('stored');
      const info = await jsm.streams.info(DECISIONS_STREAM, { subjects_filter: 'spikestream.decisions.cam8' });
      expect(info.state.subjects?.['spikestream.decisions.cam8'], 'two fences and three decisions').to.equal(5);
    } finally {
      await jsm.streams.update(DECISIONS_STREAM, { duplicate_window: dup });
    }
  });
});

describe('a NATS URL that cannot be used', function () {
  this.timeout(60_000);

  it('is one clear line: connection refused, or no JetStream', async function () {
    const port = await freePort();
    const err = await connectBroker(`nats://127.0.0.1:${port}`, { name: 't', timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(BrokerConnectError);
    expect((err as Error).message).to.equal(`cannot connect to the NATS server at nats://127.0.0.1:${port}: connection refused (is nats-server running there, with JetStream: nats-server -js?)`);
    const bin = requireNatsServer(this);
    const { spawn } = await import('child_process');
    const plain = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    try {
      let e: unknown;
      for (let k = 0; k < 50; k++) {
        e = await connectBroker(`nats://127.0.0.1:${port}`, { name: 't', timeoutMs: 2000 }).catch((x: unknown) => x);
        if (!/connection refused/.test(String(e))) break;
        await sleep(100); // polls until the plain nats-server listens
      }
      expect(String(e)).to.match(/has no JetStream: start it with -js/);
    } finally {
      plain.kill('SIGKILL');
    }
  });

  it('a worker process stops on SIGTERM (exit 0), releasing what it holds', async function () {
    const server = await NatsServer.start(requireNatsServer(this));
    try {
      const w = new CliProcess(['worker', '--nats', server.url, '--json', '--lease-ms', '1000']);
      await w.first('ready');
      w.signal('SIGTERM');
      expect(await w.exited).to.equal(0);
    } finally {
      await server.dispose();
    }
  });

  it('an idle gateway stops at once and leaves no timer behind (its process can exit)', async function () {
    const server = await NatsServer.start(requireNatsServer(this));
    try {
      const gateway = await startGateway({ url: server.url, port: 0 });
      const pending = new Set<number>();
      const hook = createHook({
        init: (id, type) => void (type === 'Timeout' && pending.add(id)),
        destroy: (id) => void pending.delete(id),
      }).enable();
      try {
        await gateway.stop(3000);
        await new Promise((r) => setImmediate(r)); // destroy hooks of cleared timers run a turn later
      } finally {
        hook.disable();
      }
      expect(pending.size, 'timers left running by stop()').to.equal(0);
    } finally {
      await server.dispose();
    }
  });

  it('a gateway and a worker whose NATS server is gone still stop, within a few seconds', async function () {
    const server = await NatsServer.start(requireNatsServer(this));
    try {
      const gateway = await startGateway({ url: server.url, port: 0 });
      const worker = await startWorker({ url: server.url, model: loadClassifierModel(MODEL_DIR), leaseMs: 1000 });
      await server.stop();
      const t0 = Date.now();
      await Promise.all([gateway.stop(500), worker.stop()]);
      expect(Date.now() - t0).to.be.below(8000);
    } finally {
      await server.dispose();
    }
  });

  it('worker and serve --nats exit 1 with that line, no stack', async () => {
    const port = await freePort();
    for (const args of [['worker', '--nats', `nats://127.0.0.1:${port}`], ['serve', '--nats', `nats://127.0.0.1:${port}`, '--port', '0']]) {
      const r = await runSpikestreamAsync(args, { timeoutMs: 30_000 });
      expect(r.code, args[0]).to.equal(1);
      expect(r.stderr.trim().split('\n'), args[0]).to.deep.equal([`spikestream: cannot connect to the NATS server at nats://127.0.0.1:${port}: connection refused (is nats-server running there, with JetStream: nats-server -js?)`]);
    }
  });
});
