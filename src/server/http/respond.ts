/**
 * Answering a request we refuse: on a plain HTTP response, or on the raw socket of an upgrade
 * (where Node's response machinery is no longer attached), or on a socket whose bytes Node
 * could not parse at all. None of these throws; a socket that cannot be written is destroyed.
 */
import * as http from 'http';
import type { Duplex } from 'stream';

/** An HTTP error answer: status, one-line message (the body), extra headers. */
export interface Refusal {
  readonly status: number;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** How long a refused socket may take to read our answer before it is destroyed. */
const REFUSED_SOCKET_GRACE_MS = 1000;

/** Writes a complete `Connection: close` response on a raw socket and ends it. */
export function refuseOnSocket(socket: Duplex, r: Refusal): void {
  const body = oneLine(r.message) + '\n';
  const extra = Object.entries(r.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  try {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`,
    );
  } catch {
    socket.destroy();
    return;
  }
  setTimeout(() => socket.destroy(), REFUSED_SOCKET_GRACE_MS).unref();
}

/** Sends a text or JSON body on a plain response (no body for HEAD). */
export function sendBody(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, body: string, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function refuseResponse(req: http.IncomingMessage, res: http.ServerResponse, r: Refusal): void {
  sendBody(req, res, r.status, 'text/plain; charset=utf-8', oneLine(r.message) + '\n', r.headers);
}

/** The status for bytes Node's HTTP parser rejected (its `clientError` event). */
export function clientErrorStatus(err: NodeJS.ErrnoException): number {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

/**
 * Answers a `clientError`: unless the peer is gone or a response is already under way, one
 * status line with no body. Returns the status sent, or undefined when nothing could be sent.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): number | undefined {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return undefined;
  }
  const status = clientErrorStatus(err);
  refuseOnSocket(socket, { status, message: http.STATUS_CODES[status] ?? 'bad request' });
  return status;
}

/** Peer-supplied text inside a message stays on one line and short. */
function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 500);
}
