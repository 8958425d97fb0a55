/**
 * A live sensor connection as an `Observable<EventBatch>`.
 *
 * Each binary WebSocket message is decoded by the connection's `MessageDecoder` (the server
 * passes a `WireDecoder` from src/formats/wire; it is injected so that streams/ does not
 * import server/), optionally admitted by a rate limiter, and pushed into a
 * `BoundedEventQueue`; the Observable pulls from the queue. Listening starts at construction
 * (the socket is live), so events that arrive before the pipeline subscribes wait in the queue.
 *
 * Failures close only this connection and never throw into the process:
 * - a message the decoder rejects → close with `closeCodeFor(err)` (the wire decoder uses 1007
 *   invalid payload, 1009 for too many events), reason = the error's message (≤ 123 bytes);
 * - a text message → 1003 (unsupported data);
 * - a message over ws `maxPayload` → ws itself closes with 1009;
 * - the rate limiter answering 'close' → 1008 (policy violation);
 * - queue overflow under the 'error' policy → 1008.
 * The Observable then completes (default) or errors with `IngestClosedError`
 * (`errorOnProtocolError: true`), after the events already queued. A normal close by the sensor
 * completes it. Unsubscribing closes the socket with 1000 (default) and discards the queue.
 */
import { Observable } from 'rxjs';
import type { WebSocket, RawData } from 'ws';
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { BoundedEventQueue, type OverflowPolicy, QueueOverflowError, fromBoundedQueue } from '../core/bounded-queue';
import { pullFromIterator, type EventSource } from '../core/event-source';
import { DEFAULT_QUEUE_CAPACITY_EVENTS, DEFAULT_QUEUE_OVERFLOW } from '../../src/defaults';

/** Per-connection message decoder (e.g. `new WireDecoder()` from src/formats/wire). */
export interface MessageDecoder {
  decode(bytes: Uint8Array): { geometry: Geometry; batch: EventBatch };
}

/** 'discarded': queued events thrown away unconsumed (the consumer unsubscribed, or shutdown). */
export type IngestDropReason = 'rate_limit' | 'queue_overflow' | 'discarded';

export interface WebSocketSourceOptions {
  decoder: MessageDecoder;
  /** Known geometry (e.g. from the URL); else the first message's geometry. */
  geometry?: Geometry;
  /** Queue capacity in events (default 2^20) and overflow policy (default 'drop-oldest'). */
  capacityEvents?: number;
  overflow?: OverflowPolicy;
  /** Batches handed to the consumer per event-loop turn (default 4). */
  batchesPerTurn?: number;
  /**
   * Rate limiter: called with each decoded message's event count. 'accept' keeps it, 'drop'
   * drops the whole message (counted as 'rate_limit'), 'close' closes the connection with 1008.
   */
  admit?: (events: number) => 'accept' | 'drop' | 'close';
  /** Close code for a decoder error (default: `err.closeCode` if numeric, else 1007). */
  closeCodeFor?: (err: unknown) => number;
  /** Error the Observable with `IngestClosedError` on a protocol/policy close (default false: complete). */
  errorOnProtocolError?: boolean;
  /** Close the socket with 1000 when the consumer unsubscribes (default true). */
  closeOnUnsubscribe?: boolean;
  /** Accepted events (after rate limiting, before queue overflow). */
  onEvents?: (events: number, bytes: number) => void;
  onDrop?: (reason: IngestDropReason, events: number) => void;
  /** Once, when the socket has closed: who closed it and why. */
  onClose?: (info: IngestCloseInfo) => void;
}

export interface IngestCloseInfo {
  code: number;
  reason: string;
  /** 'remote': the sensor closed; 'protocol': we closed it for bad input or policy; 'local': server/consumer. */
  by: 'remote' | 'protocol' | 'local';
  error?: unknown;
}

export class IngestClosedError extends Error {
  override readonly name = 'IngestClosedError';
  constructor(
    readonly code: number,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`ingest connection closed with ${code}: ${reason}`);
  }
}

const OPEN = 1;

/** Truncates a close reason to the 123 bytes a close frame allows (UTF-8). */
export function closeReason(text: string): string {
  const b = Buffer.from(text, 'utf8');
  if (b.length <= 123) return text;
  let s = b.subarray(0, 120).toString('utf8');
  while (Buffer.byteLength(s) > 120) s = s.slice(0, -1);
  return s.replace(/\uFFFD$/, '') + '...';
}

export class WebSocketIngest {
  readonly queue: BoundedEventQueue;
  /** The stream's batches as an Observable (one consumer: this or `source`). */
  readonly events: Observable<EventBatch>;
  /** The stream's bounded queue as a pulled source (one consumer): what the classifier reads, with no second buffer. */
  readonly source: EventSource;
  /** Resolves with the geometry once known, or undefined if the socket closes first. */
  readonly geometryReady: Promise<Geometry | undefined>;
  private geom: Geometry | undefined;
  private resolveGeometry!: (g: Geometry | undefined) => void;
  private dead = false;
  private hasConsumer = false;
  private info: IngestCloseInfo | undefined;
  private pendingClose: { code: number; reason: string; by: IngestCloseInfo['by']; error?: unknown } | undefined;
  messages = 0;
  bytes = 0;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: WebSocketSourceOptions,
  ) {
    this.geom = opts.geometry;
    this.geometryReady = new Promise((r) => (this.resolveGeometry = r));
    if (this.geom) this.resolveGeometry(this.geom);
    this.queue = new BoundedEventQueue({
      capacityEvents: opts.capacityEvents ?? DEFAULT_QUEUE_CAPACITY_EVENTS,
      overflow: opts.overflow ?? DEFAULT_QUEUE_OVERFLOW,
      onDrop: (n, why) => opts.onDrop?.(why === 'overflow' ? 'queue_overflow' : 'discarded', n),
    });
    const q = fromBoundedQueue(this.queue, { batchesPerTurn: opts.batchesPerTurn, discardOnUnsubscribe: true });
    this.events = new Observable<EventBatch>((subscriber) => {
      if (this.hasConsumer) {
        subscriber.error(new Error('fromWebSocket: the stream has one consumer; it is already subscribed'));
        return;
      }
      this.hasConsumer = true;
      const sub = q.subscribe({
        next: (b) => subscriber.next(b),
        error: (e) => {
          // The queue fails only under the 'error' overflow policy (the socket is closed with 1008).
          if (!opts.errorOnProtocolError) subscriber.complete();
          else subscriber.error(e instanceof QueueOverflowError ? new IngestClosedError(1008, e.message, e) : e);
        },
        complete: () => subscriber.complete(),
      });
      return () => {
        sub.unsubscribe();
        if ((opts.closeOnUnsubscribe ?? true) && !this.dead) this.close(1000, 'consumer unsubscribed');
      };
    });
    this.source = {
      open: (signal) => {
        if (this.hasConsumer) throw new Error('fromWebSocket: the stream has one consumer; it is already subscribed');
        this.hasConsumer = true;
        const it = this.queue[Symbol.asyncIterator]();
        const iterator: AsyncIterator<EventBatch> = {
          next: async () => {
            try {
              return await it.next();
            } catch (e) {
              if (!opts.errorOnProtocolError) return { done: true, value: undefined };
              throw e instanceof QueueOverflowError ? new IngestClosedError(1008, e.message, e) : e;
            }
          },
          return: async () => {
            await it.return?.();
            if ((opts.closeOnUnsubscribe ?? true) && !this.dead) this.close(1000, 'consumer unsubscribed');
            return { done: true, value: undefined };
          },
        };
        return pullFromIterator(iterator, signal);
      },
    };
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('error', (err) => {
      // ws closes the socket itself after an error (e.g. 1009 for maxPayload); keep the cause.
      const code = wsErrorCloseCode(err);
      if (!this.pendingClose) this.pendingClose = { code, reason: err.message, by: 'protocol', error: err };
    });
    ws.on('close', (code, reason) => this.onClose(code, reason.toString('utf8')));
  }

  get geometry(): Geometry | undefined {
    return this.geom;
  }

  /** True once a consumer has subscribed to `events`. */
  get subscribed(): boolean {
    return this.hasConsumer;
  }

  get closeInfo(): IngestCloseInfo | undefined {
    return this.info;
  }

  /**
   * Stops taking messages and closes the socket (server side): the queue completes, so the
   * consumer gets what is queued and then the end.
   */
  close(code = 1000, reason = ''): void {
    this.shut(code, reason, 'local');
  }

  private shut(code: number, reason: string, by: IngestCloseInfo['by'], error?: unknown): void {
    if (this.dead) return;
    this.dead = true;
    if (!this.pendingClose) this.pendingClose = { code, reason, by, error };
    this.endQueue();
    if (this.ws.readyState === OPEN || this.ws.readyState === 0) {
      try {
        this.ws.close(code, closeReason(reason));
      } catch {
        this.ws.terminate();
      }
    }
  }

  private endQueue(): void {
    const p = this.pendingClose;
    if (p && p.by === 'protocol' && this.opts.errorOnProtocolError) this.queue.fail(new IngestClosedError(p.code, p.reason, p.error));
    else this.queue.complete();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    if (this.dead) return;
    if (!isBinary) {
      this.shut(1003, 'text messages are not accepted; send binary wire messages', 'protocol');
      return;
    }
    const bytes = toBytes(data);
    this.messages++;
    this.bytes += bytes.length;
    let decoded: { geometry: Geometry; batch: EventBatch };
    try {
      decoded = this.opts.decoder.decode(bytes);
    } catch (err) {
      const code = this.opts.closeCodeFor ? this.opts.closeCodeFor(err) : defaultCloseCode(err);
      this.shut(code, err instanceof Error ? err.message : String(err), 'protocol', err);
      return;
    }
    if (this.geom === undefined) {
      this.geom = decoded.geometry;
      this.resolveGeometry(this.geom);
    }
    const n = decoded.batch.length;
    if (n === 0) return;
    const verdict = this.opts.admit ? this.opts.admit(n) : 'accept';
    if (verdict === 'drop') {
      this.opts.onDrop?.('rate_limit', n);
      return;
    }
    if (verdict === 'close') {
      this.opts.onDrop?.('rate_limit', n);
      this.shut(1008, 'event rate limit exceeded', 'protocol');
      return;
    }
    this.opts.onEvents?.(n, bytes.length);
    this.queue.push(decoded.batch);
    const err = this.queue.error;
    if (err instanceof QueueOverflowError) this.shut(1008, err.message, 'protocol', err);
  }

  private onClose(code: number, reason: string): void {
    if (!this.dead) {
      this.dead = true;
      this.pendingClose = this.pendingClose ?? { code, reason, by: 'remote' };
      this.endQueue();
    }
    this.resolveGeometry(this.geom);
    const p = this.pendingClose!;
    this.info = { code: p.code, reason: p.reason, by: p.by, error: p.error };
    this.opts.onClose?.(this.info);
  }
}

/** The close code ws sends for its own protocol errors (it keeps it under a private symbol). */
function wsErrorCloseCode(err: Error): number {
  const code = (err as { code?: unknown }).code;
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH') return 1009;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  if (typeof code === 'string' && code.startsWith('WS_ERR_')) return 1002;
  return 1006;
}

function defaultCloseCode(err: unknown): number {
  const c = (err as { closeCode?: unknown } | null)?.closeCode;
  return typeof c === 'number' ? c : 1007;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return data;
}

/** The connection's events as an Observable (see `WebSocketIngest` for the semantics). */
export function fromWebSocket(ws: WebSocket, opts: WebSocketSourceOptions): Observable<EventBatch> {
  return new WebSocketIngest(ws, opts).events;
}
