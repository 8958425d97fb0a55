/**
 * `spikestream sensor --from URL --url ws://…/ingest/ID`: relays a live input (a UDP port, a DV
 * network stream, stdin or a FIFO) to a remote service over WebSocket, as our wire messages,
 * until the input ends or Ctrl-C. The input's notices (bad input, reconnects) go to stderr.
 */
import { streamToServer } from '../client/sensor-client';
import { InputUrlError, parseInputUrl, type InputSpec } from '../server/input-url';
import { openInput } from '../server/open-input';
import { UsageError } from './errors';
import { printJson } from './output';

function specOf(text: string): InputSpec {
  try {
    return parseInputUrl(text);
  } catch (err) {
    if (err instanceof InputUrlError) throw new UsageError(`--from ${err.message}`);
    throw err;
  }
}

export async function relayFrom(from: string, url: string, o: { token?: string; json?: boolean }): Promise<void> {
  const spec = specOf(from);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const { input, started } = openInput(spec, { onNotice: log });
  await started;
  const stop = new AbortController();
  const onSignal = (): void => {
    log('stopping: closing the input, sending what is queued');
    input.close();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const geometry = await input.geometryReady;
    if (geometry === undefined) throw new InputUrlError(`${spec.text} ended before it said its sensor size`);
    const r = await streamToServer(url, input.events, geometry, { token: o.token ?? process.env.SPIKESTREAM_TOKEN, signal: stop.signal });
    const s = input.stats;
    if (o.json) printJson({ from: spec.text, url, ...r, input: s });
    else process.stdout.write(`relayed ${r.events} events of ${spec.text} in ${r.messages} messages in ${(r.durationMs / 1000).toFixed(2)} s; dropped ${Object.values(s.dropped).reduce((a, b) => a + b, 0)}; closed ${r.closeCode ?? '-'} ${r.closeReason}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    input.close();
  }
}
