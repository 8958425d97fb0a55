import type { Command } from 'commander';
import { forLiveStreams } from '../snn/model/classifier-model';
import { startService, type Service } from '../server/service';
import { isLoopbackHost } from '../server/server';
import { formatDecision } from './decisions';
import { addModelOptions, describeModel, loadModelFromCli, type ModelCliOptions } from './model-options';
import { UsageError } from './errors';
import { addFitOptions, type FitCliOptions } from './fit-options';
import { parseIntOption, parseNumberOption, parsePort } from './options';
import { printJson } from './output';
import { serveGateway, type GatewayCliOptions } from './serve-nats';
import { addViewerOptions, viewerFromCli, viewerUrl, type ViewerCliOptions } from './viewer-options';
import { addOnDecidedOption, addThreadOptions, cliRunnerKind, cliThreads, describeThreads, type OnDecidedCliOptions, type ThreadCliOptions } from './thread-options';
import { DEFAULT_SLOTS } from '../defaults';
import { addInputOption, inputSpecsFromCli, type InputCliOptions } from './input-options';

interface ServeOptions extends ModelCliOptions, FitCliOptions, ViewerCliOptions, ThreadCliOptions, OnDecidedCliOptions, InputCliOptions, Partial<Pick<GatewayCliOptions, 'nats' | 'retentionAge' | 'retentionBytes' | 'batchMs'>> {
  host: string;
  port: number;
  token?: string;
  slots: number;
  traces?: boolean;
  maxStreams: number;
  rateLimit?: number;
  idleFlushMs: number;
  sampleWallLimit?: number;
  minEvents?: number;
  quiet?: boolean;
  json?: boolean;
}

/** Stops the service on SIGINT/SIGTERM: ingest closes, queued events finish, pending decisions go out. */
export function stopOnSignals(service: Service, log: (line: string) => void, onSignal?: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      onSignal?.();
      log(`${signal}: stopping (finishing queued events, delivering pending decisions)`);
      service.stop(3000).then(resolve, resolve);
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('HTTP + WebSocket service: sensors stream events to /ingest/<id>, subscribers get decisions from /decisions')
    .option('--host <host>', 'address to listen on (a token is required beyond loopback)', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', parsePort, 8080)
    .option('--token <token>', 'bearer token for /ingest and /decisions (env SPIKESTREAM_TOKEN)')
    .option('--slots <n>', 'SNN slots shared by all streams', parseIntOption('--slots', 1), DEFAULT_SLOTS)
    .option('--max-streams <n>', 'concurrent sensor streams', parseIntOption('--max-streams', 1), 64)
    .option('--rate-limit <events/s>', 'per-connection event rate limit (0 = none)', parseNumberOption('--rate-limit', 0))
    .option('--traces', 'publish per-step traces to ?trace=1 subscribers')
    .option('--idle-flush-ms <ms>', 'a sensor silent this long ends its sample in progress (0 = never)', parseIntOption('--idle-flush-ms', 0), 1000)
    .option('--sample-wall-limit <ms>', 'most wall-clock ms one sample may hold an SNN slot before it is decided with what it has (default 2·T·bin, at least 2000)', parseIntOption('--sample-wall-limit', 1))
    .option('--min-events <n>', 'a sample with fewer events gets no decision (default 1)', parseNumberOption('--min-events', 1))
    .option('--nats <url>', 'gateway mode: store sensor events in NATS JetStream (nats://host:port) for `spikestream worker` processes to classify, and relay their decisions')
    .option('--retention-age <s>', 'with --nats: seconds of events JetStream keeps (default 3600)', parseIntOption('--retention-age', 1))
    .option('--retention-bytes <n>', 'with --nats: bytes of events JetStream keeps, oldest dropped first (default 1 GiB)', parseIntOption('--retention-bytes', 1))
    .option('--batch-ms <ms>', 'with --nats: longest a sensor message waits to be stored with the next ones as one JetStream message (default 20; 0: one each)', parseIntOption('--batch-ms', 0, 1000))
    .option('--quiet', 'do not print decisions')
    .option('--json', 'NDJSON output');
  addInputOption(addOnDecidedOption(addThreadOptions(addViewerOptions(addFitOptions(addModelOptions(cmd), ' (every sensor stream)'))))).action(async (o: ServeOptions) => {
    const token = o.token ?? process.env.SPIKESTREAM_TOKEN;
    if (!token && !isLoopbackHost(o.host)) throw new UsageError(`listening on ${o.host} (beyond loopback) needs a token: --token or SPIKESTREAM_TOKEN`);
    const inputs = inputSpecsFromCli(o);
    if (inputs.length > 0 && o.nats !== undefined) throw new UsageError('--input and --nats do not go together: run `spikestream sensor --from URL --url ws://GATEWAY/ingest/ID` to bring an input to a gateway');
    const model = loadModelFromCli(o);
    const log = (line: string) => process.stderr.write(line + '\n');
    if (o.nats !== undefined) return serveGateway({ ...o, nats: o.nats }, model, token, log);
    const { threads, given } = cliThreads(o);
    const service = await startService({
      model,
      host: o.host,
      port: o.port,
      token,
      slots: o.slots,
      threads,
      runner: await cliRunnerKind(o),
      traces: o.traces,
      viewer: viewerFromCli(o),
      maxIngestStreams: o.maxStreams,
      maxEventsPerSecond: o.rateLimit,
      idleFlushMs: o.idleFlushMs > 0 ? o.idleFlushMs : undefined,
      onDecided: o.onDecided,
      sampleWallLimitMs: o.sampleWallLimit,
      minEvents: o.minEvents,
      fit: { fit: o.fit, roi: o.roi },
      inputs,
      onInputNotice: log,
      onStreamError: (id, err) => log(`stream ${id}: ${err instanceof Error ? err.message : String(err)}`),
    });
    const { url } = service.address;
    const page = o.viewer ? viewerUrl(url) : undefined;
    const inputList = inputs.map((i) => ({ id: i.id, input: i.text }));
    if (o.json) printJson({ type: 'listening', url, ...(page ? { viewer: page } : {}), model: model.dir, mode: model.mode, theta: model.theta, threads, threadsGiven: given, ...(inputs.length ? { inputs: inputList } : {}) });
    else {
      if (page) log(`viewer: ${page}${token ? '?token=<token>' : ''}`);
      log(describeThreads(threads, given));
      log(describeModel(forLiveStreams(model))); // live streams run on the live calibration and θ
      log(`listening on ${url}  (ingest: ${url.replace(/^http/, 'ws')}/ingest/<streamId>, decisions: ${url.replace(/^http/, 'ws')}/decisions)`);
      for (const i of inputList) log(`input ${i.id}: ${i.input}`);
    }
    if (!o.quiet) service.decisions.subscribe((d) => (o.json ? printJson({ type: 'decision', ...d }) : process.stdout.write(`${formatDecision(d, model.classes)}\n`)));
    await stopOnSignals(service, log);
  });
}
