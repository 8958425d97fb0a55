/**
 * The close sequence, bounded by `drainMs` in all:
 * 1. stop the http server accepting; close every sensor with 1001 (each stream's Observable
 *    completes after its queued events) and complete `ingest$`;
 * 2. let the streams' consumers drain their queues; what is left at the deadline is discarded
 *    and counted as `events_dropped{reason="shutdown"}`;
 * 3. wait for `waitFor` (the pipeline's last decisions), then for subscriber buffers to flush;
 * 4. close subscribers with 1001, force what has not closed after a short grace, stop the server.
 * Every timer it starts is cleared when its race is decided, so an idle server exits at once.
 */
import type * as http from 'http';
import type { WebSocket } from 'ws';
import type { SubscriberHub } from '../../../streams/sinks/to-subscribers';
import type { PreviewHub } from '../preview';
import { CLOSE_GOING_AWAY } from '../close-codes';
import type { CloseOptions } from '../types';
import type { IngestEndpoint } from './ingest-endpoint';
import type { SubscriberEndpoint } from './subscriber-endpoint';

export interface ShutdownParts {
  readonly http: http.Server;
  readonly ingest: IngestEndpoint;
  readonly subscribers: SubscriberEndpoint;
  readonly hub: SubscriberHub;
  /** The viewer's preview feed, closed with the subscribers. */
  readonly preview?: { readonly hub: PreviewHub; readonly endpoint: SubscriberEndpoint };
}

const DEFAULT_DRAIN_MS = 2000;
/** After the drain: how long sockets may take to finish their close handshakes before being terminated. */
const SOCKET_CLOSE_GRACE_MS = 1000;
const POLL_MS = 5;
const WS_CLOSED = 3;

export async function shutdown(parts: ShutdownParts, opts: CloseOptions = {}): Promise<void> {
  const deadline = Date.now() + (opts.drainMs ?? DEFAULT_DRAIN_MS);
  const left = (): number => Math.max(0, deadline - Date.now());
  const httpClosed = new Promise<void>((r) => parts.http.close(() => r()));
  parts.http.closeIdleConnections();

  const ingests = parts.ingest.stopIngest();
  await until(() => !ingests.some((i) => i.subscribed && !i.queue.finished), left());
  for (const i of ingests) i.queue.discard();

  if (opts.waitFor) await within(opts.waitFor.catch(() => undefined), left());
  await new Promise((r) => setImmediate(r));
  await parts.hub.flush(left());

  parts.hub.closeAll(CLOSE_GOING_AWAY, 'server shutting down');
  parts.preview?.hub.closeAll(CLOSE_GOING_AWAY, 'server shutting down');
  const sockets: WebSocket[] = [...parts.ingest.sockets(), ...parts.subscribers.sockets(), ...(parts.preview?.endpoint.sockets() ?? [])];
  await until(() => sockets.every((s) => s.readyState === WS_CLOSED), SOCKET_CLOSE_GRACE_MS);
  for (const s of sockets) if (s.readyState !== WS_CLOSED) s.terminate();
  parts.http.closeAllConnections();
  parts.ingest.dispose();
  parts.subscribers.dispose();
  parts.preview?.endpoint.dispose();
  await within(httpClosed, SOCKET_CLOSE_GRACE_MS);
}

/** Resolves when `cond()` holds or after `ms`, whichever is first. */
async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(Math.min(POLL_MS, Math.max(0, end - Date.now())));
}

/** Waits for `p` at most `ms`; the timer is cleared as soon as `p` settles. */
async function within(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => (timer = setTimeout(r, ms)));
  try {
    await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
