import { expect } from 'chai';
import { type SpikeServer, createServer } from '../../src/server/server';
import { openWs, rawRequest } from './helpers';

const TOKEN = 'tok';
const WS_HEADERS = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
const AUTH = `Authorization: Bearer ${TOKEN}\r\n`;

/** One request as a peer could send it, byte for byte, and the status it must get (never a dead process). */
interface Case {
  name: string;
  request: string | Buffer;
  status: number;
}

const get = (target: string, headers = ''): string => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`;
const upgrade = (target: string, headers = ''): string => get(target, WS_HEADERS + headers);

const CASES: Case[] = [
  // Request targets that no URL parser accepts, or that are not origin-form.
  { name: 'unparseable absolute URL (GET http://[/)', request: get('http://['), status: 400 },
  { name: 'unparseable absolute URL, trailing slash', request: get('http://[/'), status: 400 },
  { name: 'target that is only a bad percent escape', request: get('%zz'), status: 400 },
  { name: 'absolute-form URI is accepted (RFC 9112 §3.2.2)', request: get('http://example.com/health'), status: 200 },
  { name: 'absolute-form URI with a scheme we do not serve', request: get('ftp://example.com/health'), status: 400 },
  { name: 'asterisk-form with GET', request: get('*'), status: 400 },
  { name: 'asterisk-form with OPTIONS', request: 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', status: 405 },
  { name: 'CONNECT (authority-form)', request: 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', status: 405 },
  { name: 'protocol-relative path is a path, not a host', request: get('//health'), status: 404 },
  { name: 'query with bad percent escapes is read leniently', request: get('/health?x=%zz&%ff=1'), status: 200 },
  { name: 'NUL byte in the target', request: get('/he\u0000alth'), status: 400 },
  { name: 'DELETE', request: 'DELETE /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', status: 405 },
  { name: 'lower-case method', request: 'get /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', status: 400 },
  { name: 'no Host header in HTTP/1.1', request: 'GET /health HTTP/1.1\r\n\r\n', status: 400 },
  { name: 'HTTP/0.9 request line (no version) is answered', request: 'GET /health\r\n\r\n', status: 200 },
  { name: 'HTTP/2 preface on an HTTP/1.1 port', request: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 400 },
  { name: 'Content-Length and Transfer-Encoding together', request: get('/health', 'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n'), status: 400 },
  { name: 'control character in a header value', request: get('/health', 'X-Bad: a\u0001b\r\n'), status: 400 },
  { name: 'huge header (20 KB)', request: get('/health', `X-Big: ${'a'.repeat(20000)}\r\n`), status: 431 },
  { name: 'huge URL (64 KiB)', request: get(`/health?${'q'.repeat(65536)}`), status: 431 },
  { name: 'non-HTTP garbage (a TLS ClientHello)', request: Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), status: 400 },
  { name: 'non-HTTP garbage (text)', request: 'hello there\r\n\r\n', status: 400 },
  // Upgrades: every check answers with a status, before any resource is reserved.
  { name: 'upgrade with an unparseable URL', request: upgrade('http://[/', AUTH), status: 400 },
  { name: 'upgrade to an unknown path', request: upgrade('/nope', AUTH), status: 404 },
  { name: 'ingest: invalid UTF-8 escape in the stream id', request: upgrade('/ingest/%E0%A4%A', AUTH), status: 400 },
  { name: 'ingest: encoded slash in the stream id', request: upgrade('/ingest/a%2Fb', AUTH), status: 400 },
  { name: 'ingest: non-ASCII stream id', request: upgrade('/ingest/%C3%A9', AUTH), status: 400 },
  { name: 'ingest: width that is not a plain integer', request: upgrade('/ingest/cam?width=1e3&height=0x10', AUTH), status: 400 },
  { name: 'ingest: width without height', request: upgrade('/ingest/cam?width=128', AUTH), status: 400 },
  { name: 'ingest: bad Sec-WebSocket-Key', request: get('/ingest/cam', AUTH + 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n'), status: 400 },
  { name: 'ingest: no Sec-WebSocket-Version', request: get('/ingest/cam', AUTH + 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'), status: 400 },
  { name: 'ingest: Upgrade to something else (h2c)', request: get('/ingest/cam', AUTH + 'Upgrade: h2c\r\nConnection: Upgrade\r\n'), status: 400 },
  { name: 'ingest: POST upgrade', request: upgrade('/ingest/cam', AUTH).replace(/^GET/, 'POST'), status: 405 },
  { name: 'ingest: bad sub-protocol list', request: upgrade('/ingest/cam', AUTH + 'Sec-WebSocket-Protocol: a,,b\r\n'), status: 400 },
  { name: 'ingest: no token', request: upgrade('/ingest/cam'), status: 401 },
  { name: 'ingest: Bearer with nothing after it', request: upgrade('/ingest/cam', 'Authorization: Bearer \r\n'), status: 401 },
  { name: 'ingest: duplicate Authorization headers, the first wrong', request: upgrade('/ingest/cam', `Authorization: Bearer nope\r\n${AUTH}`), status: 401 },
  { name: 'decisions: stream=%ff', request: upgrade('/decisions?stream=%ff', AUTH), status: 400 },
  { name: 'decisions: token=%ff', request: upgrade('/decisions?token=%ff'), status: 401 },
  { name: 'decisions: trace=maybe', request: upgrade('/decisions?trace=maybe', AUTH), status: 400 },
];

describe('server: malformed requests never end the process (raw TCP)', function () {
  this.timeout(60000);
  let srv: SpikeServer;
  let port: number;
  before(async () => {
    srv = createServer({ host: '127.0.0.1', port: 0, token: TOKEN });
    srv.ingest$.subscribe((s) => s.events.subscribe());
    port = (await srv.listen()).port;
  });
  after(() => srv.close({ drainMs: 100 }));

  for (const c of CASES) {
    it(`${c.name} → ${c.status}, counted, and /health still answers`, async () => {
      const before = srv.metrics.httpRefused.get({ status: c.status });
      const r = await rawRequest(port, c.request);
      expect(r.status, `response was: ${JSON.stringify(r.text.slice(0, 200))}`).to.equal(c.status);
      if (c.status >= 400) expect(srv.metrics.httpRefused.get({ status: c.status }), 'spikestream_http_refused_total').to.equal(before + 1);
      const health = await rawRequest(port, get('/health'));
      expect(health.status).to.equal(200);
    });
  }

  it('after the whole table: no stream or subscriber is held, and a real sensor still connects', async () => {
    const h = JSON.parse((await rawRequest(port, get('/health'))).text.split('\r\n\r\n')[1]);
    expect(h.streams).to.deep.equal([]);
    expect(h.subscribers).to.equal(0);
    const ws = await openWs(`ws://127.0.0.1:${port}/ingest/cam?width=8&height=8`, { Authorization: `Bearer ${TOKEN}` });
    ws.close();
  });
});
