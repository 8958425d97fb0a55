/**
 * Sensor side of `ws://…/ingest/<streamId>`: sends batches as wire messages (src/formats/wire).
 *
 * Backpressure: bytes handed to the socket and not yet written out (the `send` callbacks that
 * have not fired) are counted; above `maxBufferedBytes` the client stops pulling from its input
 * until they drain. With an `AsyncIterable` input this bounds memory end to end; an `Observable`
 * cannot be paused, so its values wait in an (unbounded) local list meanwhile — prefer an
 * iterable for large recordings.
 *
 * Resolves when every batch was sent and the connection closed normally (1000). Otherwise it
 * rejects with a `SensorClientError` whose message is one line naming the URL and the cause:
 * - `kind: 'connect'`: no connection (ECONNREFUSED, unknown host, timeout);
 * - `kind: 'refused'`: the upgrade was answered with an HTTP status (`httpStatus`: 401 token,
 *   404 path, 409 stream id already connected, 422 sensor size the model cannot take, 503 busy),
 *   with the server's one-line explanation;
 * - `kind: 'closed'`: the server closed the stream (`closeCode`: 1001 shutdown, 1007/1008/1009
 *   protocol, 1011 pipeline error, 4422 sensor size refused), or closed it with 1000 before
 *   everything was sent;
 * - `kind: 'aborted'`: the caller's signal.
 * `result` holds what was sent so far.
 */
import * as http from 'http';
import { toPulledIterator } from '../../streams/core/pull-iterator';
import { Observable } from 'rxjs';
import WebSocket from 'ws';
import { type EventBatch, sliceByIndex } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { Aedat31Writer } from 'aedat-parser-ts';
import { encodeEventMessage, encodeAedat31Message } from '../formats/wire';
import { CLOSE_NORMAL, describeCloseCode } from '../server/close-codes';
import { DEFAULT_MAX_BUFFERED_BYTES } from '../defaults';

export interface SensorClientOptions {
  token?: string;
  /** Events per wire message (default 65 536). Larger batches are split. */
  maxEventsPerMessage?: number;
  /** Pause pulling input while this many sent bytes are not yet written out (default 1 MiB). */
  maxBufferedBytes?: number;
  /** 'events' (kind 1, default) or 'aedat3' (kind 2: raw AEDAT 3.1 polarity packets). */
  encoding?: 'events' | 'aedat3';
  /** Time-delta encoding for 'events' (default 'varint'). */
  deltas?: 'varint' | 'u32';
  /** Abort sending: the socket is closed with 1000 and the promise rejects. */
  signal?: AbortSignal;
  /** Connection timeout (default 10 s). */
  openTimeoutMs?: number;
}

export interface SensorClientResult {
  messages: number;
  events: number;
  bytes: number;
  closeCode: number | undefined;
  closeReason: string;
  durationMs: number;
}

export type SensorFailureKind = 'connect' | 'refused' | 'closed' | 'aborted';

export interface SensorFailure {
  readonly kind: SensorFailureKind;
  readonly httpStatus?: number;
  readonly closeCode?: number;
  readonly closeReason?: string;
  readonly cause?: unknown;
}

export class SensorClientError extends Error {
  override readonly name = 'SensorClientError';
  readonly kind: SensorFailureKind;
  readonly httpStatus: number | undefined;
  readonly closeCode: number | undefined;
  readonly closeReason: string | undefined;

  constructor(
    message: string,
    readonly result: SensorClientResult,
    failure: SensorFailure,
  ) {
    super(message, { cause: failure.cause });
    this.kind = failure.kind;
    this.httpStatus = failure.httpStatus;
    this.closeCode = failure.closeCode;
    this.closeReason = failure.closeReason;
  }
}

/** Longest server explanation kept from a refused upgrade's body. */
const MAX_REFUSAL_BODY = 512;
/** How long a refused upgrade's body may take to arrive. */
const REFUSAL_BODY_TIMEOUT_MS = 2000;

/** Server-supplied text on one short line. */
function oneLine(s: string, max = MAX_REFUSAL_BODY): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, max);
}

function connectFailureMessage(url: string, err: Error | undefined): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${url}: connection refused (is the server running and listening there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${url}: host not found`;
    case 'ETIMEDOUT':
      return `cannot connect to ${url}: timed out`;
    case 'ECONNRESET':
      return `cannot connect to ${url}: the connection was reset`;
    default:
      return `cannot connect to ${url}: ${oneLine(err?.message ?? 'closed before the connection opened')}`;
  }
}

function refusedMessage(url: string, status: number, body: string): string {
  const why = body || http.STATUS_CODES[status] || 'refused';
  const hint = status === 401 ? " (pass the server's token)" : '';
  return `${url} refused the stream: HTTP ${status} ${why}${hint}`;
}

function closedMessage(url: string, code: number | undefined, reason: string, events: number): string {
  const what = code === undefined ? 'closed the stream' : `closed the stream with ${code} (${describeCloseCode(code)})`;
  return `${url} ${what}${reason ? `: ${oneLine(reason, 123)}` : ''}, after ${events} events sent`;
}

/** A push Observable as an async iterable: nothing is dropped (the socket's backpressure paces the reads). */
function observableToIterable<T>(source: Observable<T>): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => toPulledIterator(source, { maxBuffered: Infinity }) };
}

/**
 * The sensor's WebSocket: a refused upgrade keeps the server's one-line explanation, sends track
 * the bytes still in flight (what `waitBelow` waits on), and `closed` settles when it closes.
 */
class SensorSocket {
  isClosed = false;
  closeCode: number | undefined;
  closeReason = '';
  error: Error | undefined;
  refusal: { status: number; body: string } | undefined;
  readonly closed: Promise<void>;
  private inflight = 0;
  private wake: (() => void) | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly maxBuffered: number,
  ) {
    this.closed = new Promise<void>((resolve) => {
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        this.closeCode = code;
        this.closeReason = reason.toString('utf8');
        this.wake?.();
        resolve();
      });
    });
    ws.on('error', (err) => {
      this.error ??= err;
      this.wake?.();
    });
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      const done = (): void => {
        if (this.refusal) return;
        this.refusal = { status: res.statusCode ?? 0, body: oneLine(body) };
        res.destroy();
        ws.terminate();
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        if (body.length < MAX_REFUSAL_BODY) body += d;
      });
      res.once('end', done);
      res.once('error', done);
      req.once('error', () => undefined);
      setTimeout(done, REFUSAL_BODY_TIMEOUT_MS).unref();
    });
  }

  /** True once open; false when it closed before opening. */
  async opened(): Promise<boolean> {
    await new Promise<void>((resolve) => {
      if (this.ws.readyState === WebSocket.OPEN) resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('close', () => resolve());
    });
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(bytes: Uint8Array): void {
    this.inflight += bytes.length;
    this.ws.send(bytes, { binary: true }, () => {
      this.inflight -= bytes.length;
      if (this.inflight <= this.maxBuffered) this.wake?.();
    });
  }

  /** Resolves when at most `limit` bytes are unsent, or the socket closed. */
  async waitBelow(limit: number): Promise<void> {
    while (!this.isClosed && this.inflight > limit) {
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, reason);
  }
}

/** The encoder of one connection's messages: spikestream events, or AEDAT 3.1 packets. */
function messageEncoder(geometry: Geometry, perMessage: number, opts: SensorClientOptions): (part: EventBatch) => Uint8Array {
  if (opts.encoding !== 'aedat3') return (part) => encodeEventMessage(part, geometry, { deltas: opts.deltas });
  const aedat = new Aedat31Writer({ geometry, eventsPerPacket: Math.min(perMessage, 1 << 24) });
  return (part) => encodeAedat31Message(aedat.encode(part), geometry);
}

/** Sends every batch in messages of at most `perMessage` events, pausing above the socket's bound; false when it stopped early. */
async function sendAll(socket: SensorSocket, iterable: AsyncIterable<EventBatch>, perMessage: number, encode: (part: EventBatch) => Uint8Array, result: SensorClientResult, stop: () => boolean, maxBuffered: number): Promise<boolean> {
  for await (const batch of iterable) {
    for (let i = 0; i < batch.length; i += perMessage) {
      if (socket.isClosed || stop()) return false;
      const part = sliceByIndex(batch, i, Math.min(batch.length, i + perMessage));
      const msg = encode(part);
      result.messages++;
      result.bytes += msg.length;
      socket.send(msg);
      result.events += part.length;
      await socket.waitBelow(maxBuffered);
    }
  }
  return !socket.isClosed && !stop();
}

export async function streamToServer(
  url: string,
  batches: AsyncIterable<EventBatch> | Iterable<EventBatch> | Observable<EventBatch>,
  geometry: Geometry,
  opts: SensorClientOptions = {},
): Promise<SensorClientResult> {
  const perMessage = opts.maxEventsPerMessage ?? 65536;
  if (!Number.isInteger(perMessage) || perMessage < 1) throw new RangeError(`maxEventsPerMessage must be a positive integer, got ${perMessage}`);
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const wsUrl = url.replace(/^http(s?):/, 'ws$1:');
  const started = performance.now();
  const result: SensorClientResult = { messages: 0, events: 0, bytes: 0, closeCode: undefined, closeReason: '', durationMs: 0 };
  let socket: SensorSocket | undefined;
  const fail = (message: string, failure: SensorFailure): SensorClientError => {
    result.durationMs = performance.now() - started;
    if (socket) Object.assign(result, { closeCode: socket.closeCode, closeReason: socket.closeReason });
    return new SensorClientError(message, result, failure);
  };
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  try {
    socket = new SensorSocket(new WebSocket(wsUrl, { headers, perMessageDeflate: false, handshakeTimeout: opts.openTimeoutMs ?? 10000 }), maxBuffered);
  } catch (err) {
    throw fail(`cannot connect to ${wsUrl}: ${oneLine((err as Error).message)}`, { kind: 'connect', cause: err });
  }
  if (!(await socket.opened())) {
    await socket.closed;
    if (socket.refusal) throw fail(refusedMessage(wsUrl, socket.refusal.status, socket.refusal.body), { kind: 'refused', httpStatus: socket.refusal.status, cause: socket.error });
    throw fail(connectFailureMessage(wsUrl, socket.error), { kind: 'connect', cause: socket.error });
  }

  const iterable = (batches instanceof Observable ? observableToIterable(batches) : batches) as AsyncIterable<EventBatch>;
  const open = socket;
  let aborted = false;
  let closedByUs = false;
  const onAbort = (): void => {
    aborted = true;
    open.close(CLOSE_NORMAL, 'aborted');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (await sendAll(open, iterable, perMessage, messageEncoder(geometry, perMessage, opts), result, () => aborted, maxBuffered)) {
      await open.waitBelow(0);
      closedByUs = !open.isClosed;
      if (!open.isClosed) open.ws.close(CLOSE_NORMAL, 'done');
    }
  } catch (err) {
    open.close(1011, 'sensor input failed');
    await open.closed;
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  await open.closed;
  result.durationMs = performance.now() - started;
  Object.assign(result, { closeCode: open.closeCode, closeReason: open.closeReason });
  const failure = { closeCode: result.closeCode, closeReason: result.closeReason, cause: open.error };
  if (aborted) throw fail(`sending to ${wsUrl} was aborted after ${result.events} events`, { kind: 'aborted', ...failure });
  if (result.closeCode !== CLOSE_NORMAL || !closedByUs) throw fail(closedMessage(wsUrl, result.closeCode, result.closeReason, result.events), { kind: 'closed', ...failure });
  return result;
}
