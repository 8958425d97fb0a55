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
 * Kind-2 messages (raw AEDAT 3.1 packets, which may be split across messages at any byte) are
 * stored re-encoded as kind 1 with the same events: a worker that takes a stream over mid-way
 * must decode any message alone.
 */
import { headers } from '@nats-io/nats-core';
import type { KV } from '@nats-io/kv';
import type { Geometry } from '../events/geometry';
import type { IngestConnection, IngestMessage } from '../server/types';
import { encodeEventMessage, KIND_AEDAT31_PACKETS } from '../formats/wire';
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
}

interface Item {
  readonly kind: Exclude<MarkerKind, 'fence'> | 'data';
  readonly bytes: Uint8Array;
  readonly n: number;
  readonly eventsTotal: number;
}

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
    this.enqueue('open', EMPTY);
    connection.closed.then(() => this.end());
    this.done = this.pump();
  }

  /** Queues one accepted message (exact bytes; kind 2 re-encoded as kind 1). */
  push(m: IngestMessage): void {
    if (this.ended) return;
    const aedat = (m.bytes[1] & 0x0f) === KIND_AEDAT31_PACKETS;
    this.eventsTotal += m.batch.length;
    this.enqueue('data', aedat ? encodeEventMessage(m.batch, m.geometry) : m.bytes);
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

  private enqueue(kind: Item['kind'], bytes: Uint8Array): void {
    this.queue.push({ kind, bytes, n: this.count++, eventsTotal: this.eventsTotal });
    this.queuedBytes += bytes.length;
    this.deps.metrics.backlogBytes.inc(bytes.length);
    this.wake?.();
  }

  private async pump(): Promise<void> {
    const { deps } = this;
    const signal = this.stopControl.signal;
    const subject = eventsSubject(this.streamId);
    while (!signal.aborted) {
      const item = this.queue[0];
      if (item === undefined) {
        if (this.ended) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      const h = headers();
      h.set(HEADER.connection, this.connectionId);
      if (item.kind !== 'data') h.set(HEADER.kind, item.kind);
      if (item.kind === 'open') h.set(HEADER.geometry, `${this.geometry.width}x${this.geometry.height}`);
      h.set(HEADER.eventsTotal, String(item.eventsTotal));
      let seq: number | undefined;
      try {
        const ack = await publishWithRetry(deps.broker.js, subject, item.bytes, { msgID: `${this.connectionId}:${item.n}`, headers: h }, { signal, onRetry: (reason) => deps.metrics.retries.inc({ reason }) });
        seq = ack.seq;
        deps.metrics.published.inc();
        deps.metrics.publishedBytes.inc(item.bytes.length);
      } catch (err) {
        if (err instanceof PublishAbortedError) return;
        deps.metrics.dropped.inc();
        deps.log?.(`stream ${this.streamId}: JetStream refused a message for good (${(err as Error).message}); it is dropped`);
      }
      this.queue.shift();
      this.queuedBytes -= item.bytes.length;
      deps.metrics.backlogBytes.dec(item.bytes.length);
      if (this.paused && this.queuedBytes <= this.highWater / 2) {
        this.paused = false;
        this.connection.resume();
      }
      if (seq !== undefined && item.kind === 'open') await this.announce({ state: 'open' });
      if (seq !== undefined && item.kind === 'end') await this.announce({ state: 'closed', endSeq: seq });
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
