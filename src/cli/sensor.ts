import type { Command } from 'commander';
import { streamToServer } from '../client/sensor-client';
import { eventFileGeometry, readEventFile, summarizeEventFile } from 'aedat-parser-ts/node';
import { paceBatches } from '../../streams/sources/from-event-file';
import { ASAP, REALTIME, speed } from '../../streams/sources/pacing';
import { parseNumberOption, printJson, UsageError } from './output';
import { addFitOptions, type FitCliOptions } from './fit-options';
import { relayFrom } from './sensor-from';

interface SensorOptions extends FitCliOptions {
  url: string;
  from?: string;
  token?: string;
  speed?: number;
  asap?: boolean;
  loop?: number;
  json?: boolean;
}

/** `--url` must be an absolute ws(s):// (or http(s)://) URL; what it points at is the server's to judge. */
function checkIngestUrl(url: string): void {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['ws:', 'wss:', 'http:', 'https:'].includes(parsed.protocol)) {
    throw new UsageError(`--url must be a ws:// URL such as ws://127.0.0.1:8080/ingest/cam0, got '${url}'`);
  }
}

/** The ingest URL with the fit the server is to apply (it knows the model): it travels as the stream's URL parameters. */
function withFit(o: SensorOptions): string {
  const url = new URL(o.url);
  if (o.fit) url.searchParams.set('fit', o.fit);
  if (o.roi) url.searchParams.set('roi', `${o.roi.x},${o.roi.y},${o.roi.width},${o.roi.height}`);
  return url.toString();
}

export function register(program: Command): void {
  const cmd = program
    .command('sensor')
    .description('act as a live camera: replay a recording to a server in real time over WebSocket')
    .argument('[file]', 'event file to replay (or --from a live input)')
    .option('--from <url>', 'relay a live input instead of a file, until it ends or Ctrl-C: udp://HOST:PORT?format=F&width=W&height=H, dv+tcp://HOST:PORT, dv+unix:///path, - (stdin) or a FIFO path')
    .requiredOption('--url <url>', 'ingest URL, e.g. ws://127.0.0.1:8080/ingest/cam0')
    .option('--token <token>', 'bearer token (env SPIKESTREAM_TOKEN)')
    .option('--speed <x>', 'x times real time (default 1)', parseNumberOption('--speed'))
    .option('--asap', 'as fast as the server takes it')
    .option('--loop <n>', 'replay the file n times (time keeps increasing)', parseNumberOption('--loop', 1), 1)
    .option('--json', 'print one JSON object when done')
    .addHelpText(
      'after',
      '\nExit codes: 0 the whole file was sent and the server closed normally (1000); 1 the server could not be reached, ' +
        'refused the stream (HTTP 401 token, 404 path, 409 stream id in use, 422 sensor size, 503 busy) or closed it early ' +
        '(1001 shutdown, 1007/1008/1009 protocol, 1011 pipeline error, 4422 sensor size); 2 usage. A failure is one line on stderr.',
    )
;
  addFitOptions(cmd, ' (the server applies it to this stream)').action(async (file: string | undefined, o: SensorOptions) => {
      if (o.asap && o.speed !== undefined) throw new UsageError('give --speed or --asap, not both');
      checkIngestUrl(o.url);
      if (o.from !== undefined) {
        if (file !== undefined) throw new UsageError('give a file to replay or --from URL to relay a live input, not both');
        if (o.asap || o.speed !== undefined || (o.loop ?? 1) !== 1) throw new UsageError('--speed, --asap and --loop are for files: a live input comes at its own pace');
        return relayFrom(o.from, withFit(o), o);
      }
      if (file === undefined) throw new UsageError('give a file to replay or --from URL to relay a live input');
      const recording: string = file; // narrowed for the generator below
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
          for await (const b of readEventFile(recording)) {
            if (k === 0) yield b;
            else {
              const t = new Float64Array(b.length);
              for (let i = 0; i < b.length; i++) t[i] = b.t[i] + k * period;
              yield { ...b, t };
            }
          }
        }
      }
      const url = withFit(o);
      const r = await streamToServer(url, paceBatches(passes(), pacing), geometry, { token: o.token ?? process.env.SPIKESTREAM_TOKEN });
      if (o.json) printJson({ file, url: o.url, ...r });
      else process.stdout.write(`sent ${r.events} events in ${r.messages} messages (${r.bytes} B) in ${(r.durationMs / 1000).toFixed(2)} s; closed ${r.closeCode ?? '-'} ${r.closeReason}\n`);
    });
}
