/**
 * `ws://…/ingest/<streamId>[?width=W&height=H][&fit=crop|scale|pad][&roi=x,y,w,h]`: one sensor per
 * connection; other query parameters are the service's per-stream settings (`IngestStream.params`).
 *
 * The upgrade is checked in this order, each failure answered with its status and counted in
 * `spikestream_ingest_rejected_total{reason}` before anything is reserved: shutting down (503
 * `shutting_down`), handshake (400/405 `bad_request`), token (401 `auth`), stream id (400
 * `bad_request`), width/height (400 `bad_request`), sensor size the model cannot take (422
 * `geometry`), stream id already connected or taken by a live input (409 `conflict`), too many streams (503 `busy`).
 *
 * An accepted connection becomes a `WebSocketIngest` (decoder, rate limit, bounded queue) and is
 * announced on `ingest$` once its geometry is known — from the URL, or from the first message,
 * in which case a size the model cannot take closes it with 4422 (checked as that message is decoded). Every end of the connection
 * is counted once, in `ingest_rejected` or `ingest_closed` (see close-codes.ts).
 */
import type * as http from 'http';
import type { Duplex } from 'stream';
import { Subject, type Observable } from 'rxjs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Geometry } from '../../events/geometry';
import type { EventBatch } from '../../events/event-batch';
import { WebSocketIngest, type IngestCloseInfo, type MessageDecoder } from '../../../streams/sources/from-websocket';
import { WireDecoder, closeCodeFor } from '../../formats/wire';
import { TokenBucket } from '../limits';
import { STREAM_ID_RE } from '../subscribers';
import type { ServiceMetrics } from '../metrics';
import type { GeometryCheck, ServerLimits, ServerOptions } from '../options';
import type { IngestConnection, IngestStream, StreamStatus } from '../types';
import { CLOSE_GEOMETRY_REFUSED, CLOSE_GOING_AWAY, protocolCloseReason, sensorCloseReason, serviceCloseEnd, type IngestEnd, type IngestRejectReason } from '../close-codes';
import { gateRefusal, type UpgradeGate } from './handshake';
import { decodePathSegment } from './request-target';
import type { Refusal } from './respond';
import { DEFAULT_QUEUE_CAPACITY_EVENTS, DEFAULT_QUEUE_OVERFLOW } from '../../defaults';

export const INGEST_PATH_RE = /^\/ingest\/([^/]+)$/;

interface IngestEntry {
  readonly streamId: string;
  ingest: WebSocketIngest | undefined;
  ws: WebSocket | undefined;
  rateLimited: number;
  /** Set by the server just before it closes the connection itself: how that close is counted. */
  end: IngestEnd | undefined;
}

export interface IngestEndpointDeps extends UpgradeGate {
  readonly options: ServerOptions;
  readonly limits: ServerLimits;
  readonly metrics: ServiceMetrics;
}

export class IngestEndpoint {
  private readonly entries = new Map<string, IngestEntry>();
  private readonly announced = new Subject<IngestStream>();
  private readonly wss: WebSocketServer;
  readonly ingest$: Observable<IngestStream> = this.announced.asObservable();

  constructor(private readonly deps: IngestEndpointDeps) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: deps.limits.maxMessageBytes, perMessageDeflate: false });
    // What ws still refuses after our handshake checks (e.g. a bad sub-protocol list) is answered and counted here.
    this.wss.on('wsClientError', (err: Error, socket: Duplex) => this.reject(socket, { status: 400, message: err.message }, 'bad_request'));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Handles an upgrade whose path matched `INGEST_PATH_RE` (`segment` is its raw stream id). */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, segment: string, query: URLSearchParams): void {
    const gate = gateRefusal(this.deps, req, query);
    if (gate) return this.reject(socket, gate.refusal, gate.reason);
    const streamId = decodePathSegment(segment);
    if (streamId === undefined || !STREAM_ID_RE.test(streamId)) {
      return this.reject(socket, { status: 400, message: 'invalid stream id (1-64 of A-Z a-z 0-9 _ . : -)' }, 'bad_request');
    }
    const geometry = parseGeometryQuery(query);
    if (geometry !== undefined && 'status' in geometry) return this.reject(socket, geometry, 'bad_request');
    if (geometry !== undefined) {
      const refused = checkGeometry(this.deps.options.acceptGeometry, geometry, streamId, query);
      if (refused !== undefined) return this.reject(socket, { status: 422, message: refused }, 'geometry');
    }
    if (this.entries.has(streamId)) return this.reject(socket, { status: 409, message: `stream '${streamId}' is already connected` }, 'conflict');
    if (this.deps.options.moreStreams?.().some((s) => s.streamId === streamId)) {
      return this.reject(socket, { status: 409, message: `stream '${streamId}' is a live input of this service (--input)` }, 'conflict');
    }
    const max = this.deps.limits.maxIngestStreams;
    if (this.entries.size >= max) return this.reject(socket, { status: 503, message: `too many ingest streams (limit ${max})`, headers: { 'Retry-After': '5' } }, 'busy');

    const entry: IngestEntry = { streamId, ingest: undefined, ws: undefined, rateLimited: 0, end: undefined };
    this.entries.set(streamId, entry);
    socket.once('close', () => {
      if (entry.ws === undefined) this.release(entry);
    });
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      entry.ws = ws;
      if (this.deps.closing()) {
        this.release(entry);
        this.deps.metrics.rejected('shutting_down');
        ws.close(CLOSE_GOING_AWAY, 'server shutting down');
        return;
      }
      this.deps.metrics.activeStreams.set(this.entries.size);
      this.accept(entry, ws, geometry, (socket as { remoteAddress?: string }).remoteAddress, query);
    });
  }

  private accept(entry: IngestEntry, ws: WebSocket, urlGeometry: Geometry | undefined, remoteAddress: string | undefined, params: URLSearchParams): void {
    const { options, limits, metrics } = this.deps;
    const bucket = limits.maxEventsPerSecond > 0 ? new TokenBucket(limits.maxEventsPerSecond, limits.burstEvents) : undefined;
    const wire = new WireDecoder({ geometry: urlGeometry, maxEvents: limits.maxEventsPerMessage });
    const checked = urlGeometry === undefined && options.acceptGeometry ? this.checkingFirstGeometry(wire, entry.streamId, params) : wire;
    const relay = options.onIngestMessage;
    const connection = relay ? ingestConnection(ws) : undefined;
    const ingest = new WebSocketIngest(ws, {
      decoder: checked,
      geometry: urlGeometry,
      capacityEvents: options.queueCapacityEvents ?? DEFAULT_QUEUE_CAPACITY_EVENTS,
      overflow: options.queueOverflow ?? DEFAULT_QUEUE_OVERFLOW,
      batchesPerTurn: options.batchesPerTurn,
      closeCodeFor: (err) => (err instanceof GeometryRefusedError ? CLOSE_GEOMETRY_REFUSED : closeCodeFor(err)),
      admit: bucket ? (n) => (bucket.tryTake(n) ? 'accept' : limits.rateLimitAction === 'close' ? 'close' : 'drop') : undefined,
      onEvents: (n, bytes) => {
        metrics.eventsIn.inc(n);
        metrics.bytesIn.inc(bytes);
      },
      forward: relay && connection ? (bytes, d) => relay(entry.streamId, { bytes, ...d, standalone: wire.lastStandalone, connection }) : undefined,
      onDrop: (reason, n) => {
        if (reason === 'rate_limit') entry.rateLimited += n;
        metrics.dropped(reason === 'discarded' && this.deps.closing() ? 'shutdown' : reason, n);
      },
      onClose: (info) => {
        this.release(entry);
        metrics.ingestEnded(endOf(info, entry.end));
      },
    });
    entry.ingest = ingest;
    ingest.geometryReady.then((g) => {
      if (g === undefined || this.deps.closing()) return;
      this.announced.next({
        streamId: entry.streamId,
        geometry: g,
        events: ingest.events,
        source: ingest.source,
        params,
        remoteAddress,
        close: (code = 1000, reason = '') => {
          entry.end ??= serviceCloseEnd(code);
          ingest.close(code, reason);
        },
      });
    });
  }

  /**
   * The wire decoder, plus the model's size check on the first message's geometry. The check
   * runs inside `decode`, synchronously, so a refused sensor is closed (4422) before any of its
   * later messages — or its own close frame in the same TCP read — is looked at; the first
   * message's events are counted as discarded.
   */
  private checkingFirstGeometry(wire: MessageDecoder, streamId: string, params: URLSearchParams): MessageDecoder {
    let checked = false;
    return {
      decode: (bytes) => {
        const decoded = wire.decode(bytes);
        if (!checked) {
          const refused = checkGeometry(this.deps.options.acceptGeometry, decoded.geometry, streamId, params);
          if (refused !== undefined) {
            this.deps.metrics.dropped('discarded', decoded.batch.length);
            throw new GeometryRefusedError(refused);
          }
          checked = true;
        }
        return decoded;
      },
    };
  }

  streams(): StreamStatus[] {
    return [...this.entries.values()].map((e) => {
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
  }

  /** Shutdown: closes every sensor with 1001 and completes `ingest$`; returns the ingests whose queues may still drain. */
  stopIngest(): WebSocketIngest[] {
    const ingests: WebSocketIngest[] = [];
    for (const e of [...this.entries.values()]) {
      e.end ??= { counter: 'closed', reason: 'shutdown' };
      if (e.ingest) {
        ingests.push(e.ingest);
        e.ingest.close(CLOSE_GOING_AWAY, 'server shutting down');
      } else e.ws?.close(CLOSE_GOING_AWAY, 'server shutting down');
    }
    this.announced.complete();
    return ingests;
  }

  /** Every open sensor socket (for the final forced close). */
  sockets(): WebSocket[] {
    return [...this.wss.clients];
  }

  dispose(): void {
    this.wss.close();
  }

  private release(entry: IngestEntry): void {
    if (this.entries.get(entry.streamId) === entry) this.entries.delete(entry.streamId);
    this.deps.metrics.activeStreams.set(this.entries.size);
  }

  private reject(socket: Duplex, r: Refusal, reason: IngestRejectReason): void {
    this.deps.metrics.rejected(reason);
    this.deps.refuse(socket, r);
  }
}

/** The socket as the relay sees it: pausable, and when it has closed. */
function ingestConnection(ws: WebSocket): IngestConnection {
  return {
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    closed: new Promise<void>((resolve) => ws.once('close', () => resolve())),
  };
}

/** A first message whose sensor size the model cannot take (closed with 4422). */
class GeometryRefusedError extends Error {
  override readonly name = 'GeometryRefusedError';
}

/** How an ingest connection's end is counted: as the server tagged it, or from who closed it. */
function endOf(info: IngestCloseInfo, tagged: IngestEnd | undefined): IngestEnd {
  if (info.by === 'protocol') return { counter: 'rejected', reason: protocolCloseReason(info.code, info.reason) };
  if (info.by === 'remote') return { counter: 'closed', reason: sensorCloseReason(info.code) };
  // A local close the server did not tag is the ingest's own: its consumer unsubscribed.
  return tagged ?? { counter: 'closed', reason: 'consumer_unsubscribed' };
}

const DIMENSION_RE = /^[1-9][0-9]{0,4}$/;

/** `?width=&height=`: both or neither, each a plain integer in 1..65535. */
export function parseGeometryQuery(query: URLSearchParams): Geometry | Refusal | undefined {
  const w = query.get('width');
  const h = query.get('height');
  if (w === null && h === null) return undefined;
  const width = w !== null && DIMENSION_RE.test(w) ? Number(w) : NaN;
  const height = h !== null && DIMENSION_RE.test(h) ? Number(h) : NaN;
  if (!(width <= 0xffff && height <= 0xffff)) return { status: 400, message: 'width and height must both be integers in 1..65535' };
  return { width, height };
}

/** The check's refusal, or undefined to accept; a check that throws refuses with its message. */
function checkGeometry(check: GeometryCheck | undefined, g: Geometry, streamId: string, params: URLSearchParams): string | undefined {
  if (!check) return undefined;
  try {
    return check(g, streamId, params);
  } catch (err) {
    return `cannot check the sensor size ${g.width}x${g.height}: ${err instanceof Error ? err.message : String(err)}`;
  }
}
