/**
 * Act as a live event camera: stream a recording to a service's ws://…/ingest/<id> in real time
 * (or at a speed factor, or as fast as the server takes it).
 *
 *   node dist/examples/sensor.js <url> [file] [--id cam0] [--speed x | --asap] [--loop n] [--token T]
 *
 * `<url>` is the service's URL (`http://127.0.0.1:8080`) — the stream goes to
 * `/ingest/<id>` — or a full `ws://…/ingest/<id>` URL. `file` defaults to the bundled gesture
 * recording. `--loop n` replays it n times, shifting time so the stream stays monotone, as a
 * camera's would. Prints one line when done: events, messages, bytes, seconds, close code.
 */
import { parseArgs } from 'util';
import { ASAP, paceBatches, readEventFile, speed, streamToServer, summarizeEventFile, type EventBatch } from 'spikestream';
import { BUNDLED_RECORDING, wsBase } from './bundled';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      id: { type: 'string', default: 'cam0' },
      speed: { type: 'string', default: '1' },
      asap: { type: 'boolean' },
      loop: { type: 'string', default: '1' },
      token: { type: 'string' },
    },
  });
  const base = wsBase(positionals[0] ?? 'http://127.0.0.1:8080');
  const url = /\/ingest\/[^/]+$/.test(new URL(base).pathname) ? base : `${base}/ingest/${encodeURIComponent(values.id)}`;
  const file = positionals[1] ?? BUNDLED_RECORDING;
  const summary = await summarizeEventFile(file);
  if (!summary.geometry || summary.firstT === undefined || summary.lastT === undefined) throw new Error(`${file} has no events`);
  const period = summary.lastT - summary.firstT + 1;
  const loops = Number(values.loop);

  async function* passes(): AsyncGenerator<EventBatch> {
    for (let k = 0; k < loops; k++) {
      for await (const b of readEventFile(file)) {
        if (k === 0) yield b;
        else yield { ...b, t: b.t.map((t) => t + k * period) };
      }
    }
  }
  // paceBatches waits for each ~10 ms slice's due time (event time ÷ speed), like a camera.
  const pacing = values.asap ? ASAP : speed(Number(values.speed));
  console.error(`streaming ${file} (${summary.events} events, ${(period / 1e6).toFixed(1)} s × ${loops}) to ${url} ${values.asap ? 'as fast as possible' : `at ${values.speed}× real time`}`);
  const r = await streamToServer(url, paceBatches(passes(), pacing), summary.geometry, { token: values.token ?? process.env.SPIKESTREAM_TOKEN });
  console.log(`sent ${r.events} events in ${r.messages} messages (${r.bytes} bytes) in ${(r.durationMs / 1000).toFixed(2)} s; closed ${r.closeCode} ${r.closeReason}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
