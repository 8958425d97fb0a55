/**
 * Subscribe to a running service's decisions (ws://…/decisions) and print them.
 *
 *   node dist/examples/subscribe.js <url> [--stream id] [--trace] [--token T] [--json] [--exit-after N]
 *
 * `<url>` is the service's URL (`http://127.0.0.1:8080`, as run-server.js prints it) or a full
 * `ws://…/decisions` URL. `--stream id` receives one sensor's decisions only; `--trace` also
 * per-step traces (the server must run with traces on). `--json` prints each message as it
 * came (one JSON object a line). Exits after N decisions with `--exit-after N`, or when the
 * server closes the connection.
 */
import { parseArgs } from 'util';
import WebSocket from 'ws';
import { wsBase } from './bundled';

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stream: { type: 'string' },
      trace: { type: 'boolean' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      'exit-after': { type: 'string' },
    },
  });
  const base = wsBase(positionals[0] ?? 'http://127.0.0.1:8080');
  const url = new URL(/\/decisions$/.test(new URL(base).pathname) ? base : `${base}/decisions`);
  if (values.stream !== undefined) url.searchParams.set('stream', values.stream);
  if (values.trace) url.searchParams.set('trace', '1');
  const token = values.token ?? process.env.SPIKESTREAM_TOKEN;
  const exitAfter = values['exit-after'] !== undefined ? Number(values['exit-after']) : Infinity;

  const ws = new WebSocket(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  let decisions = 0;
  ws.on('open', () => console.error(`subscribed to ${url.href}`));
  ws.on('message', (data) => {
    if (decisions >= exitAfter) return; // closing: ignore what is still in flight
    const text = data.toString();
    const msg = JSON.parse(text) as { type: string; streamId: string; sampleId: string; className?: string; confidence: number; steps?: number; maxSteps?: number; early?: boolean; step?: number };
    if (values.json) console.log(text);
    else if (msg.type === 'decision') {
      console.log(`${msg.streamId.padEnd(10)} ${msg.sampleId.padEnd(14)} ${String(msg.className).padEnd(28)} conf ${msg.confidence.toFixed(3)}  step ${msg.steps}/${msg.maxSteps}${msg.early ? ' early' : ''}`);
    } else console.log(`  trace ${msg.sampleId} step ${msg.step} conf ${msg.confidence.toFixed(3)}`);
    if (msg.type === 'decision' && ++decisions >= exitAfter) ws.close(1000, 'done');
  });
  ws.on('unexpected-response', (_req, res) => {
    console.error(`refused: HTTP ${res.statusCode}`);
    process.exit(2);
  });
  ws.on('error', (err) => {
    console.error(err.message);
    process.exitCode = 1;
  });
  ws.on('close', (code, reason) => {
    console.error(`closed ${code} ${reason.toString()} after ${decisions} decisions`);
  });
}

main();
