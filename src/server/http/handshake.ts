/**
 * The checks every WebSocket upgrade passes before an endpoint reserves anything for it: not
 * shutting down, the handshake (RFC 6455 §4.2.1), the token. A bad handshake is answered and
 * counted by us, the same way as every other refusal; `ws` repeats the checks in
 * `handleUpgrade`, and what it still finds wrong (an unparseable sub-protocol list) reaches the
 * WebSocketServer's `wsClientError` listener.
 */
import type * as http from 'http';
import type { Duplex } from 'stream';
import { UNAUTHORIZED, type TokenCheck } from './auth';
import type { Refusal } from './respond';

/** What an endpoint needs to admit or refuse an upgrade. */
export interface UpgradeGate {
  readonly authorized: TokenCheck;
  readonly closing: () => boolean;
  /** Answers on the raw socket (and counts the status). */
  readonly refuse: (socket: Duplex, r: Refusal) => void;
}

export const SHUTTING_DOWN: Refusal = { status: 503, message: 'server is shutting down', headers: { 'Retry-After': '5' } };

/** The first failed gate check, with the ingest reason it is counted under; undefined when all pass. */
export function gateRefusal(gate: UpgradeGate, req: http.IncomingMessage, query: URLSearchParams): { refusal: Refusal; reason: 'shutting_down' | 'bad_request' | 'auth' } | undefined {
  if (gate.closing()) return { refusal: SHUTTING_DOWN, reason: 'shutting_down' };
  const handshake = handshakeRefusal(req);
  if (handshake) return { refusal: handshake, reason: 'bad_request' };
  if (!gate.authorized(req, query)) return { refusal: UNAUTHORIZED, reason: 'auth' };
  return undefined;
}

const KEY_RE = /^[+/0-9A-Za-z]{22}==$/;

export function handshakeRefusal(req: http.IncomingMessage): Refusal | undefined {
  if (req.method !== 'GET') return { status: 405, message: 'WebSocket upgrades use GET', headers: { Allow: 'GET' } };
  const upgrade = req.headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.trim().toLowerCase() !== 'websocket') return { status: 400, message: 'expected Upgrade: websocket' };
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY_RE.test(key.trim())) return { status: 400, message: 'missing or invalid Sec-WebSocket-Key' };
  if (req.headers['sec-websocket-version'] !== '13') {
    return { status: 400, message: 'missing or unsupported Sec-WebSocket-Version (13 is served)', headers: { 'Sec-WebSocket-Version': '13' } };
  }
  return undefined;
}
