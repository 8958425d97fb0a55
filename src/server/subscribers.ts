/**
 * The server side of `ws://…/decisions[?stream=id][&trace=1][&confident=1]`: query parsing and attaching an
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
 * `?stream=<id>` (one stream; absent = all), `?trace=1|true` (also per-step traces) and
 * `?confident=1` (answers only: uncertain decisions are not sent). Throws RangeError for an
 * invalid stream id or flag value.
 */
export function parseSubscriberFilter(params: URLSearchParams): SubscriberFilter {
  const stream = params.get('stream');
  if (stream !== null && !STREAM_ID_RE.test(stream)) throw new RangeError(`invalid stream id '${stream.slice(0, 80)}'`);
  const trace = flag(params, 'trace');
  const confident = flag(params, 'confident');
  return { ...(stream !== null ? { stream } : {}), trace, ...(confident ? { confident } : {}) };
}

/** `?name=1|true|` (or absent/0/false); anything else is a RangeError naming it. */
function flag(params: URLSearchParams, name: string): boolean {
  const v = params.get(name);
  if (v === null || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true' || v === '') return true;
  throw new RangeError(`${name} must be 1 or 0, got '${v.slice(0, 20)}'`);
}
