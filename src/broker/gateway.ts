/**
 * `spikestream serve --nats URL`: the HTTP + WebSocket shell of the embedded service (same
 * endpoints, limits, auth and metrics) with the classification moved to workers. Each accepted
 * ingest message is stored in JetStream (connection-publisher.ts); decisions stored by the
 * workers, and their traces, are relayed to this gateway's subscribers. A gateway holds no state
 * of its own: run any number side by side; a sensor may reconnect to any of them.
 */
import { Subject, type Observable } from 'rxjs';
import type { KV } from '@nats-io/kv';
import { nuid, type MsgHdrs, type Subscription } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';
import { createServer, type ListenInfo, type ServerOptions, type SpikeServer } from '../server/server';
import { ServiceMetrics, type DecisionCounts } from '../server/metrics';
import type { IngestConnection } from '../server/types';
import type { Decision, StepTrace } from '../../streams/types';
import { closeBroker, connectBroker, ensureStreams, streamsBucket, type Broker, type RetentionOptions } from './connect';
import { ConnectionPublisher } from './connection-publisher';
import { GatewayBrokerMetrics } from './metrics';
import { decodeDecisionCounts, DECISIONS_PREFIX, DECISIONS_STREAM, HEADER, streamIdOfToken, TRACES_PREFIX } from './names';

export interface GatewayOptions extends ServerOptions {
  /** NATS URL (nats://host:port). */
  readonly url: string;
  /** Retention of the events stream, set when given (else the defaults when creating it). */
  readonly retention?: RetentionOptions;
  /** Bytes of one connection's messages waiting for the broker before its sensor is paused (default 8 MiB). */
  readonly maxBacklogBytes?: number;
  /** Longest an ingest message waits for others of its connection to be stored with it as one JetStream message (ms; default 20; 0: one each). */
  readonly batchMs?: number;
  readonly log?: (line: string) => void;
}

export interface Gateway {
  readonly id: string;
  readonly server: SpikeServer;
  readonly address: ListenInfo;
  readonly brokerMetrics: GatewayBrokerMetrics;
  /** Decisions relayed from JetStream to this gateway's subscribers (parsed only while observed). */
  readonly decisions: Observable<Decision>;
  /** Stops taking sensors, stores what they sent (bounded by `drainMs`), closes subscribers and the NATS connection. */
  stop(drainMs?: number): Promise<void>;
}

/** Room left in a NATS message for its headers. */
const HEADER_ROOM = 4096;

/** A stored decision as the gateway relays it: its stream, its subscriber frame (unread) and what the metrics count. */
export interface StoredDecision {
  readonly streamId: string;
  readonly frame: string;
  readonly counts: DecisionCounts;
}

/** The decision a decisions-stream message holds, or undefined for one that is not a decision (a fence marker, a malformed message). */
export function storedDecision(subject: string, headers: MsgHdrs | undefined, frame: string): StoredDecision | undefined {
  if (headers?.get(HEADER.kind) || !subject.startsWith(`${DECISIONS_PREFIX}.`)) return undefined;
  const counts = decodeDecisionCounts(headers?.get(HEADER.counts));
  return counts ? { streamId: streamIdOfToken(subject.slice(DECISIONS_PREFIX.length + 1)), frame, counts } : undefined;
}

/** Reads stored decisions from now on and hands each to `onDecision` unparsed (fence markers skipped). */
async function relayDecisions(broker: Broker, onDecision: (d: StoredDecision) => void, onBad: () => void): Promise<{ stop(): void }> {
  const consumer = await broker.js.consumers.get(DECISIONS_STREAM, { deliver_policy: 'new' });
  const messages = await consumer.consume({ max_messages: 512 });
  (async () => {
    for await (const m of messages as AsyncIterable<JsMsg>) {
      if (m.headers?.get(HEADER.kind)) continue;
      const d = storedDecision(m.subject, m.headers, m.string());
      if (d) onDecision(d);
      else onBad();
    }
  })().catch(() => undefined);
  return { stop: () => messages.stop() };
}

/** Hands each trace a worker publishes to the server's `?trace=1` subscribers. */
function relayTraces(broker: Broker, server: SpikeServer): Subscription {
  return broker.nc.subscribe(`${TRACES_PREFIX}.>`, {
    callback: (err, m) => {
      if (err) return;
      try {
        server.publishTrace(m.json<StepTrace>());
      } catch {
        // a malformed trace is not worth a subscriber
      }
    },
  });
}

/** `connected` (and the disconnect counter) follow the broker connection's status. */
function followBrokerStatus(broker: Broker, metrics: GatewayBrokerMetrics, onChange: (connected: boolean) => void): void {
  metrics.connected.set(1);
  (async () => {
    for await (const s of broker.nc.status()) {
      if (s.type === 'disconnect') {
        onChange(false);
        metrics.connected.set(0);
        metrics.disconnects.inc();
      } else if (s.type === 'reconnect') {
        onChange(true);
        metrics.connected.set(1);
      }
    }
  })().catch(() => undefined);
}

/** The gateway's connection and its streams bucket; the connection is closed again when they cannot be set up. */
async function connectGateway(o: GatewayOptions): Promise<{ broker: Broker; streams: KV }> {
  const broker = await connectBroker(o.url, { name: 'spikestream-gateway' });
  try {
    await ensureStreams(broker.jsm, o.retention);
    return { broker, streams: await streamsBucket(broker) };
  } catch (err) {
    await broker.nc.close().catch(() => undefined);
    throw err;
  }
}

export async function startGateway(o: GatewayOptions): Promise<Gateway> {
  const { broker, streams } = await connectGateway(o);
  const id = nuid.next().slice(-8);
  const metrics = o.metrics ?? new ServiceMetrics();
  const brokerMetrics = new GatewayBrokerMetrics(metrics.registry);
  const log = o.log ?? (() => undefined);
  // A message NATS cannot carry is refused at the socket (1009), as any message over the limit.
  const maxPayload = broker.nc.info?.max_payload ?? 1 << 20;
  const maxMessageBytes = Math.min(o.maxMessageBytes ?? 8 << 20, maxPayload - HEADER_ROOM);
  // Messages stored as one stay well inside a NATS message (re-encoding may add a few bytes).
  const maxBatchBytes = Math.min(256 << 10, Math.floor((maxPayload - HEADER_ROOM) / 2));
  const publishers = new Map<IngestConnection, ConnectionPublisher>();
  let connections = 0;
  let connected = true;
  followBrokerStatus(broker, brokerMetrics, (c) => (connected = c));

  const server = createServer({
    ...o,
    maxMessageBytes,
    metrics,
    // A relay: each accepted message is decoded (validated) and handed here, never queued.
    onIngestMessage: (streamId, m) => {
      let p = publishers.get(m.connection);
      if (!p) {
        const deps = { broker, streams, gateway: id, metrics: brokerMetrics, highWaterBytes: o.maxBacklogBytes, batchMs: o.batchMs, maxBatchBytes, log };
        const created = new ConnectionPublisher(deps, streamId, `${id}.${++connections}`, m.geometry, m.connection);
        publishers.set(m.connection, created);
        created.done.then(() => publishers.delete(m.connection));
        p = created;
      }
      p.push(m);
    },
    health: () => ({
      ...(connected ? {} : { status: 'degraded' }),
      broker: { url: broker.url, connected, backlogMessages: [...publishers.values()].reduce((n, p) => n + p.backlog, 0) },
    }),
  });
  const relayed = new Subject<Decision>();
  const relay = await relayDecisions(
    broker,
    (d) => {
      brokerMetrics.relayed.inc();
      server.publishFrame(d.streamId, d.frame, d.counts);
      // Parsed only for a local observer (the CLI's printout), never for the subscribers.
      if (relayed.observed) relayed.next(JSON.parse(d.frame) as Decision);
    },
    () => metrics.pipelineErrors.inc(),
  );
  const traces = relayTraces(broker, server);

  const address = await server.listen();
  let stopped: Promise<void> | undefined;
  return {
    id,
    server,
    address,
    brokerMetrics,
    decisions: relayed.asObservable(),
    stop(drainMs = 3000) {
      stopped ??= (async () => {
        const deadline = Date.now() + drainMs;
        await server.close({ drainMs });
        // Sockets are closed: every publisher has its end marker queued.
        const all = [...publishers.values()];
        // The deadline's timer is cleared once the publishers are done: left running, it held an idle gateway's process for drainMs.
        let deadlineTimer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all(all.map((p) => p.done)), new Promise((r) => (deadlineTimer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
        clearTimeout(deadlineTimer);
        for (const p of publishers.values()) p.abandon();
        relay.stop();
        traces.unsubscribe();
        relayed.complete();
        await closeBroker(broker);
      })();
      return stopped;
    },
  };
}
