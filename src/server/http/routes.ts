/**
 * Routing for the one Node http server: plain requests (`GET|HEAD /health`, `/metrics`, with a
 * viewer `/` and `/viewer/…`, 404, 405), WebSocket upgrades (`/ingest/<streamId>`, `/decisions`,
 * with a viewer `/preview`, 404), CONNECT (405) and bytes
 * Node cannot parse (400, 431 for oversized headers, 408). Every handler answers with a status
 * and never throws; every error status is counted in `spikestream_http_refused_total{status}`.
 */
import type * as http from 'http';
import type { Duplex } from 'stream';
import type { ServiceMetrics } from '../metrics';
import { INGEST_PATH_RE, type IngestEndpoint } from './ingest-endpoint';
import type { SubscriberEndpoint } from './subscriber-endpoint';
import type { ViewerRoutes } from './viewer-routes';
import { isRefusal, parseRequestTarget, type RequestTarget } from './request-target';
import { answerClientError, refuseOnSocket, refuseResponse, sendBody, type Refusal } from './respond';

export interface RouteDeps {
  readonly metrics: ServiceMetrics;
  readonly closing: () => boolean;
  /** The /health body (its status is 503 while closing). */
  readonly health: () => object;
  readonly ingest: IngestEndpoint;
  readonly subscribers: SubscriberEndpoint;
  /** The viewer page: `/`, `/viewer/…` (viewer-routes.ts) and the `/preview` WebSocket; absent without a viewer. */
  readonly viewer?: { readonly routes: ViewerRoutes; readonly preview: SubscriberEndpoint };
}

const METHOD_NOT_ALLOWED: Refusal = { status: 405, message: 'method not allowed', headers: { Allow: 'GET, HEAD' } };
const NO_SUCH_UPGRADE: Refusal = { status: 404, message: 'no such endpoint (use /ingest/<streamId> or /decisions)' };
const INTERNAL: Refusal = { status: 500, message: 'internal error' };
const NO_HOST: Refusal = { status: 400, message: 'HTTP/1.1 requests need a Host header' };

/**
 * The request's target, or why it is refused. Node's own Host check is off (the server is
 * created with `requireHostHeader: false`) so that this refusal is counted like the others.
 */
function readTarget(req: http.IncomingMessage): RequestTarget | Refusal {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && req.headers.host === undefined) return NO_HOST;
  return parseRequestTarget(req.url);
}

/** A refusal on an upgrade's raw socket, counted. */
export function countedSocketRefusal(metrics: ServiceMetrics): (socket: Duplex, r: Refusal) => void {
  return (socket, r) => {
    metrics.refused(r.status);
    refuseOnSocket(socket, r);
  };
}

export function attachRoutes(server: http.Server, deps: RouteDeps): void {
  const { metrics } = deps;
  const refuseSocket = countedSocketRefusal(metrics);
  const refuse = (req: http.IncomingMessage, res: http.ServerResponse, r: Refusal): void => {
    metrics.refused(r.status);
    refuseResponse(req, res, r);
  };

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(req, res, METHOD_NOT_ALLOWED);
      const target = readTarget(req);
      if (isRefusal(target)) return refuse(req, res, target);
      if (target.path === '/health') {
        sendBody(req, res, deps.closing() ? 503 : 200, 'application/json; charset=utf-8', JSON.stringify(deps.health()));
      } else if (target.path === '/metrics') {
        metrics.expose().then(
          (text) => sendBody(req, res, 200, metrics.contentType, text),
          () => refuse(req, res, INTERNAL),
        );
      } else if (!deps.viewer?.routes.handle(req, res, target, (r) => refuse(req, res, r))) refuse(req, res, { status: 404, message: 'not found' });
    } catch {
      if (!res.headersSent) refuse(req, res, INTERNAL);
      else res.destroy();
    }
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      const target = readTarget(req);
      if (isRefusal(target)) return refuseSocket(socket, target);
      if (target.path === '/decisions') return deps.subscribers.upgrade(req, socket, head, target.query);
      if (target.path === '/preview' && deps.viewer) return deps.viewer.preview.upgrade(req, socket, head, target.query);
      const m = INGEST_PATH_RE.exec(target.path);
      if (m) return deps.ingest.upgrade(req, socket, head, m[1], target.query);
      refuseSocket(socket, NO_SUCH_UPGRADE);
    } catch {
      refuseSocket(socket, INTERNAL);
    }
  });

  server.on('connect', (_req: http.IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    refuseSocket(socket, METHOD_NOT_ALLOWED);
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = answerClientError(err, socket);
    if (status !== undefined) metrics.refused(status);
  });
}
