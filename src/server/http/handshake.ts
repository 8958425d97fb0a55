/**
 * The WebSocket handshake checks (RFC 6455 §4.2.1) done before any endpoint reserves anything
 * for a connection, so that a bad handshake is answered and counted by us, the same way as
 * every other refusal. `ws` repeats them in `handleUpgrade`; what it still finds wrong (an
 * unparseable sub-protocol list) reaches the WebSocketServer's `wsClientError` listener.
 */
import type * as http from 'http';
import type { Refusal } from './respond';

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
