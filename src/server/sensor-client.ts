/**
 * Sensor side of `ws://…/ingest/<streamId>`: sends batches as wire messages (src/server/wire.ts).
 *
 * Backpressure: bytes handed to the socket and not yet written out (the `send` callbacks that
 * have not fired) are counted; above `maxBufferedBytes` the client stops pulling from its input
 * until they drain. With an `AsyncIterable` input this bounds memory end to end; an `Observable`
 * cannot be paused, so its values wait in an (unbounded) local list meanwhile — prefer an
 * iterable for large recordings.
 *
 * Resolves when every batch was sent and the connection closed normally (1000). Rejects with
 * `SensorClientError` if the upgrade is refused (`httpStatus` 401/409/503…) or the server closes
 * the connection first (`closeCode` 1007/1008/1009/1001…); `result` holds what was sent so far.
 */
import { toPulledIterator } from '../../streams/sources/pull';
import { Observable } from 'rxjs';
import WebSocket from 'ws';
import { type EventBatch, sliceByIndex } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { Aedat31Writer } from '../formats/aedat3-writer';
import { encodeEventMessage, encodeAedat31Message } from './wire';

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

export class SensorClientError extends Error {
  override readonly name = 'SensorClientError';
  constructor(
    message: string,
    readonly result: SensorClientResult,
    readonly httpStatus?: number,
    readonly closeCode?: number,
    readonly closeReason?: string,
  ) {
    super(message);
  }
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
  const finish = (): SensorClientResult => {
    result.durationMs = performance.now() - started;
    return result;
  };
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const ws = new WebSocket(wsUrl, { headers, perMessageDeflate: false, handshakeTimeout: opts.openTimeoutMs ?? 10000 });

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
  let connectError: Error | undefined;
  ws.on('error', (err) => {
    connectError = connectError ?? err;
    wakeDrain?.();
  });

  await new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.OPEN) resolve();
    ws.once('open', () => resolve());
    ws.once('close', () => resolve());
  });
  if (ws.readyState !== WebSocket.OPEN) {
    await closedPromise;
    const m = connectError ? /Unexpected server response: (\d+)/.exec(connectError.message) : null;
    const status = m ? Number(m[1]) : undefined;
    throw new SensorClientError(`cannot connect to ${wsUrl}: ${connectError?.message ?? 'closed'}`, finish(), status, result.closeCode, result.closeReason);
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
  const onAbort = (): void => {
    aborted = true;
    if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'aborted');
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
      if (!closed) ws.close(1000, 'done');
    }
  } catch (err) {
    if (ws.readyState === WebSocket.OPEN) ws.close(1011, 'sensor input failed');
    await closedPromise;
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  await closedPromise;
  finish();
  if (aborted) throw new SensorClientError('aborted', result, undefined, result.closeCode, result.closeReason);
  if (result.closeCode !== 1000) {
    throw new SensorClientError(
      `server closed the connection with ${result.closeCode}${result.closeReason ? `: ${result.closeReason}` : ''}`,
      result,
      undefined,
      result.closeCode,
      result.closeReason,
    );
  }
  return result;
}
