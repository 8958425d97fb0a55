/** What the server hands to the service and reports about itself. */
import type * as http from 'http';
import type { Observable } from 'rxjs';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import type { EventSource } from '../../streams/core/event-source';
import type { SubscriberHub } from '../../streams/sinks/to-subscribers';
import type { Decision, StepTrace } from '../../streams/types';
import type { ServiceMetrics } from './metrics';
import type { PreviewHub } from './preview';

/** A sensor connection, announced on `ingest$` once its geometry is known and accepted. */
export interface IngestStream {
  readonly streamId: string;
  readonly geometry: Geometry;
  /** The sensor's batches through its bounded queue; one consumer. Completes when the sensor disconnects. */
  readonly events: Observable<EventBatch>;
  /** The same queue as a pulled source (what the classifier reads); use `events` or `source`, not both. */
  readonly source: EventSource;
  /** The ingest URL's query: the service's per-stream settings (e.g. `fit`, `roi`). */
  readonly params: URLSearchParams;
  readonly remoteAddress: string | undefined;
  /**
   * Closes the sensor connection (default 1000) and counts why, by code: 1011 as
   * `ingest_closed{reason="pipeline_error"}`, 1001 as `shutdown`, 4422 as
   * `ingest_rejected{reason="geometry"}`, anything else as `service`.
   */
  close(code?: number, reason?: string): void;
}

export interface StreamStatus {
  streamId: string;
  geometry: Geometry | undefined;
  messages: number;
  bytes: number;
  queuedEvents: number;
  enqueuedEvents: number;
  droppedEvents: number;
  rateLimitedEvents: number;
}

export interface ListenInfo {
  host: string;
  port: number;
  /** `http://host:port` (use `ws://` for the WebSocket endpoints). */
  url: string;
}

export interface CloseOptions {
  /** Bound on the whole drain (default 2000 ms). */
  drainMs?: number;
  /** Waited for (bounded by drainMs) after ingest stopped, before subscribers are flushed: e.g. the pipeline's last decisions. */
  waitFor?: Promise<unknown>;
}

export interface SpikeServer {
  readonly http: http.Server;
  readonly metrics: ServiceMetrics;
  readonly hub: SubscriberHub;
  /** The viewer's preview feed (`/preview`): offer it frames with `publish`; undefined without a viewer. */
  readonly preview: PreviewHub | undefined;
  /** One value per sensor connection, once its geometry is known. Hot: subscribe before listening. */
  readonly ingest$: Observable<IngestStream>;
  listen(): Promise<ListenInfo>;
  /** Publishes a decision to subscribers and counts it in the metrics. Never blocks. */
  publish(decision: Decision): void;
  /** Publishes a step trace to `trace=1` subscribers. */
  publishTrace(trace: StepTrace): void;
  streams(): StreamStatus[];
  close(opts?: CloseOptions): Promise<void>;
}

/** One sensor connection as `onIngestMessage` sees it. */
export interface IngestConnection {
  /** Stops reading the sensor's socket (TCP pushes back on the sensor) until `resume`. */
  pause(): void;
  resume(): void;
  /** Resolves when the socket has closed: no message of this connection comes after. */
  readonly closed: Promise<void>;
}

/** An accepted ingest message: its exact bytes, its decoded events and its connection. */
export interface IngestMessage {
  readonly bytes: Uint8Array;
  readonly batch: EventBatch;
  readonly geometry: Geometry;
  readonly connection: IngestConnection;
}
