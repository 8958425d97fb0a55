import { WebSocket } from 'ws';
import * as net from 'net';
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import type { Service } from '../../src/server/service';

/**
 * True once `svc` has classified everything its sensors sent: its live segmenters accounted for
 * all `eventsSent` events (in a sample, skipped, or outside every sample), every sample they cut
 * is decided (or empty), and `published` (decisions seen, e.g. by a subscriber) counts every
 * decision. A stream's last sample is decided after its sensor closes, which nothing else announces.
 */
export function everyEventDecided(svc: Service, eventsSent: number, published: number): boolean {
  const [st, seg] = [svc.stats, svc.segments];
  return seg.routed + seg.skipped + seg.unrouted === eventsSent && st.samples === st.decisions + st.emptySamples && published === st.decisions;
}

/** Deterministic batch: small gaps (0…maxGap µs) from t0, coordinates inside `g`. */
export function makeBatch(n: number, g: Geometry, seed = 1, t0 = 1000, maxGap = 20): EventBatch {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
  const x = new Uint16Array(n);
  const y = new Uint16Array(n);
  const p = new Uint8Array(n);
  const t = new Float64Array(n);
  let cur = t0;
  for (let i = 0; i < n; i++) {
    x[i] = Math.floor(rnd() * g.width);
    y[i] = Math.floor(rnd() * g.height);
    p[i] = rnd() < 0.5 ? 1 : 0;
    if (i > 0) cur += Math.floor(rnd() * (maxGap + 1));
    t[i] = cur;
  }
  return { x, y, p, t, length: n };
}

export function sameBatch(a: EventBatch, b: EventBatch): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a.x[i] !== b.x[i] || a.y[i] !== b.y[i] || a.p[i] !== b.p[i] || a.t[i] !== b.t[i]) return false;
  }
  return true;
}

export { sleep } from '../helpers/time';

export { waitFor } from '../helpers/time';

/** Opens a client socket; resolves once open, or rejects with the error (e.g. 'Unexpected server response: 401'). */
export function openWs(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Resolves with the close code and reason. */
export function closed(ws: WebSocket, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve({ code: -1, reason: 'already closed' });
    const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
  });
}

/** Expects the upgrade to be refused; resolves with the HTTP status. */
export function refusedStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      req.destroy();
    });
    ws.on('error', () => undefined);
    ws.once('open', () => {
      ws.terminate();
      reject(new Error(`expected ${url} to be refused, but it opened`));
    });
  });
}

/** What a raw TCP exchange got back: the HTTP status of the first response line (0 if none) and the text. */
export interface RawResponse {
  status: number;
  text: string;
}

/**
 * Whether `text` (latin1) holds a whole first response: its headers, then the body its
 * Content-Length or final chunk says (none after HEAD, 1xx, 204 or 304). A body that runs until
 * the connection closes is never whole here: the close says so.
 */
export function responseComplete(text: string, head: boolean): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const headers = text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headers)?.[1] ?? 0);
  if (head || (status >= 100 && status < 200) || status === 204 || status === 304) return true;
  const body = text.slice(end + 4);
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(headers)) return body.endsWith('0\r\n\r\n');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(headers);
  return length !== null && body.length >= Number(length[1]);
}

/**
 * Writes `request` as is to 127.0.0.1:`port` over a plain TCP socket (no HTTP client to tidy it
 * up) and collects what comes back until the first response is whole (`responseComplete`), the
 * server closes the connection, or `timeoutMs` passes.
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 2000): Promise<RawResponse> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const timer = setTimeout(finish, timeoutMs);
    const head = /^HEAD /.test(typeof request === 'string' ? request : request.toString('latin1'));
    socket.on('data', (d) => {
      chunks.push(d);
      if (responseComplete(Buffer.concat(chunks).toString('latin1'), head)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(request);
  });
}
