import type { Command } from 'commander';
import { streamToServer } from '../server/sensor-client';
import { eventFileGeometry, readEventFile, summarizeEventFile } from '../formats/read-file';
import { paceBatches } from '../../streams/sources/from-event-file';
import { ASAP, REALTIME, speed } from '../../streams/sources/pacing';
import { parseNumberOption, printJson, UsageError } from './output';

interface SensorOptions {
  url: string;
  token?: string;
  speed?: number;
  asap?: boolean;
  loop?: number;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('sensor')
    .description('act as a live camera: replay a recording to a server in real time over WebSocket')
    .argument('<file>', 'event file to replay')
    .requiredOption('--url <url>', 'ingest URL, e.g. ws://127.0.0.1:8080/ingest/cam0')
    .option('--token <token>', 'bearer token (env SPIKESTREAM_TOKEN)')
    .option('--speed <x>', 'x times real time (default 1)', parseNumberOption('--speed'))
    .option('--asap', 'as fast as the server takes it')
    .option('--loop <n>', 'replay the file n times (time keeps increasing)', parseNumberOption('--loop', 1), 1)
    .option('--json', 'print one JSON object when done')
    .action(async (file: string, o: SensorOptions) => {
      if (o.asap && o.speed !== undefined) throw new UsageError('give --speed or --asap, not both');
      if (!/^(wss?|https?):\/\//.test(o.url)) throw new UsageError(`--url must be a ws:// URL, got '${o.url}'`);
      const loops = o.loop ?? 1;
      // One pass over the file only when looping needs its time span; the header gives the geometry.
      const summary = loops > 1 ? await summarizeEventFile(file) : undefined;
      const geometry = summary ? summary.geometry : await eventFileGeometry(file);
      if (!geometry) throw new UsageError(`${file} has no events`);
      const period = summary && summary.firstT !== undefined && summary.lastT !== undefined ? summary.lastT - summary.firstT + 1 : 0;
      const pacing = o.asap ? ASAP : o.speed !== undefined ? speed(o.speed) : REALTIME;
      // Each pass is shifted in time so that the stream stays monotone, as a camera's would.
      async function* passes() {
        for (let k = 0; k < loops; k++) {
          for await (const b of readEventFile(file)) {
            if (k === 0) yield b;
            else {
              const t = new Float64Array(b.length);
              for (let i = 0; i < b.length; i++) t[i] = b.t[i] + k * period;
              yield { ...b, t };
            }
          }
        }
      }
      const r = await streamToServer(o.url, paceBatches(passes(), pacing), geometry, { token: o.token ?? process.env.SPIKESTREAM_TOKEN });
      if (o.json) printJson({ file, url: o.url, ...r });
      else process.stdout.write(`sent ${r.events} events in ${r.messages} messages (${r.bytes} B) in ${(r.durationMs / 1000).toFixed(2)} s; closed ${r.closeCode ?? '-'} ${r.closeReason}\n`);
    });
}
