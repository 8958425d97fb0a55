/**
 * The HTTP + WebSocket shell of the service: one Node http server, `ws` in noServer mode, and
 * our own routing (src/server/http/). This file only puts the rooms together:
 *
 * - routes.ts: `GET /health` → 200 JSON status (503 while closing), `GET /metrics` → Prometheus
 *   text (prom-client, see `ServiceMetrics`), 404/405, CONNECT and unparseable requests;
 * - ingest-endpoint.ts: `ws://…/ingest/<streamId>[?width=W&height=H]`, one sensor sending binary
 *   wire messages (src/formats/wire), announced on `ingest$` once its geometry is known;
 * - subscriber-endpoint.ts: `ws://…/decisions[?stream=id][&trace=1]`, JSON decisions and traces;
 * - with `viewer` set, viewer-routes.ts: the page at `/` and `/viewer/…`, and (a second
 *   subscriber endpoint on ../preview.ts's hub) `ws://…/preview[?stream=id]`, its binary frames;
 * - auth.ts, handshake.ts, request-target.ts, respond.ts: the checks every request passes;
 * - shutdown.ts: the bounded close sequence.
 *
 * Auth: with `token` set, the WebSocket endpoints and the viewer's JSON need `Authorization:
 * Bearer <token>` or `?token=<token>` (HTTP 401 otherwise); /health, /metrics and the page's
 * static files stay open. Listening on a
 * non-loopback address without a token is refused (`createServer` throws).
 *
 * Limits (options.ts): message size (1009), events per message (1009), event rate per
 * connection (drop and count, or 1008), concurrent sensors (503), one connection per stream id
 * (409), subscribers (503), per-stream bounded queue, per-subscriber backlog. The close codes
 * and the counters every refusal and close is counted under are listed in close-codes.ts.
 */
import * as http from 'http';
import { SubscriberHub } from '../../streams/sinks/to-subscribers';
import type { Decision, StepTrace } from '../../streams/types';
import { ServiceMetrics, type DecisionCounts } from './metrics';
import { resolveLimits, requiredToken, type ServerOptions } from './options';
import type { ViewerOptions } from './viewer';
import type { CloseOptions, ListenInfo, SpikeServer, StreamStatus } from './types';
import { tokenCheck } from './http/auth';
import { IngestEndpoint } from './http/ingest-endpoint';
import { SubscriberEndpoint } from './http/subscriber-endpoint';
import { attachRoutes, countedSocketRefusal } from './http/routes';
import { shutdown } from './http/shutdown';
import { ViewerRoutes } from './http/viewer-routes';
import { PreviewHub } from './preview';
import { DEFAULT_MAX_BUFFERED_BYTES } from '../defaults';

export { isLoopbackHost, type ServerOptions, type GeometryCheck, type ServerLimits } from './options';
export type { IngestStream, StreamStatus, ListenInfo, SpikeServer, CloseOptions } from './types';
export * from './close-codes';

/** What the viewer's parts need of the server. */
interface ViewerDeps {
  readonly metrics: ServiceMetrics;
  readonly authorized: ConstructorParameters<typeof ViewerRoutes>[0]['authorized'];
  readonly streams: () => StreamStatus[];
  readonly maxSubscribers: number;
  readonly closing: () => boolean;
  readonly refuse: ReturnType<typeof countedSocketRefusal>;
}

/** The viewer's page routes and its preview feed, a subscriber endpoint of its own (its own drop counter). */
function viewerParts(v: ViewerOptions, d: ViewerDeps): { routes: ViewerRoutes; hub: PreviewHub; endpoint: SubscriberEndpoint } {
  const { metrics } = d;
  const previewHub = new PreviewHub({
    fps: v.previewFps,
    maxBufferedBytes: v.previewMaxBufferedBytes,
    onSent: () => metrics.previewFrames.inc(),
    onDrop: () => metrics.previewDrops.inc(),
    onCount: (n) => metrics.previewSubscribers.set(n),
  });
  const routes = new ViewerRoutes({
    metrics,
    authorized: d.authorized,
    streams: d.streams,
    config: () => ({ model: v.model ?? null, previewFps: 1000 / previewHub.intervalMs }),
  });
  const endpoint = new SubscriberEndpoint({ hub: previewHub, maxSubscribers: d.maxSubscribers, authorized: d.authorized, closing: d.closing, refuse: d.refuse });
  return { routes, hub: previewHub, endpoint };
}

/** Starts listening; resolves with the address (port 0: the one the OS chose), rejects e.g. when the port is in use. */
function listen(server: http.Server, host: string, port: number): Promise<ListenInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const a = server.address();
      const p = typeof a === 'object' && a ? a.port : port;
      const hostText = host.includes(':') ? `[${host}]` : host;
      resolve({ host, port: p, url: `http://${hostText}:${p}` });
    });
  });
}

export function createServer(opts: ServerOptions = {}): SpikeServer {
  const host = opts.host ?? '127.0.0.1';
  const token = requiredToken(host, opts.token);
  const port = opts.port ?? 0;
  const limits = resolveLimits(opts);
  const metrics = opts.metrics ?? new ServiceMetrics();
  const startedAt = Date.now();
  let closing = false;
  let closed: Promise<void> | undefined;
  const isClosing = (): boolean => closing;
  const authorized = tokenCheck(token);
  const refuse = countedSocketRefusal(metrics);

  const hub = new SubscriberHub({
    maxBufferedBytes: opts.subscriberMaxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    stallTimeoutMs: opts.subscriberStallTimeoutMs,
    onDrop: () => metrics.subscriberDrops.inc(),
    onCount: (n) => metrics.subscribers.set(n),
  });
  const ingest = new IngestEndpoint({ options: opts, limits, metrics, authorized, closing: isClosing, refuse });
  const subscribers = new SubscriberEndpoint({ hub, maxSubscribers: limits.maxSubscribers, authorized, closing: isClosing, refuse });
  const allStreams = (): StreamStatus[] => [...ingest.streams(), ...(opts.moreStreams?.() ?? [])];
  const viewer = opts.viewer && viewerParts(opts.viewer, { metrics, authorized, streams: allStreams, maxSubscribers: limits.maxSubscribers, closing: isClosing, refuse });
  const server = http.createServer({ requireHostHeader: false }); // routes.ts checks Host itself, counted
  attachRoutes(server, {
    metrics,
    closing: isClosing,
    ingest,
    subscribers,
    viewer: viewer && { routes: viewer.routes, preview: viewer.endpoint },
    health: () => ({
      status: closing ? 'closing' : 'ok',
      uptimeS: Math.round((Date.now() - startedAt) / 100) / 10,
      streams: allStreams(),
      subscribers: hub.size,
      limits,
      ...opts.health?.(),
    }),
  });

  return {
    http: server,
    metrics,
    hub,
    preview: viewer?.hub,
    ingest$: ingest.ingest$,
    listen: () => listen(server, host, port),
    publish(decision: Decision): void {
      metrics.recordDecision(decision);
      hub.publish(decision);
    },
    publishFrame(streamId: string, frame: string, counts: DecisionCounts): void {
      metrics.recordDecision(counts);
      hub.publishFrame(streamId, frame, counts.confident === false);
    },
    publishTrace(trace: StepTrace): void {
      hub.publishTrace(trace);
    },
    streams: allStreams,
    close(closeOpts: CloseOptions = {}): Promise<void> {
      if (closed) return closed;
      closing = true;
      closed = shutdown({ http: server, ingest, subscribers, hub, preview: viewer }, closeOpts);
      return closed;
    },
  };
}
