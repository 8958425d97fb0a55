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
import { Aedat31Writer } from '../formats/aedat3';
import { encodeEventMessage, encodeAedat31Message } from '../formats/wire';
import { CLOSE_NORMAL, describeCloseCode } from '../server/close-codes';

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

export async function streamToServer(
  url: string,
  batches: AsyncIterable<EventBatch> | Iterable<EventBatch> | Observable<EventBatch>,
  geometry: Geometry,
  opts: SensorClientOptions = {},
): Promise<SensorClientResult> {
  const perMessage = opts.maxEventsPerMessage ?? 65536;
  if (!Number.isInteger(perMessage) || perMessage < 1) throw new RangeError(`maxEventsPerMessage must be a positive integer, got ${perMessage}`);
  const maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
  const wsUrl = url.replace(/^http(s?):/, 'ws$1:');
  const started = performance.now();
  const result: SensorClientResult = { messages: 0, events: 0, bytes: 0, closeCode: undefined, closeReason: '', durationMs: 0 };
  const fail = (message: string, failure: SensorFailure): SensorClientError => {
    result.durationMs = performance.now() - started;
    return new SensorClientError(message, result, failure);
  };
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let ws: WebSocket;
  try {
    ws = new WebSocket(wsUrl, { headers, perMessageDeflate: false, handshakeTimeout: opts.openTimeoutMs ?? 10000 });
  } catch (err) {
    throw fail(`cannot connect to ${wsUrl}: ${oneLine((err as Error).message)}`, { kind: 'connect', cause: err });
  }

  let closed = false;
  let wakeDrain: (() => void) | undefined;
  const closedPromise = new Promise<void>((resolve) => {
    ws.on('close', (code, reason) => {
      closed = true;
      result.closeCode = code;
      result.closeReason = reason.toString('utf8');
      wakeDrain?.();
      resolve();
    });
  });
  let socketError: Error | undefined;
  ws.on('error', (err) => {
    socketError ??= err;
    wakeDrain?.();
  });
  // A refused upgrade: keep the server's one-line explanation, then drop the connection.
  let refusal: { status: number; body: string } | undefined;
  ws.on('unexpected-response', (req, res) => {
    let body = '';
    const done = (): void => {
      if (refusal) return;
      refusal = { status: res.statusCode ?? 0, body: oneLine(body) };
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

  await new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.OPEN) resolve();
    ws.once('open', () => resolve());
    ws.once('close', () => resolve());
  });
  if (ws.readyState !== WebSocket.OPEN) {
    await closedPromise;
    if (refusal) throw fail(refusedMessage(wsUrl, refusal.status, refusal.body), { kind: 'refused', httpStatus: refusal.status, cause: socketError });
    throw fail(connectFailureMessage(wsUrl, socketError), { kind: 'connect', cause: socketError });
  }

  let inflight = 0;
  const sendMessage = (bytes: Uint8Array): void => {
    inflight += bytes.length;
    result.messages++;
    result.bytes += bytes.length;
    ws.send(bytes, { binary: true }, () => {
      inflight -= bytes.length;
      if (inflight <= maxBuffered) wakeDrain?.();
    });
  };
  const waitBelow = async (limit: number): Promise<void> => {
    while (!closed && inflight > limit) {
      await new Promise<void>((r) => (wakeDrain = r));
      wakeDrain = undefined;
    }
  };

  const aedat = opts.encoding === 'aedat3' ? new Aedat31Writer({ geometry, eventsPerPacket: Math.min(perMessage, 1 << 24) }) : undefined;
  const iterable: AsyncIterable<EventBatch> | Iterable<EventBatch> = batches instanceof Observable ? observableToIterable(batches) : batches;
  let aborted = false;
  let closedByUs = false;
  const onAbort = (): void => {
    aborted = true;
    if (ws.readyState === WebSocket.OPEN) ws.close(CLOSE_NORMAL, 'aborted');
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    outer: for await (const batch of iterable as AsyncIterable<EventBatch>) {
      for (let i = 0; i < batch.length; i += perMessage) {
        if (closed || aborted) break outer;
        const part = sliceByIndex(batch, i, Math.min(batch.length, i + perMessage));
        const msg = aedat ? encodeAedat31Message(aedat.encode(part), geometry) : encodeEventMessage(part, geometry, { deltas: opts.deltas });
        sendMessage(msg);
        result.events += part.length;
        await waitBelow(maxBuffered);
      }
    }
    if (!closed && !aborted) {
      await waitBelow(0);
      closedByUs = !closed;
      if (!closed) ws.close(CLOSE_NORMAL, 'done');
    }
  } catch (err) {
    if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'sensor input failed');
    await closedPromise;
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  await closedPromise;
  result.durationMs = performance.now() - started;
  const failure = { closeCode: result.closeCode, closeReason: result.closeReason, cause: socketError };
  if (aborted) throw fail(`sending to ${wsUrl} was aborted after ${result.events} events`, { kind: 'aborted', ...failure });
  if (result.closeCode !== CLOSE_NORMAL || !closedByUs) throw fail(closedMessage(wsUrl, result.closeCode, result.closeReason, result.events), { kind: 'closed', ...failure });
  return result;
}
