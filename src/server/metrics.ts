/**
 * The service's metrics on prom-client, one `Registry` per service instance (never the global
 * one, so several services in one process keep their own counts). `/metrics` serves
 * `await metrics.expose()` with `metrics.contentType` (Prometheus text format 0.0.4).
 *
 * The metric names are the public contract; the README's service section lists them.
 */
import { Histogram, Registry } from 'prom-client';
import { ReadableCounter, ReadableGauge } from './metric-handles';
import { INGEST_CLOSE_REASONS, INGEST_REJECT_REASONS, type IngestCloseReason, type IngestEnd, type IngestRejectReason } from './close-codes';

/** Step latency buckets (seconds): 0.5 ms … 5 s. */
export const STEP_LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export type DropReason = 'rate_limit' | 'queue_overflow' | 'discarded' | 'shutdown';
const DROP_REASONS: readonly DropReason[] = ['rate_limit', 'queue_overflow', 'discarded', 'shutdown'];

/** What `recordDecision` reads of a decision (`confident` undefined counts as confident). */
export interface DecisionCounts {
  steps: number;
  maxSteps: number;
  early: boolean;
  confident?: boolean;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  readonly contentType: string = this.registry.contentType;

  readonly eventsIn = this.counter('spikestream_events_in_total', 'DVS events accepted from ingest connections (after rate limiting).');
  readonly bytesIn = this.counter('spikestream_ingest_bytes_total', 'Bytes of ingest messages received.');
  readonly eventsDropped = this.counter(
    'spikestream_events_dropped_total',
    'DVS events dropped before the pipeline, by reason (rate_limit, queue_overflow, discarded: unconsumed when the consumer unsubscribed or the stream was refused, shutdown: unconsumed at shutdown).',
    ['reason'],
  );
  readonly ingestRejected = this.counter(
    'spikestream_ingest_rejected_total',
    `Ingest connections refused at the upgrade or closed by the server for what the sensor sent, by reason (${INGEST_REJECT_REASONS.join(', ')}).`,
    ['reason'],
  );
  readonly ingestClosed = this.counter(
    'spikestream_ingest_closed_total',
    `Accepted ingest connections that ended other than by rejection, by reason (${INGEST_CLOSE_REASONS.join(', ')}).`,
    ['reason'],
  );
  readonly httpRefused = this.counter('spikestream_http_refused_total', 'HTTP requests and WebSocket upgrades answered with an error status (unparseable requests included), by status.', ['status']);
  readonly activeStreams = this.gauge('spikestream_active_streams', 'Open ingest (sensor) connections.');
  readonly activeSlots = this.gauge('spikestream_active_slots', 'SNN batch slots in use (live samples).');
  readonly decisions = this.counter('spikestream_decisions_total', 'Decisions published as answers (confident; the others are in spikestream_decisions_uncertain_total).');
  readonly uncertainDecisions = this.counter('spikestream_decisions_uncertain_total', 'Decisions published as uncertain (confident: false): reported, never presented as an answer.');
  readonly earlyDecisions = this.counter('spikestream_early_decisions_total', 'Decisions taken before maxSteps (confidence crossed the threshold).');
  readonly stepsSaved = this.counter('spikestream_steps_saved_total', 'SNN steps not run thanks to early decisions (sum of maxSteps - steps).');
  readonly wallLimited = this.counter('spikestream_samples_wall_limited_total', 'Samples decided by the per-sample wall-time limit.');
  readonly pipelineErrors = this.counter('spikestream_pipeline_errors_total', 'Streams whose classification pipeline failed (each closed with 1011).');
  readonly stepLatency = new Histogram({
    name: 'spikestream_step_latency_seconds',
    help: 'Wall time of one batched SNN step.',
    buckets: STEP_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly subscribers = this.gauge('spikestream_subscribers', 'Connected decision subscribers.');
  readonly subscriberDrops = this.counter('spikestream_subscriber_drops_total', 'Messages not sent to a subscriber because its backlog was over the limit.');
  readonly decisionSteps = this.counter('spikestream_decision_steps_total', 'SNN steps used by published decisions, answers and uncertain (sum of steps; with steps_saved, the share of steps saved).');
  readonly previewFrames = this.counter('spikestream_preview_frames_total', 'Preview frames sent to viewer pages (at most the preview rate per stream and page).');
  readonly previewDrops = this.counter('spikestream_preview_dropped_total', 'Preview frames not sent to a viewer page because its backlog was over the limit.');
  readonly previewSubscribers = this.gauge('spikestream_preview_subscribers', 'Connected preview (viewer page) subscribers.');

  constructor() {
    // Every known label exists from the start, so that rate() sees a series before its first event.
    for (const reason of DROP_REASONS) this.eventsDropped.inc({ reason }, 0);
    for (const reason of INGEST_REJECT_REASONS) this.ingestRejected.inc({ reason }, 0);
    for (const reason of INGEST_CLOSE_REASONS) this.ingestClosed.inc({ reason }, 0);
  }

  /** Counts a published decision's steps, and it as an answer (total, early, steps saved) or an uncertain one. */
  recordDecision(d: DecisionCounts): void {
    this.decisionSteps.inc(d.steps);
    if (d.confident === false) {
      this.uncertainDecisions.inc();
      return;
    }
    this.decisions.inc();
    if (d.early) this.earlyDecisions.inc();
    if (d.maxSteps > d.steps) this.stepsSaved.inc(d.maxSteps - d.steps);
  }

  dropped(reason: DropReason, events: number): void {
    if (events > 0) this.eventsDropped.inc({ reason }, events);
  }

  rejected(reason: IngestRejectReason): void {
    this.ingestRejected.inc({ reason });
  }

  /** Counts the end of an ingest connection under the counter its classification names. */
  ingestEnded(end: IngestEnd): void {
    if (end.counter === 'rejected') this.ingestRejected.inc({ reason: end.reason });
    else this.ingestClosed.inc({ reason: end.reason satisfies IngestCloseReason });
  }

  refused(status: number): void {
    this.httpRefused.inc({ status });
  }

  /** The whole registry in Prometheus text format. */
  expose(): Promise<string> {
    return this.registry.metrics();
  }

  private counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): ReadableCounter<L> {
    return new ReadableCounter<L>(this.registry, name, help, labelNames);
  }

  private gauge(name: string, help: string): ReadableGauge {
    return new ReadableGauge(this.registry, name, help);
  }
}
