/**
 * `spikestream worker --nats URL`: classifies the streams that gateways (`spikestream serve
 * --nats URL`) store in JetStream, with the same engine as the embedded service, taking streams
 * through leases and over from workers that die (src/broker/worker.ts).
 */
import type { Command } from 'commander';
import { forLiveStreams } from '../snn/model/classifier-model';
import { startWorker, type WorkerEvent } from '../broker/worker';
import { addModelOptions, describeModel, loadModelFromCli, type ModelCliOptions } from './model-options';
import { addFitOptions, type FitCliOptions } from './fit-options';
import { parseIntOption, parsePort } from './options';
import { printJson } from './output';
import { stopOnSignal } from './signals';
import { addOnDecidedOption, addRunnerOption, cliRunnerKind, type OnDecidedCliOptions, type RunnerCliOptions } from './thread-options';
import { DEFAULT_SLOTS } from '../defaults';

interface WorkerCliOptions extends ModelCliOptions, FitCliOptions, RunnerCliOptions, OnDecidedCliOptions {
  nats: string;
  slots: number;
  leaseMs?: number;
  id?: string;
  traces?: boolean;
  metricsPort?: number;
  metricsHost: string;
  quiet?: boolean;
  json?: boolean;
}

/** One line for a person. */
export function describeWorkerEvent(e: WorkerEvent): string {
  switch (e.type) {
    case 'acquired':
      return `${e.streamId}: taken${e.takeover ? ` over from ${e.from ?? '?'}` : ''}, from sample #${e.sample} (message ${e.seq})`;
    case 'released':
      return `${e.streamId}: released after sample #${e.sample - 1} (its sensor has gone)`;
    case 'lost':
      return `${e.streamId}: lease lost (${e.why}); another worker goes on`;
    case 'error':
      return `${e.streamId}: ${e.message}`;
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('worker')
    .description('classify the streams that gateways (serve --nats) store in NATS JetStream; streams move between workers through leases')
    .requiredOption('--nats <url>', 'NATS server with JetStream, e.g. nats://127.0.0.1:4222')
    .option('--slots <n>', 'SNN slots: the most streams this worker classifies at once', parseIntOption('--slots', 1), DEFAULT_SLOTS)
    .option('--lease-ms <ms>', 'lease time: a stream whose worker is silent this long is taken over (default: the lease bucket\u2019s, 5000 when creating it)', parseIntOption('--lease-ms', 200))
    .option('--id <name>', 'worker id in leases, checkpoints and decision headers (default: host-pid-random)')
    .option('--traces', 'publish per-step traces (for ?trace=1 subscribers of the gateways)')
    .option('--metrics-port <port>', 'serve /metrics and /health on this port (0 = any free port)', parsePort)
    .option('--metrics-host <host>', 'address for --metrics-port', '127.0.0.1')
    .option('--quiet', 'print only errors')
    .option('--json', 'NDJSON output');
  addOnDecidedOption(addRunnerOption(addFitOptions(addModelOptions(cmd), ' (every stream)'))).action(async (o: WorkerCliOptions) => {
    const model = loadModelFromCli(o);
    const log = (line: string): void => void process.stderr.write(line + '\n');
    const report = (e: WorkerEvent): void => {
      if (o.json) printJson(e);
      else if (!o.quiet || e.type === 'error') log(describeWorkerEvent(e));
    };
    const worker = await startWorker({
      url: o.nats,
      model,
      slots: o.slots,
      leaseMs: o.leaseMs,
      id: o.id,
      fit: { fit: o.fit, roi: o.roi },
      runner: await cliRunnerKind(o),
      traces: o.traces,
      onDecided: o.onDecided,
      metricsPort: o.metricsPort,
      metricsHost: o.metricsHost,
      report,
    });
    if (o.json) printJson({ type: 'ready', id: worker.id, leaseMs: worker.leaseMs, slots: o.slots, ...(worker.metricsUrl ? { metrics: worker.metricsUrl } : {}) });
    else if (!o.quiet) {
      log(describeModel(forLiveStreams(model))); // live streams run on the live calibration and θ
      log(`worker ${worker.id}: ${o.slots} slots, lease ${worker.leaseMs} ms, NATS ${o.nats}${worker.metricsUrl ? `, metrics ${worker.metricsUrl}/metrics` : ''}`);
    }
    await stopOnSignal((signal) => {
      if (!o.quiet) log(`${signal}: releasing streams and stopping`);
      return worker.stop();
    });
  });
}
