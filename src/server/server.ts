/**
 * The HTTP + WebSocket shell of the service: one Node http server, `ws` in noServer mode, and
 * our own `upgrade` routing.
 *
 * - `GET /health` → 200 JSON status (503 with `"status":"closing"` during shutdown).
 * - `GET /metrics` → Prometheus text (see `ServiceMetrics`).
 * - `ws://…/ingest/<streamId>[?width=W&height=H]` → one sensor: binary wire messages
 *   (src/server/wire.ts). Geometry comes from the query or the first message. Each accepted
 *   connection is announced on `ingest$` once its geometry is known.
 * - `ws://…/decisions[?stream=id][&trace=1]` → JSON decisions (and traces) as text frames.
 *
 * Auth: with `token` set, both WebSocket endpoints need `Authorization: Bearer <token>` or
 * `?token=<token>` (HTTP 401 otherwise); /health and /metrics stay open. Listening on a
 * non-loopback address without a token is refused (`createServer` throws).
 *
 * Limits (all per server unless said otherwise):
 * - `maxMessageBytes` (ws maxPayload): a bigger message closes that connection with 1009;
 * - `maxEventsPerMessage`: a message claiming more events closes with 1009;
 * - malformed message → 1007; text message → 1003;
 * - `maxEventsPerSecond` per connection (token bucket, burst `burstEvents`): a message over the
 *   budget is dropped whole and counted in `spikestream_events_dropped_total{reason="rate_limit"}`
 *   (`rateLimitAction: 'drop'`, the default), or closes the connection with 1008 ('close');
 * - `maxIngestStreams` concurrent sensors: the upgrade is refused with HTTP 503;
 * - one connection per streamId: a second is refused with HTTP 409 while the first is open;
 * - `maxSubscribers`: HTTP 503;
 * - per-stream bounded queue (`queueCapacityEvents`, `queueOverflow`) between socket and pipeline;
 * - per-subscriber backlog (`subscriberMaxBufferedBytes`): over it, messages to that subscriber
 *   are dropped and counted.
 *
 * Shutdown (`close({ drainMs })`): refuse new connections (503), close every ingest socket with
 * 1001 (each stream's Observable then completes after its queued events), wait — at most
 * `drainMs` in all — for consumers to drain their queues, for `waitFor` (e.g. the pipeline's
 * last decisions), and for subscriber buffers to flush; then close subscribers with 1001 and
 * stop the http server. Whatever is still queued at the deadline is discarded and counted as
 * `reason="shutdown"`.
 */
import * as http from 'http';
import type { Duplex } from 'stream';
import { createHash, timingSafeEqual } from 'crypto';
import { Observable, Subject } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import type { OverflowPolicy } from '../../streams/sources/bounded-queue';
import { WebSocketIngest, type IngestCloseInfo } from '../../streams/sources/from-websocket';
import { SubscriberHub } from '../../streams/sinks/to-subscribers';
import type { Decision, StepTrace } from '../../streams/sinks/decision';
import { ServiceMetrics, PROMETHEUS_CONTENT_TYPE } from './metrics';
import { WireDecoder, DEFAULT_MAX_EVENTS_PER_MESSAGE, closeCodeFor } from './wire';
import { TokenBucket } from './limits';
import { STREAM_ID_RE, parseSubscriberFilter } from './subscribers';

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
  metrics?: ServiceMetrics;
}

/** A sensor connection, announced on `ingest$`. */
export interface IngestStream {
  readonly streamId: string;
  readonly geometry: Geometry;
  /** The sensor's batches through its bounded queue; one consumer. Completes when the sensor disconnects. */
  readonly events: Observable<EventBatch>;
  readonly remoteAddress: string | undefined;
  /** Closes the sensor connection (default 1000). */
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

export interface SpikeServer {
  readonly http: http.Server;
  readonly metrics: ServiceMetrics;
  readonly hub: SubscriberHub;
  /** One value per sensor connection, once its geometry is known. Hot: subscribe before listening. */
  readonly ingest$: Observable<IngestStream>;
  listen(): Promise<ListenInfo>;
  /** Publishes a decision to subscribers and counts it in the metrics. Never blocks. */
  publish(decision: Decision): void;
  /** Publishes a step trace to `trace=1` subscribers. */
  publishTrace(trace: StepTrace): void;
  streams(): StreamStatus[];
  close(opts?: { drainMs?: number; waitFor?: Promise<unknown> }): Promise<void>;
}

/** True for 127.0.0.0/8, ::1, ::ffff:127.x and 'localhost'. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

interface IngestEntry {
  streamId: string;
  ingest: WebSocketIngest | undefined;
  ws: WebSocket | undefined;
  rateLimited: number;
}

function tokenDigest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function rejectUpgrade(socket: Duplex, status: number, message: string, headers: Record<string, string> = {}): void {
  const body = message + '\n';
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  try {
    socket.end(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    );
  } catch {
    socket.destroy();
  }
  setTimeout(() => socket.destroy(), 1000).unref();
}

function rejectReasonFor(code: number): string {
  switch (code) {
    case 1003:
    case 1007:
      return 'malformed';
    case 1009:
      return 'too_big';
    default:
      return 'policy';
  }
}

export function createServer(opts: ServerOptions = {}): SpikeServer {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token && opts.token.length > 0 ? opts.token : undefined;
  if (!isLoopbackHost(host) && token === undefined) {
    throw new Error(`refusing to listen on non-loopback address ${host} without a token (set a token, or listen on 127.0.0.1)`);
  }
  const port = opts.port ?? 0;
  const maxMessageBytes = opts.maxMessageBytes ?? 8 * 1024 * 1024;
  const maxEvents = opts.maxEventsPerMessage ?? DEFAULT_MAX_EVENTS_PER_MESSAGE;
  const rate = opts.maxEventsPerSecond ?? 5_000_000;
  const burst = opts.burstEvents ?? Math.max(rate, maxEvents);
  const rateAction = opts.rateLimitAction ?? 'drop';
  const maxIngest = opts.maxIngestStreams ?? 16;
  const maxSubscribers = opts.maxSubscribers ?? 256;
  const metrics = opts.metrics ?? new ServiceMetrics();
  const tokenHash = token !== undefined ? tokenDigest(token) : undefined;
  const startedAt = Date.now();

  const hub = new SubscriberHub({
    maxBufferedBytes: opts.subscriberMaxBufferedBytes ?? 1 << 20,
    stallTimeoutMs: opts.subscriberStallTimeoutMs,
    onDrop: () => metrics.subscriberDrops.inc(),
    onCount: (n) => metrics.subscribers.set(n),
  });
  const ingestSubject = new Subject<IngestStream>();
  const entries = new Map<string, IngestEntry>();
  const ingestWss = new WebSocketServer({ noServer: true, maxPayload: maxMessageBytes, perMessageDeflate: false });
  const subsWss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  let closing = false;
  let closed: Promise<void> | undefined;
  let pendingSubscribers = 0;

  const authorized = (req: http.IncomingMessage, url: URL): boolean => {
    if (tokenHash === undefined) return true;
    let given: string | undefined;
    const auth = req.headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m) given = m[1].trim();
    }
    if (given === undefined) given = url.searchParams.get('token') ?? undefined;
    if (given === undefined) return false;
    return timingSafeEqual(tokenDigest(given), tokenHash);
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(405, 'text/plain; charset=utf-8', 'method not allowed\n');
      return;
    }
    if (url.pathname === '/health') {
      const body = {
        status: closing ? 'closing' : 'ok',
        uptimeS: Math.round((Date.now() - startedAt) / 100) / 10,
        streams: api.streams(),
        subscribers: hub.size,
        limits: { maxIngestStreams: maxIngest, maxSubscribers, maxMessageBytes, maxEventsPerMessage: maxEvents, maxEventsPerSecond: rate, rateLimitAction: rateAction },
      };
      send(closing ? 503 : 200, 'application/json; charset=utf-8', JSON.stringify(body));
      return;
    }
    if (url.pathname === '/metrics') {
      send(200, PROMETHEUS_CONTENT_TYPE, metrics.expose());
      return;
    }
    send(404, 'text/plain; charset=utf-8', 'not found\n');
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      rejectUpgrade(socket, 400, 'bad request');
      return;
    }
    if (closing) {
      rejectUpgrade(socket, 503, 'server is shutting down');
      return;
    }
    const path = url.pathname;
    if (path === '/decisions') {
      if (!authorized(req, url)) {
        rejectUpgrade(socket, 401, 'missing or wrong token', { 'WWW-Authenticate': 'Bearer' });
        return;
      }
      let filter;
      try {
        filter = parseSubscriberFilter(url.searchParams);
      } catch (e) {
        rejectUpgrade(socket, 400, (e as Error).message);
        return;
      }
      if (hub.size + pendingSubscribers >= maxSubscribers) {
        rejectUpgrade(socket, 503, 'too many subscribers', { 'Retry-After': '5' });
        return;
      }
      pendingSubscribers++;
      let done = false;
      socket.once('close', () => {
        if (!done) {
          done = true;
          pendingSubscribers--;
        }
      });
      subsWss.handleUpgrade(req, socket, head, (ws) => {
        if (!done) {
          done = true;
          pendingSubscribers--;
        }
        ws.on('error', () => undefined);
        ws.on('message', () => undefined); // subscribers have nothing to say; ignore
        if (closing) {
          ws.close(1001, 'server shutting down');
          return;
        }
        hub.add(ws, filter);
      });
      return;
    }
    const m = /^\/ingest\/([^/]+)$/.exec(path);
    if (!m) {
      rejectUpgrade(socket, 404, 'no such endpoint (use /ingest/<streamId> or /decisions)');
      return;
    }
    let streamId: string;
    try {
      streamId = decodeURIComponent(m[1]);
    } catch {
      streamId = '';
    }
    if (!STREAM_ID_RE.test(streamId)) {
      metrics.ingestRejected.inc({ reason: 'bad_request' });
      rejectUpgrade(socket, 400, 'invalid stream id (1-64 of A-Z a-z 0-9 _ . : -)');
      return;
    }
    if (!authorized(req, url)) {
      metrics.ingestRejected.inc({ reason: 'auth' });
      rejectUpgrade(socket, 401, 'missing or wrong token', { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    let geometry: Geometry | undefined;
    const w = url.searchParams.get('width');
    const h = url.searchParams.get('height');
    if (w !== null || h !== null) {
      const width = Number(w);
      const height = Number(h);
      if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 0xffff || height > 0xffff) {
        metrics.ingestRejected.inc({ reason: 'bad_request' });
        rejectUpgrade(socket, 400, 'width and height must be integers in 1..65535');
        return;
      }
      geometry = { width, height };
    }
    if (entries.has(streamId)) {
      metrics.ingestRejected.inc({ reason: 'conflict' });
      rejectUpgrade(socket, 409, `stream '${streamId}' is already connected`);
      return;
    }
    if (entries.size >= maxIngest) {
      metrics.ingestRejected.inc({ reason: 'busy' });
      rejectUpgrade(socket, 503, `too many ingest streams (limit ${maxIngest})`, { 'Retry-After': '5' });
      return;
    }
    const entry: IngestEntry = { streamId, ingest: undefined, ws: undefined, rateLimited: 0 };
    entries.set(streamId, entry);
    socket.once('close', () => {
      if (entry.ws === undefined && entries.get(streamId) === entry) entries.delete(streamId);
    });
    ingestWss.handleUpgrade(req, socket, head, (ws) => {
      entry.ws = ws;
      if (closing) {
        entries.delete(streamId);
        ws.close(1001, 'server shutting down');
        return;
      }
      metrics.activeStreams.set(entries.size);
      const bucket = rate > 0 ? new TokenBucket(rate, burst) : undefined;
      const ingest = new WebSocketIngest(ws, {
        decoder: new WireDecoder({ geometry, maxEvents }),
        geometry,
        capacityEvents: opts.queueCapacityEvents ?? 1 << 20,
        overflow: opts.queueOverflow ?? 'drop-oldest',
        batchesPerTurn: opts.batchesPerTurn,
        closeCodeFor,
        admit: bucket ? (n) => (bucket.tryTake(n) ? 'accept' : rateAction === 'close' ? 'close' : 'drop') : undefined,
        onEvents: (n, bytes) => {
          metrics.eventsIn.inc(n);
          metrics.bytesIn.inc(bytes);
        },
        onDrop: (reason, n) => {
          if (reason === 'rate_limit') entry.rateLimited += n;
          metrics.dropped(reason === 'discarded' && closing ? 'shutdown' : reason, n);
        },
        onClose: (info: IngestCloseInfo) => {
          if (entries.get(streamId) === entry) entries.delete(streamId);
          metrics.activeStreams.set(entries.size);
          if (info.by === 'protocol') {
            const reason = info.code === 1008 && /rate/.test(info.reason) ? 'rate_limit' : rejectReasonFor(info.code);
            metrics.ingestRejected.inc({ reason });
          }
        },
      });
      entry.ingest = ingest;
      const remoteAddress = (socket as { remoteAddress?: string }).remoteAddress;
      ingest.geometryReady.then((g) => {
        if (g === undefined || closing) return;
        ingestSubject.next({
          streamId,
          geometry: g,
          events: ingest.events,
          remoteAddress,
          close: (code = 1000, reason = '') => ingest.close(code, reason),
        });
      });
    });
  });

  const api: SpikeServer = {
    http: server,
    metrics,
    hub,
    ingest$: ingestSubject.asObservable(),
    listen(): Promise<ListenInfo> {
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
    },
    publish(decision: Decision): void {
      metrics.recordDecision(decision);
      hub.publish(decision);
    },
    publishTrace(trace: StepTrace): void {
      hub.publishTrace(trace);
    },
    streams(): StreamStatus[] {
      return [...entries.values()].map((e) => {
        const s = e.ingest?.queue.stats;
        return {
          streamId: e.streamId,
          geometry: e.ingest?.geometry,
          messages: e.ingest?.messages ?? 0,
          bytes: e.ingest?.bytes ?? 0,
          queuedEvents: s?.sizeEvents ?? 0,
          enqueuedEvents: s?.enqueuedEvents ?? 0,
          droppedEvents: s?.droppedEvents ?? 0,
          rateLimitedEvents: e.rateLimited,
        };
      });
    },
    close(closeOpts: { drainMs?: number; waitFor?: Promise<unknown> } = {}): Promise<void> {
      if (closed) return closed;
      closing = true;
      const drainMs = closeOpts.drainMs ?? 2000;
      const deadline = Date.now() + drainMs;
      closed = (async () => {
        const httpClosed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        // 1. Stop ingest: every sensor socket closes with 1001; each stream completes after its queue.
        const ingests: WebSocketIngest[] = [];
        for (const e of [...entries.values()]) {
          if (e.ingest) {
            ingests.push(e.ingest);
            e.ingest.close(1001, 'server shutting down');
          } else if (e.ws) e.ws.close(1001, 'server shutting down');
        }
        ingestSubject.complete();
        // 2. Let consumers drain what was queued (bounded).
        while (Date.now() < deadline && ingests.some((i) => i.subscribed && !i.queue.finished)) await sleep(5);
        for (const i of ingests) i.queue.discard(); // counted as reason="shutdown"
        // 3. The pipeline's last decisions (bounded), then the subscribers' buffers.
        if (closeOpts.waitFor) await Promise.race([closeOpts.waitFor.catch(() => undefined), sleep(Math.max(0, deadline - Date.now()))]);
        await new Promise((r) => setImmediate(r));
        await hub.flush(Math.max(0, deadline - Date.now()));
        // 4. Close subscribers with 1001; force anything left after a short grace.
        hub.closeAll(1001, 'server shutting down');
        const sockets = [...ingestWss.clients, ...subsWss.clients];
        const graceEnd = Date.now() + 1000;
        while (Date.now() < graceEnd && sockets.some((s) => s.readyState !== 3)) await sleep(5);
        for (const s of sockets) if (s.readyState !== 3) s.terminate();
        server.closeAllConnections();
        ingestWss.close();
        subsWss.close();
        await Promise.race([httpClosed, sleep(1000)]);
      })();
      return closed;
    },
  };
  return api;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
