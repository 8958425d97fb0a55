/**
 * Everything the gateways and workers agree on in the broker: stream and bucket names, subjects,
 * message headers, and the retention and lease defaults (README: "Beyond one machine").
 *
 * - `SPIKESTREAM_EVENTS` (JetStream stream, subjects `spikestream.events.<stream>`): each accepted
 *   ingest message's wire bytes, plus an empty `open` marker when a sensor connects and an `end`
 *   marker when it disconnects. Kept by age and size (oldest dropped first).
 * - `SPIKESTREAM_DECISIONS` (subjects `spikestream.decisions.<stream>`): one decision per sample
 *   as the text frame subscribers receive (`decisionFrame`; gateways relay it unread), message id
 *   `<streamId>:<sampleId>` (de-duplicated within the window), and a `fence` marker each time a
 *   worker takes a stream over.
 * - `spikestream.traces.<stream>`: per-step traces, plain NATS (not stored).
 * - KV `spikestream-streams`: one entry per stream id (its current connection, open or closed).
 * - KV `spikestream-leases`: which worker owns a stream; the bucket's TTL is the lease time.
 * - KV `spikestream-checkpoints`: where each stream's classification stands.
 */
import type { DecisionCounts } from '../server/metrics';

export const EVENTS_STREAM = 'SPIKESTREAM_EVENTS';
export const DECISIONS_STREAM = 'SPIKESTREAM_DECISIONS';
export const EVENTS_PREFIX = 'spikestream.events';
export const DECISIONS_PREFIX = 'spikestream.decisions';
export const TRACES_PREFIX = 'spikestream.traces';
export const STREAMS_BUCKET = 'spikestream-streams';
export const LEASES_BUCKET = 'spikestream-leases';
export const CHECKPOINTS_BUCKET = 'spikestream-checkpoints';

/** Headers on event and decision messages. */
export const HEADER = {
  /** 'open' | 'end' on event-stream markers, 'fence' on a takeover marker; absent on data. */
  kind: 'Spikestream-Kind',
  /** The sensor connection (`<gateway>.<n>`) a message belongs to. */
  connection: 'Spikestream-Connection',
  /** `WxH` on `open` markers. */
  geometry: 'Spikestream-Geometry',
  /** Events of this connection up to and including this message (lag is measured with it). */
  eventsTotal: 'Spikestream-Events-Total',
  /** The worker that published a decision or fence. */
  worker: 'Spikestream-Worker',
  /** On a decision: what the gateways count of it, `<steps> <maxSteps> <early 0|1> <confident 0|1>` (they relay its bytes unread). */
  counts: 'Spikestream-Counts',
} as const;

/** A decision's `counts` header. */
export function encodeDecisionCounts(d: DecisionCounts): string {
  return `${d.steps} ${d.maxSteps} ${d.early ? 1 : 0} ${d.confident === false ? 0 : 1}`;
}

/** The counts of a `counts` header, or undefined for one that is not. */
export function decodeDecisionCounts(text: string | undefined): Required<DecisionCounts> | undefined {
  const m = text ? /^(\d+) (\d+) ([01]) ([01])$/.exec(text) : null;
  return m ? { steps: Number(m[1]), maxSteps: Number(m[2]), early: m[3] === '1', confident: m[4] === '1' } : undefined;
}

export type MarkerKind = 'open' | 'end' | 'fence';

/** Retention of the events stream when a gateway creates it (`--retention-age`, `--retention-bytes`). */
export const DEFAULT_EVENTS_MAX_AGE_MS = 60 * 60 * 1000;
export const DEFAULT_EVENTS_MAX_BYTES = 1024 ** 3;
/** Retention of the decisions stream. */
export const DEFAULT_DECISIONS_MAX_AGE_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_DECISIONS_MAX_BYTES = 256 * 1024 ** 2;
/** Window in which a message published twice with the same id is stored once. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
/** Lease time when a worker creates the lease bucket (`--lease-ms`). */
export const DEFAULT_LEASE_MS = 5000;

/**
 * A stream id as one subject token and KV key: letters, digits, `_` and `-` stay; `.` and `:`
 * (allowed in stream ids, not in one token or key) become `=2E` and `=3A`, `=` itself `=3D`.
 */
export function streamToken(streamId: string): string {
  return streamId.replace(/[=.:]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** The stream id a `streamToken` was made from. */
export function streamIdOfToken(token: string): string {
  return token.replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export function eventsSubject(streamId: string): string {
  return `${EVENTS_PREFIX}.${streamToken(streamId)}`;
}

export function decisionsSubject(streamId: string): string {
  return `${DECISIONS_PREFIX}.${streamToken(streamId)}`;
}

export function tracesSubject(streamId: string): string {
  return `${TRACES_PREFIX}.${streamToken(streamId)}`;
}

/** The JetStream message id of a decision: publishing it twice stores it once. */
export function decisionMsgId(streamId: string, sampleId: string): string {
  return `${streamId}:${sampleId}`;
}
