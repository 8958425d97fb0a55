/**
 * The server side of `ws://…/decisions[?stream=id][&trace=1]`: query parsing and attaching an
 * accepted socket to the hub. The hub itself (fan-out, per-subscriber backlog limit, drop
 * counting) lives in streams/sinks/to-subscribers.ts so that pipeline code can use it without
 * importing the server.
 */
import type { SubscriberFilter } from '../../streams/sinks/to-subscribers';

export { SubscriberHub, Subscriber, toSubscribers, tracesToSubscribers } from '../../streams/sinks/to-subscribers';
export type { SubscriberFilter, SubscriberSocket, SubscriberStats, SubscriberHubOptions } from '../../streams/sinks/to-subscribers';
export type { Decision, StepTrace } from '../../streams/types';

/** Stream ids: 1–64 characters of letters, digits, `_`, `-`, `.`, `:`. */
export const STREAM_ID_RE = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * `?stream=<id>` (one stream; absent = all) and `?trace=1|true` (also per-step traces).
 * Throws RangeError for an invalid stream id or trace value.
 */
export function parseSubscriberFilter(params: URLSearchParams): SubscriberFilter {
  const stream = params.get('stream');
  if (stream !== null && !STREAM_ID_RE.test(stream)) throw new RangeError(`invalid stream id '${stream.slice(0, 80)}'`);
  const t = params.get('trace');
  let trace = false;
  if (t !== null) {
    if (t === '1' || t === 'true' || t === '') trace = true;
    else if (t === '0' || t === 'false') trace = false;
    else throw new RangeError(`trace must be 1 or 0, got '${t.slice(0, 20)}'`);
  }
  return stream !== null ? { stream, trace } : { trace };
}
