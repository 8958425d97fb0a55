/**
 * What the service tells a peer when it refuses or ends a connection, in one place: the
 * WebSocket close codes it sends to sensors, and the reason labels under which every refusal
 * and every end of an ingest connection is counted (`spikestream_ingest_rejected_total{reason}`
 * and `spikestream_ingest_closed_total{reason}`). The README's service section lists the same.
 *
 * | code | when | counted as |
 * | --- | --- | --- |
 * | 1000 | the stream's consumer unsubscribed (pipeline ended) | closed `consumer_unsubscribed` |
 * | 1001 | server shutting down | closed `shutdown` |
 * | 1003 | text message | rejected `malformed` |
 * | 1007 | malformed wire message, or geometry change mid-stream | rejected `malformed` |
 * | 1008 | over the event rate (`rateLimitAction: 'close'`), queue overflow under 'error' | rejected `rate_limit` / `policy` |
 * | 1009 | message over `maxMessageBytes` or `maxEventsPerMessage` | rejected `too_big` |
 * | 1011 | the service's pipeline failed on this stream | closed `pipeline_error` |
 * | 4422 | the model cannot take this sensor size (geometry from the first message) | rejected `geometry` |
 *
 * A sensor that closes itself is counted as closed `sensor` (1000/1001) or `sensor_abnormal`
 * (any other code, including 1006 for a dropped TCP connection).
 */

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_INVALID_PAYLOAD = 1007;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_TOO_BIG = 1009;
export const CLOSE_INTERNAL_ERROR = 1011;
/** Application code (4000–4999): the sensor size is one the model cannot take (HTTP 422's twin). */
export const CLOSE_GEOMETRY_REFUSED = 4422;

/** Why an ingest connection was refused at the upgrade or closed by the server for what the sensor sent. */
export const INGEST_REJECT_REASONS = [
  'auth',
  'bad_request',
  'busy',
  'conflict',
  'shutting_down',
  'geometry',
  'malformed',
  'too_big',
  'rate_limit',
  'policy',
] as const;
export type IngestRejectReason = (typeof INGEST_REJECT_REASONS)[number];

/** Why an accepted ingest connection ended, when it was not a rejection. */
export const INGEST_CLOSE_REASONS = ['sensor', 'sensor_abnormal', 'consumer_unsubscribed', 'pipeline_error', 'shutdown', 'service'] as const;
export type IngestCloseReason = (typeof INGEST_CLOSE_REASONS)[number];

/** The counter and label a close is counted under. */
export type IngestEnd = { counter: 'rejected'; reason: IngestRejectReason } | { counter: 'closed'; reason: IngestCloseReason };

/** The label of a close the server sent because of what the sensor sent (the ingest's 'protocol' closes). */
export function protocolCloseReason(code: number, reason: string): IngestRejectReason {
  switch (code) {
    case CLOSE_UNSUPPORTED_DATA:
    case CLOSE_INVALID_PAYLOAD:
      return 'malformed';
    case CLOSE_TOO_BIG:
      return 'too_big';
    case CLOSE_GEOMETRY_REFUSED:
      return 'geometry';
    case CLOSE_POLICY_VIOLATION:
      return /rate/.test(reason) ? 'rate_limit' : 'policy';
    default:
      return 'policy';
  }
}

/** The label of a close the service asked for through `IngestStream.close(code)`. */
export function serviceCloseEnd(code: number): IngestEnd {
  if (code === CLOSE_GEOMETRY_REFUSED) return { counter: 'rejected', reason: 'geometry' };
  if (code === CLOSE_INTERNAL_ERROR) return { counter: 'closed', reason: 'pipeline_error' };
  if (code === CLOSE_GOING_AWAY) return { counter: 'closed', reason: 'shutdown' };
  return { counter: 'closed', reason: 'service' };
}

/** The label of a close the sensor sent. */
export function sensorCloseReason(code: number): IngestCloseReason {
  return code === CLOSE_NORMAL || code === CLOSE_GOING_AWAY ? 'sensor' : 'sensor_abnormal';
}

/** What a close code means, in a few words, for messages to people (e.g. the `sensor` client). */
export function describeCloseCode(code: number): string {
  switch (code) {
    case CLOSE_NORMAL:
      return 'normal close';
    case CLOSE_GOING_AWAY:
      return 'server shutting down';
    case CLOSE_UNSUPPORTED_DATA:
      return 'text message refused';
    case CLOSE_INVALID_PAYLOAD:
      return 'malformed message';
    case CLOSE_POLICY_VIOLATION:
      return 'policy violation';
    case CLOSE_TOO_BIG:
      return 'message too big';
    case CLOSE_INTERNAL_ERROR:
      return 'the server failed on this stream';
    case CLOSE_GEOMETRY_REFUSED:
      return 'sensor size refused';
    case 1006:
      return 'connection lost without a close frame';
    default:
      return 'closed';
  }
}
