/** The server's options, their defaults, and the check that a public address has a token. */
import type { Geometry } from '../events/geometry';
import type { OverflowPolicy } from '../../streams/core/bounded-queue';
import { DEFAULT_MAX_EVENTS_PER_MESSAGE } from '../formats/wire';
import type { ServiceMetrics } from './metrics';
import type { IngestMessage, StreamStatus } from './types';
import type { ViewerOptions } from './viewer';
import { DEFAULT_MAX_EVENTS_PER_SECOND, DEFAULT_MAX_INGEST_STREAMS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_RATE_LIMIT_ACTION } from '../defaults';

/**
 * Decides whether a sensor of this size can be classified: a refusal message (one line, shown
 * to the sensor) or undefined to accept. Geometry from the URL is refused with HTTP 422, from
 * the first message with close code 4422; both count as `ingest_rejected{reason="geometry"}`.
 */
export type GeometryCheck = (geometry: Geometry, streamId: string, params: URLSearchParams) => string | undefined;

export interface ServerOptions {
  /** Address to listen on (default 127.0.0.1). Non-loopback requires `token`. */
  host?: string;
  /** Port (default 0: any free port; see `listen()`'s result). */
  port?: number;
  /** Bearer token for /ingest and /decisions. */
  token?: string;
  /** Largest WebSocket message in bytes (default 8 MiB); bigger → close 1009. */
  maxMessageBytes?: number;
  /** Largest event count in one message (default 2^20); more → close 1009. */
  maxEventsPerMessage?: number;
  /** Per-connection event rate (events/s; default 5,000,000; 0 = unlimited). */
  maxEventsPerSecond?: number;
  /** Token-bucket burst in events (default max(rate, maxEventsPerMessage)). */
  burstEvents?: number;
  /** Over the rate: drop the message and count it (default) or close with 1008. */
  rateLimitAction?: 'drop' | 'close';
  /** Concurrent ingest connections (default 16); more → HTTP 503. */
  maxIngestStreams?: number;
  /** Concurrent decision subscribers (default 256); more → HTTP 503. */
  maxSubscribers?: number;
  /** Per-stream queue between socket and pipeline (default 2^20 events, 'drop-oldest'). */
  queueCapacityEvents?: number;
  queueOverflow?: OverflowPolicy;
  /** Batches handed to each stream's consumer per event-loop turn (default 4). */
  batchesPerTurn?: number;
  /** Per-subscriber backlog limit in bytes (default 1 MiB). */
  subscriberMaxBufferedBytes?: number;
  /** Terminate a subscriber that has been dropping for this long (ms; default never). */
  subscriberStallTimeoutMs?: number;
  /** Refuse sensors whose size the model cannot take, when they connect (default: accept all). */
  acceptGeometry?: GeometryCheck;
  metrics?: ServiceMetrics;
  /**
   * Each accepted ingest message (decoded, within the rate limit), in arrival order: its exact
   * bytes, its events and its connection (which can be paused). When set, the server is a relay:
   * messages are handed here and not queued (`IngestStream.events`/`source` carry nothing and
   * end with the socket). The NATS gateway publishes the bytes to JetStream.
   */
  onIngestMessage?: (streamId: string, message: IngestMessage) => void;
  /** Streams that reach the service other than through /ingest (`--input`): listed with the sensors in /health and the viewer. */
  moreStreams?: () => StreamStatus[];
  /** More fields for the /health body (e.g. the broker connection); they may replace `status`. */
  health?: () => Record<string, unknown>;
  /** Serve the viewer page at `/` and its preview feed at `/preview` (default: no viewer). */
  viewer?: ViewerOptions;
}

/** The limits with their defaults applied (what /health reports). */
export interface ServerLimits {
  maxIngestStreams: number;
  maxSubscribers: number;
  maxMessageBytes: number;
  maxEventsPerMessage: number;
  maxEventsPerSecond: number;
  burstEvents: number;
  rateLimitAction: 'drop' | 'close';
}

export function resolveLimits(o: ServerOptions): ServerLimits {
  const maxEventsPerMessage = o.maxEventsPerMessage ?? DEFAULT_MAX_EVENTS_PER_MESSAGE;
  const maxEventsPerSecond = o.maxEventsPerSecond ?? DEFAULT_MAX_EVENTS_PER_SECOND;
  return {
    maxIngestStreams: o.maxIngestStreams ?? DEFAULT_MAX_INGEST_STREAMS,
    maxSubscribers: o.maxSubscribers ?? DEFAULT_MAX_SUBSCRIBERS,
    maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    maxEventsPerMessage,
    maxEventsPerSecond,
    burstEvents: o.burstEvents ?? Math.max(maxEventsPerSecond, maxEventsPerMessage),
    rateLimitAction: o.rateLimitAction ?? DEFAULT_RATE_LIMIT_ACTION,
  };
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and 'localhost'. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

/** The token to require, or undefined; throws for a non-loopback address without one. */
export function requiredToken(host: string, token: string | undefined): string | undefined {
  const t = token && token.length > 0 ? token : undefined;
  if (!isLoopbackHost(host) && t === undefined) {
    throw new Error(`refusing to listen on non-loopback address ${host} without a token (set a token, or listen on 127.0.0.1)`);
  }
  return t;
}
