/**
 * An iniVation DV network stream as a live input (dv-processing's `NetworkWriter`, DV-runtime's
 * TCP output module; ../shared/reference/FORMATS.md, "Live network streams"): `dv+tcp://HOST:PORT`
 * or `dv+unix:///path`.
 *
 * We are the client, and a client never sends a byte (DV closes a connection that does). The
 * server sends a 4-byte LE size and an IOHeader flatbuffer ("IOHE": compression, the XML whose
 * `outInfo/<id>/info` gives `sizeX`/`sizeY`), then packets (int32 stream id, int32 size, a
 * size-prefixed EventPacket, compressed whole with LZ4 or ZSTD when the header says so). Those
 * bytes, with the 14-byte `#!AER-DAT4.0\r\n` line in front, are an AEDAT 4.0 file without a data
 * table, so the file decoder reads them, a fresh one per connection.
 *
 * A late join starts at the next packet (the server sends only new ones). When the server goes
 * away, or sends what is not a DV stream, the input says so in one line, counts it, and
 * reconnects with backoff (0.25 s doubling to 5 s) until closed or `maxReconnects` attempts
 * in a row gave no events; the
 * events keep flowing into the same stream, whose time never goes back. A reconnection that
 * announces another sensor size ends the stream (one stream has one size).
 */
import * as net from 'net';
import type { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { LiveInput, liveObservable, type LiveInputOptions } from './live-input';
import { Aedat4Decoder, AEDAT4_MAGIC, FormatError, type EventDecoder } from './live-decoders';

export type DvEndpoint = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export interface DvNetworkOptions extends LiveInputOptions {
  /** Reconnection attempts after a connection fails or ends (default: unbounded, until closed). */
  readonly maxReconnects?: number;
  /** First and longest wait between attempts (default 250 ms and 5 s; doubling in between). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** A DV URL that is not one: what and why, in one line. */
export class DvUrlError extends Error {
  override readonly name = 'DvUrlError';
}

const MAGIC = Uint8Array.from(AEDAT4_MAGIC, (c) => c.charCodeAt(0));

/** `dv+tcp://HOST:PORT` or `dv+unix:///absolute/path` → where to connect. */
export function parseDvUrl(url: string): DvEndpoint {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DvUrlError(`not a DV network URL: '${url}' (dv+tcp://HOST:PORT or dv+unix:///path)`);
  }
  if (u.protocol === 'dv+tcp:') {
    const port = Number(u.port);
    if (u.hostname === '' || u.port === '' || !Number.isInteger(port) || port < 1) throw new DvUrlError(`${url}: a DV TCP URL needs a host and a port (dv+tcp://127.0.0.1:7777)`);
    return { kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port };
  }
  if (u.protocol === 'dv+unix:') {
    const path = decodeURIComponent(u.pathname);
    if (u.host !== '' || !path.startsWith('/') || path === '/') throw new DvUrlError(`${url}: a DV UNIX socket URL is dv+unix:///absolute/path (three slashes)`);
    return { kind: 'unix', path };
  }
  throw new DvUrlError(`${url}: not a DV network URL (dv+tcp://HOST:PORT or dv+unix:///path)`);
}

export function dvEndpointName(e: DvEndpoint): string {
  return e.kind === 'tcp' ? `dv+tcp://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}` : `dv+unix://${e.path}`;
}

/** An open DV network input: connects at once and keeps connecting until closed. */
export class DvNetworkInput {
  readonly input: LiveInput;
  /** Connections made so far (the first included). */
  connections = 0;
  private socket: net.Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;

  constructor(
    readonly endpoint: DvEndpoint,
    private readonly o: DvNetworkOptions = {},
  ) {
    this.input = new LiveInput(dvEndpointName(endpoint), o, () => this.stop());
    this.connect();
  }

  close(): void {
    this.input.close();
  }

  private stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private connect(): void {
    if (this.stopped) return;
    const e = this.endpoint;
    const socket = e.kind === 'tcp' ? net.connect({ host: e.host, port: e.port }) : net.connect({ path: e.path });
    this.socket = socket;
    let decoder: EventDecoder | undefined;
    let failure: string | undefined;
    socket.on('connect', () => {
      this.connections++;
      if (this.connections > 1) this.input.stats.reconnects++;
      if (this.connections > 1 || this.attempt > 0) this.input.notice(`connected (connection ${this.connections})`);
      decoder = new Aedat4Decoder();
      decoder.push(MAGIC);
    });
    socket.on('data', (chunk: Buffer) => {
      if (decoder === undefined || failure !== undefined) return;
      this.input.received(chunk.length);
      try {
        this.take(decoder, decoder.push(chunk), chunk.length);
      } catch (err) {
        failure = `not a DV stream: ${err instanceof FormatError ? err.reason : err instanceof Error ? err.message : String(err)}`;
        this.input.badMessage();
        socket.destroy();
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? 'no DV server there' : err.message;
    });
    socket.on('close', () => {
      if (this.stopped || this.input.closed) return;
      this.retry(failure ?? `the DV server closed the connection${decoder ? this.flush(decoder) : ''}`);
    });
  }

  /** Hands a connection's decoded events to the stream, once its sensor size is known and the same as before. */
  private take(decoder: EventDecoder, batch: EventBatch, bytes: number): void {
    const g = decoder.geometry;
    if (g === undefined) {
      if (batch.length > 0) throw new Error('the IOHeader\'s XML gives no sensor size (outInfo/<id>/info sizeX, sizeY)');
      return;
    }
    const known = this.input.geometry;
    if (known === undefined) this.input.setGeometry(g);
    else if (known.width !== g.width || known.height !== g.height) {
      this.input.notice(`the server now announces a ${g.width}×${g.height} sensor, not ${known.width}×${known.height}: the stream ends`);
      this.input.close();
      return;
    }
    // A connection that delivers events is a good one: the next outage starts its backoff afresh.
    if (batch.length > 0) this.attempt = 0;
    this.input.push(batch, bytes);
  }

  /** The connection's last events; a packet cut short by the close is lost (said, not counted: its size is unknown). */
  private flush(decoder: EventDecoder): string {
    try {
      this.take(decoder, decoder.end(), 0);
      return '';
    } catch {
      return ' in the middle of a packet (its events are lost)';
    }
  }

  private retry(why: string): void {
    const max = this.o.maxReconnects ?? Infinity;
    if (this.attempt >= max) {
      this.input.notice(`${why}; no reconnection left (${max}): the stream ends`);
      this.input.end();
      return;
    }
    const first = this.o.backoffMs ?? 250;
    const delay = Math.min(this.o.maxBackoffMs ?? 5000, first * 2 ** this.attempt);
    this.attempt++;
    // Every attempt of an outage is said up to the third, then one in twelve (a minute apart at the longest backoff).
    if (this.attempt <= 3 || this.attempt % 12 === 0) this.input.notice(`${why}; reconnecting in ${(delay / 1000).toFixed(2)} s (attempt ${this.attempt})`);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}

/** A DV network stream's events as an Observable: subscribing connects, unsubscribing disconnects. */
export function fromDvNetwork(url: string, o: DvNetworkOptions = {}): Observable<EventBatch> {
  const endpoint = parseDvUrl(url);
  return liveObservable(() => new DvNetworkInput(endpoint, o).input);
}
