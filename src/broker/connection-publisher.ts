/**
 * A gateway's publisher for one sensor connection: an `open` marker, each accepted message's
 * bytes, an `end` marker — stored in JetStream one after another, in order (each waits for the
 * previous one's ack, so a retry can never reorder them). Message ids `<connection>:<n>` make a
 * retried publish harmless.
 *
 * Back-pressure: while more than `highWaterBytes` wait for the broker (it is slow, restarting or
 * away), the sensor's socket is paused — TCP pushes back on the sensor, nothing is dropped — and
 * resumed below `lowWaterBytes`; each pause is counted. Only what is still queued when the
 * gateway stops, or what the broker refuses for good, is dropped, and counted.
 *
 * Batching: consecutive data messages that wait together — for at most `batchMs` (default 20 ms)
 * after the oldest arrived, and within `maxBatchBytes` — are stored as ONE kind-1 message holding
 * their events in order (a batch of one keeps its exact bytes). Fewer, larger JetStream messages
 * cost the gateway, nats-server and the worker (one decode per stored message) less per event;
 * the worker's decisions do not depend on how events were split into messages.
 *
 * Messages are stored as received, except a kind-2 message (raw AEDAT 3.1 packets) that does not
 * decode alone — it starts or ends inside a packet, or follows a timestamp reset whose shift
 * lives in the gateway's decoder (`IngestMessage.standalone`): that one is stored re-encoded as
 * kind 1 with the same events, since a worker that takes a stream over mid-way must decode any
 * message alone.
 */
import { headers } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import { concatBatches, type EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import type { IngestConnection, IngestMessage } from '../server/types';
import { encodeEventMessage } from '../formats/wire';
import type { Broker } from './connect';
import { isWrongRevision } from './lease';
import type { GatewayBrokerMetrics } from './metrics';
import { eventsSubject, HEADER, streamToken, type MarkerKind } from './names';
import { pause, publishWithRetry, PublishAbortedError } from './publish';
import { encodeStreamEntry, type StreamEntry } from './stream-entry';

export interface PublisherDeps {
  readonly broker: Broker;
  readonly streams: KV;
  readonly gateway: string;
  readonly metrics: GatewayBrokerMetrics;
  /** Pause the sensor while more than this many bytes wait for the broker (default 8 MiB). */
  readonly highWaterBytes?: number;
  readonly log?: (line: string) => void;
  /** Longest a data message waits for others to be stored with it (ms; default 20, 0: one message each). */
  readonly batchMs?: number;
  /** Most bytes of the messages stored as one (default 256 KiB; keep it under the broker's max payload). */
  readonly maxBatchBytes?: number;
}

interface Item {
  readonly kind: Exclude<MarkerKind, 'fence'> | 'data';
  readonly bytes: Uint8Array;
  /** The decoded events of a data message (what a batch of several is re-encoded from). */
  readonly batch?: EventBatch;
  /** Date.now() when it was queued. */
  readonly at: number;
  readonly n: number;
  readonly eventsTotal: number;
}

export const DEFAULT_GATEWAY_BATCH_MS = 20;
const DEFAULT_MAX_BATCH_BYTES = 256 << 10;

const EMPTY = new Uint8Array(0);

export class ConnectionPublisher {
  private readonly queue: Item[] = [];
  private queuedBytes = 0;
  private paused = false;
  private count = 0;
  private eventsTotal = 0;
  private ended = false;
  private entryRev = 0;
  private wake: (() => void) | undefined;
  private readonly stopControl = new AbortController();
  private readonly highWater: number;
  private readonly batchMs: number;
  private readonly maxBatchBytes: number;
  private readonly openedAt = Date.now();
  /** Resolves once the `end` marker is stored (or the publisher was stopped). */
  readonly done: Promise<void>;

  constructor(
    private readonly deps: PublisherDeps,
    readonly streamId: string,
    readonly connectionId: string,
    private readonly geometry: Geometry,
    private readonly connection: IngestConnection,
  ) {
    this.highWater = deps.highWaterBytes ?? 8 << 20;
    this.batchMs = deps.batchMs ?? DEFAULT_GATEWAY_BATCH_MS;
    this.maxBatchBytes = deps.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    this.enqueue('open', EMPTY);
    connection.closed.then(() => this.end());
    this.done = this.pump();
  }

  /** Queues one accepted message (its exact bytes, or re-encoded as kind 1 when they do not decode alone). */
  push(m: IngestMessage): void {
    if (this.ended) return;
    this.eventsTotal += m.batch.length;
    this.enqueue('data', m.standalone ? m.bytes : encodeEventMessage(m.batch, m.geometry), m.batch);
    if (!this.paused && this.queuedBytes > this.highWater) {
      this.paused = true;
      this.deps.metrics.pauses.inc();
      this.connection.pause();
    }
  }

  /** The connection closed: after its last message, the `end` marker. */
  end(): void {
    if (this.ended) return;
    this.enqueue('end', EMPTY);
    this.ended = true;
  }

  /** Messages still waiting for the broker. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Stops publishing; what is still queued is dropped and counted. */
  abandon(): void {
    const data = this.queue.filter((i) => i.kind === 'data').length;
    if (data > 0) {
      this.deps.metrics.dropped.inc(data);
      this.deps.log?.(`stream ${this.streamId}: ${data} messages not stored in JetStream (the gateway stopped first)`);
    }
    this.stopControl.abort();
    this.wake?.();
  }

  private enqueue(kind: Item['kind'], bytes: Uint8Array, batch?: EventBatch): void {
    this.queue.push({ kind, bytes, batch, at: Date.now(), n: this.count++, eventsTotal: this.eventsTotal });
    this.queuedBytes += bytes.length;
    this.deps.metrics.backlogBytes.inc(bytes.length);
    this.wake?.();
  }

  /** The data messages at the queue's head that go out as one (at least one), within the byte budget. */
  private leadingData(): Item[] {
    const group: Item[] = [];
    let bytes = 0;
    for (const item of this.queue) {
      if (item.kind !== 'data' || (group.length > 0 && bytes + item.bytes.length > this.maxBatchBytes)) break;
      group.push(item);
      bytes += item.bytes.length;
    }
    return group;
  }

  /**
   * Waits, at most until `first` is `batchMs` old, for more data to store with it; returns at
   * once when a marker is queued (the connection ended), the budget is full, or on stop.
   */
  private async linger(first: Item, signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = first.at + this.batchMs - Date.now();
      const last = this.queue[this.queue.length - 1];
      if (wait <= 0 || signal.aborted || last.kind !== 'data' || this.queuedBytes >= this.maxBatchBytes) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** What goes to JetStream for `group`: a lone message's bytes, or the group's events as one kind-1 message. */
  private payload(group: readonly Item[]): Uint8Array {
    if (group.length === 1) return group[0].bytes;
    return encodeEventMessage(concatBatches(group.map((i) => i.batch as EventBatch)), this.geometry);
  }

  private async pump(): Promise<void> {
    const { deps } = this;
    const signal = this.stopControl.signal;
    const subject = eventsSubject(this.streamId);
    while (!signal.aborted) {
      const head = this.queue[0];
      if (head === undefined) {
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      if (head.kind === 'data' && this.batchMs > 0) await this.linger(head, signal);
      if (signal.aborted) return;
      const group = head.kind === 'data' && this.batchMs > 0 ? this.leadingData() : [head];
      const last = group[group.length - 1];
      const bytes = this.payload(group);
      const h = headers();
      h.set(HEADER.connection, this.connectionId);
      if (head.kind !== 'data') h.set(HEADER.kind, head.kind);
      if (head.kind === 'open') h.set(HEADER.geometry, `${this.geometry.width}x${this.geometry.height}`);
      h.set(HEADER.eventsTotal, String(last.eventsTotal));
      let seq: number | undefined;
      try {
        const ack = await publishWithRetry(deps.broker.js, subject, bytes, { msgID: `${this.connectionId}:${head.n}`, headers: h }, { signal, onRetry: (reason) => deps.metrics.retries.inc({ reason }) });
        seq = ack.seq;
        deps.metrics.published.inc();
        deps.metrics.publishedBytes.inc(bytes.length);
        if (head.kind === 'data') deps.metrics.batchedMessages.inc(group.length);
      } catch (err) {
        if (err instanceof PublishAbortedError) return;
        deps.metrics.dropped.inc(group.length);
        deps.log?.(`stream ${this.streamId}: JetStream refused ${group.length === 1 ? 'a message' : `${group.length} messages stored as one`} for good (${(err as Error).message}); dropped`);
      }
      this.release(group);
      if (seq !== undefined && head.kind === 'open') await this.announce({ state: 'open' });
      if (seq !== undefined && head.kind === 'end') await this.announce({ state: 'closed', endSeq: seq });
    }
  }

  /** `group` is stored (or dropped): off the queue; the sensor resumes below half the high water. */
  private release(group: readonly Item[]): void {
    this.queue.splice(0, group.length);
    const bytes = group.reduce((n, i) => n + i.bytes.length, 0);
    this.queuedBytes -= bytes;
    this.deps.metrics.backlogBytes.dec(bytes);
    if (this.paused && this.queuedBytes <= this.highWater / 2) {
      this.paused = false;
      this.connection.resume();
    }
  }

  /**
   * Writes the stream's entry: `open` after the open marker is stored (a worker that sees it
   * finds the marker), `closed` compare-and-set on our own `open` write (a newer connection of
   * the same stream, on any gateway, keeps its entry).
   */
  private async announce(change: Pick<StreamEntry, 'state' | 'endSeq'>): Promise<void> {
    const entry: StreamEntry = { connection: this.connectionId, gateway: this.deps.gateway, geometry: this.geometry, openedAt: this.openedAt, ...change };
    const key = streamToken(this.streamId);
    for (let attempt = 0; !this.stopControl.signal.aborted; attempt++) {
      try {
        if (change.state === 'open') this.entryRev = await this.deps.streams.put(key, encodeStreamEntry(entry));
        else if (this.entryRev > 0) await this.deps.streams.update(key, encodeStreamEntry(entry), this.entryRev);
        return;
      } catch (err) {
        if (isWrongRevision(err)) return;
        this.deps.metrics.retries.inc({ reason: 'disconnected' });
        await pause(Math.min(1000, 50 * 2 ** attempt), this.stopControl.signal);
      }
    }
  }
}
