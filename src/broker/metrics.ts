/**
 * Metrics of the NATS mode, in the style of src/server/metrics.ts (prom-client, one registry per
 * instance, readable handles). A gateway adds `GatewayBrokerMetrics` to its service registry; a
 * worker has its own registry (`WorkerMetrics`), served on `--metrics-port`.
 */
import { Registry } from 'prom-client';
import { ReadableCounter, ReadableGauge } from '../server/metric-handles';

abstract class MetricSet {
  constructor(readonly registry: Registry) {}

  protected counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): ReadableCounter<L> {
    return new ReadableCounter<L>(this.registry, name, help, labelNames);
  }

  protected gauge(name: string, help: string): ReadableGauge {
    return new ReadableGauge(this.registry, name, help);
  }
}

/** Why a publish to the broker was tried again. */
export type RetryReason = 'timeout' | 'no_responders' | 'refused' | 'disconnected';
export const RETRY_REASONS: readonly RetryReason[] = ['timeout', 'no_responders', 'refused', 'disconnected'];

export class GatewayBrokerMetrics extends MetricSet {
  readonly connected = this.gauge('spikestream_broker_connected', '1 while the gateway is connected to NATS, else 0.');
  readonly disconnects = this.counter('spikestream_broker_disconnects_total', 'Times the NATS connection was lost.');
  readonly published = this.counter('spikestream_broker_published_total', 'JetStream messages stored: batches of ingest messages, and connection markers.');
  readonly batchedMessages = this.counter('spikestream_broker_ingest_messages_stored_total', 'Ingest messages stored in JetStream (several may share one stored message).');
  readonly publishedBytes = this.counter('spikestream_broker_published_bytes_total', 'Bytes of ingest messages stored in JetStream.');
  readonly retries = this.counter('spikestream_broker_publish_retries_total', `Publishes tried again because the broker did not store them, by reason (${RETRY_REASONS.join(', ')}).`, ['reason']);
  readonly dropped = this.counter('spikestream_broker_dropped_messages_total', 'Ingest messages never stored: refused for good by the broker, or still queued when the gateway stopped.');
  readonly pauses = this.counter('spikestream_broker_backpressure_pauses_total', 'Times a sensor socket was paused because its messages waited for the broker.');
  readonly backlogBytes = this.gauge('spikestream_broker_backlog_bytes', 'Bytes of accepted ingest messages waiting to be stored in JetStream.');
  readonly relayed = this.counter('spikestream_broker_decisions_relayed_total', 'Decisions read from JetStream and sent to this gateway\u2019s subscribers.');

  constructor(registry: Registry) {
    super(registry);
    for (const reason of RETRY_REASONS) this.retries.inc({ reason }, 0);
  }
}

export type WorkerSkipReason = 'stale_connection' | 'undecodable' | 'expired' | 'refused_geometry';
export const WORKER_SKIP_REASONS: readonly WorkerSkipReason[] = ['stale_connection', 'undecodable', 'expired', 'refused_geometry'];

export class WorkerMetrics extends MetricSet {
  readonly contentType: string;
  readonly connected = this.gauge('spikestream_worker_broker_connected', '1 while the worker is connected to NATS, else 0.');
  readonly owned = this.gauge('spikestream_worker_streams_owned', 'Streams this worker holds a lease on.');
  readonly lagEvents = this.gauge('spikestream_worker_lag_events', 'Events published for the owned streams but not yet read by their classification.');
  readonly takeovers = this.counter('spikestream_worker_takeovers_total', 'Streams taken over from another worker whose lease expired (resumed from its checkpoint).');
  readonly acquired = this.counter('spikestream_worker_leases_acquired_total', 'Stream leases taken.');
  readonly lost = this.counter('spikestream_worker_leases_lost_total', 'Stream leases lost (expired unrenewed, or taken by another worker).');
  readonly released = this.counter('spikestream_worker_leases_released_total', 'Stream leases given up (the stream ended, or the worker stopped).');
  readonly decisions = this.counter('spikestream_worker_decisions_published_total', 'Decisions stored in JetStream by this worker.');
  readonly duplicates = this.counter('spikestream_worker_decisions_duplicate_total', 'Decisions JetStream already had (published again after a takeover or a lost ack): stored once.');
  readonly fenced = this.counter('spikestream_worker_fenced_total', 'Publishes and checkpoints refused because another worker took the stream over.');
  readonly retries = this.counter('spikestream_worker_publish_retries_total', `Decision publishes tried again, by reason (${RETRY_REASONS.join(', ')}).`, ['reason']);
  readonly checkpoints = this.counter('spikestream_worker_checkpoints_total', 'Checkpoints written.');
  readonly skipped = this.counter('spikestream_worker_messages_skipped_total', `Event messages not classified, by reason (${WORKER_SKIP_REASONS.join(', ')}).`, ['reason']);
  readonly pipelineErrors = this.counter('spikestream_worker_pipeline_errors_total', 'Stream classifications that failed (the stream is released and taken again).');

  constructor() {
    super(new Registry());
    this.contentType = this.registry.contentType;
    for (const reason of RETRY_REASONS) this.retries.inc({ reason }, 0);
    for (const reason of WORKER_SKIP_REASONS) this.skipped.inc({ reason }, 0);
  }

  expose(): Promise<string> {
    return this.registry.metrics();
  }
}

/** The retry reason for a failed publish. */
export function retryReason(err: unknown): RetryReason {
  const name = (err as { name?: string; constructor?: { name?: string } })?.constructor?.name ?? '';
  const message = (err as Error)?.message ?? '';
  if (name === 'TimeoutError' || /timeout/i.test(message)) return 'timeout';
  if (name === 'NoRespondersError' || /no responders|503/i.test(message)) return 'no_responders';
  if (name === 'JetStreamApiError') return 'refused';
  return 'disconnected';
}
