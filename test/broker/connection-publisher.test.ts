/**
 * The gateway's per-connection publisher: order, back-pressure, batching, and AEDAT re-encoding where
 * a message does not decode alone (split from units.test.ts).
 */
import { expect } from 'chai';
import type { KV } from '@nats-io/kv';
import { Registry } from 'prom-client';
import { type Broker } from '../../src/broker/connect';
import { ConnectionPublisher } from '../../src/broker/connection-publisher';
import { GatewayBrokerMetrics } from '../../src/broker/metrics';
import { HEADER } from '../../src/broker/names';
import { type StreamEntry } from '../../src/broker/stream-entry';
import type { IngestConnection } from '../../src/server/types';
import { decodeStandaloneMessage, encodeAedat31Message, encodeEventMessage, WireDecoder } from '../../src/formats/wire';
import { Aedat31Writer } from 'aedat-parser-ts';
import { randomRecording } from '../helpers/gesture-fixture';
import { headers } from '@nats-io/nats-core';
import { waitFor } from '../helpers/time';

describe('ConnectionPublisher: one connection into JetStream, in order, with back-pressure', () => {
  const geometry = { width: 128, height: 128 };

  /** `batchMs` 0 (one stored message per ingest message) unless a test is about batching. */
  function setup(highWaterBytes: number, batching: { batchMs?: number; maxBatchBytes?: number } = { batchMs: 0 }) {
    const published: { subject: string; bytes: Uint8Array; id: string; kind: string | undefined; total: string | undefined }[] = [];
    let hold: Promise<void> = Promise.resolve();
    let release!: () => void;
    let attempts = 0;
    const js = {
      publish: async (subject: string, bytes: Uint8Array, o: { msgID: string; headers: { get(k: string): string } }) => {
        attempts++;
        await hold;
        published.push({ subject, bytes, id: o.msgID, kind: o.headers.get(HEADER.kind) || undefined, total: o.headers.get(HEADER.eventsTotal) || undefined });
        return { seq: published.length, duplicate: false };
      },
    };
    const entries: string[] = [];
    const streams = {
      put: async (_k: string, v: string) => (entries.push(v), 1),
      update: async (_k: string, v: string) => (entries.push(v), 2),
    } as unknown as KV;
    const flow = { paused: 0, resumed: 0 };
    let close!: () => void;
    const connection: IngestConnection = { pause: () => flow.paused++, resume: () => flow.resumed++, closed: new Promise<void>((r) => (close = r)) };
    const metrics = new GatewayBrokerMetrics(new Registry());
    const broker = { js } as unknown as Broker;
    const p = new ConnectionPublisher({ broker, streams, gateway: 'g', metrics, highWaterBytes, ...batching }, 'cam.0', 'g.1', geometry, connection);
    return {
      p,
      published,
      entries,
      flow,
      metrics,
      connection,
      close: () => close(),
      block: () => (hold = new Promise<void>((r) => (release = r))),
      unblock: () => release(),
      /** Publish calls begun (a blocked one included). */
      attempts: () => attempts,
    };
  }

  it('stores open, each message\u2019s exact bytes, then end; pauses the sensor while the broker lags', async () => {
    const t = setup(10_000);
    t.block();
    const batches = [randomRecording(0, 20_000, 5, 1), randomRecording(20_000, 40_000, 5, 2), randomRecording(40_000, 60_000, 5, 3)];
    const messages = batches.map((b) => encodeEventMessage(b, geometry));
    for (const [k, b] of batches.entries()) t.p.push({ bytes: messages[k], batch: b, geometry, standalone: true, connection: t.connection });
    expect(t.flow.paused, 'paused over the high-water mark').to.equal(1);
    expect(t.metrics.pauses.get()).to.equal(1);
    expect(t.metrics.backlogBytes.get()).to.be.greaterThan(10_000);
    t.unblock();
    t.close();
    await t.p.done;
    expect(t.flow.resumed).to.equal(1);
    expect(t.published.map((m) => m.kind)).to.deep.equal(['open', undefined, undefined, undefined, 'end']);
    expect(t.published.map((m) => m.id)).to.deep.equal(['g.1:0', 'g.1:1', 'g.1:2', 'g.1:3', 'g.1:4']);
    expect(t.published.every((m) => m.subject === 'spikestream.events.cam=2E0')).to.equal(true);
    for (let k = 0; k < 3; k++) expect(t.published[k + 1].bytes).to.equal(messages[k]);
    let total = 0;
    for (let k = 0; k < 3; k++) expect(Number(t.published[k + 1].total)).to.equal((total += batches[k].length));
    expect(t.entries.map((e) => (JSON.parse(e) as StreamEntry).state)).to.deep.equal(['open', 'closed']);
    expect((JSON.parse(t.entries[1]) as StreamEntry).endSeq).to.equal(5);
    expect(t.metrics.backlogBytes.get()).to.equal(0);
    expect(t.metrics.published.get()).to.equal(5);
  });

  it('stores raw AEDAT 3.1 messages as received when they decode alone, re-encoded as events (kind 1) when they split a packet', async () => {
    const t = setup(1 << 20);
    const batches = [randomRecording(0, 10_000, 10, 7), randomRecording(10_000, 20_000, 10, 8)];
    const writer = new Aedat31Writer({ geometry, eventsPerPacket: 4096 });
    const [whole, split] = batches.map((b) => writer.encode(b));
    // One connection, as the ingest endpoint decodes it: whole packets, then a packet split in two.
    const wire = new WireDecoder({ geometry });
    const messages = [whole, split.subarray(0, 100), split.subarray(100)].map((part) => encodeAedat31Message(part, geometry));
    for (const bytes of messages) {
      const d = wire.decode(bytes);
      t.p.push({ bytes, ...d, standalone: wire.lastStandalone, connection: t.connection });
    }
    t.close();
    await t.p.done;
    const stored = t.published.slice(1, 4).map((m) => m.bytes);
    expect(stored[0], 'whole packets: the bytes received').to.equal(messages[0]);
    expect([stored[1][1], stored[2][1]], 'split packet: kind 1').to.deep.equal([1, 1]);
    const events = stored.map((bytes) => decodeStandaloneMessage(bytes).batch);
    expect([...events[0].t]).to.deep.equal([...batches[0].t]);
    expect([...events[0].x]).to.deep.equal([...batches[0].x]);
    expect([...events[1].t, ...events[2].t]).to.deep.equal([...batches[1].t]);
    expect([...events[1].y, ...events[2].y]).to.deep.equal([...batches[1].y]);
  });

  it('stores the messages that wait together as one kind-1 message with their events in order; the end marker cuts the wait short', async () => {
    // A 10 s linger: only the end marker (the sensor closed) lets this test finish in time.
    const t = setup(1 << 20, { batchMs: 10_000 });
    const batches = [randomRecording(0, 20_000, 5, 1), randomRecording(20_000, 40_000, 5, 2), randomRecording(40_000, 60_000, 5, 3)];
    for (const b of batches) t.p.push({ bytes: encodeEventMessage(b, geometry), batch: b, geometry, standalone: true, connection: t.connection });
    t.close();
    await t.p.done;
    expect(t.published.map((m) => m.kind)).to.deep.equal(['open', undefined, 'end']);
    expect(t.published.map((m) => m.id)).to.deep.equal(['g.1:0', 'g.1:1', 'g.1:4']);
    const stored = decodeStandaloneMessage(t.published[1].bytes).batch;
    expect([...stored.t]).to.deep.equal(batches.flatMap((b) => [...b.t]));
    expect([...stored.x]).to.deep.equal(batches.flatMap((b) => [...b.x]));
    expect([...stored.p]).to.deep.equal(batches.flatMap((b) => [...b.p]));
    expect(Number(t.published[1].total)).to.equal(batches.reduce((n, b) => n + b.length, 0));
    expect(t.metrics.published.get()).to.equal(3);
    expect(t.metrics.batchedMessages.get()).to.equal(3);
    expect(t.metrics.backlogBytes.get()).to.equal(0);
  });

  it('keeps a stored batch within its byte budget', async () => {
    const batches = [0, 1, 2, 3].map((k) => randomRecording(k * 10_000, (k + 1) * 10_000, 5, k + 1));
    const messages = batches.map((b) => encodeEventMessage(b, geometry));
    const t = setup(1 << 20, { batchMs: 10_000, maxBatchBytes: messages[0].length + messages[1].length });
    for (const [k, b] of batches.entries()) t.p.push({ bytes: messages[k], batch: b, geometry, standalone: true, connection: t.connection });
    t.close();
    await t.p.done;
    const data = t.published.filter((m) => m.kind === undefined);
    expect(decodeStandaloneMessage(data[0].bytes).batch.length, 'the first two fit the budget together').to.equal(batches[0].length + batches[1].length);
    expect(data.length).to.be.within(2, 3);
    expect(data.reduce((n, m) => n + decodeStandaloneMessage(m.bytes).batch.length, 0)).to.equal(batches.reduce((n, b) => n + b.length, 0));
    for (const m of data) expect(m.bytes.length).to.be.at.most(messages[0].length + messages[1].length + 64);
  });

  it('drops and counts what is still queued when the gateway gives up', async () => {
    const t = setup(1 << 20);
    t.block();
    const b = randomRecording(0, 1000, 5, 1);
    t.p.push({ bytes: encodeEventMessage(b, geometry), batch: b, geometry, standalone: true, connection: t.connection });
    t.p.push({ bytes: encodeEventMessage(b, geometry), batch: b, geometry, standalone: true, connection: t.connection });
    // The open marker went through before the block; the first message is then in flight, held.
    await waitFor(() => t.attempts() === 2, 2000, 'the first message to be in flight to the blocked broker');
    t.p.abandon();
    t.unblock();
    await t.p.done;
    expect(t.metrics.dropped.get()).to.equal(2);
  });
});
