/**
 * `spikestream start --input URL …`: the main job on live inputs instead of the bundled
 * recordings: serve, pull each input as a named stream, print the decisions a subscriber
 * receives (`--json`: NDJSON) until Ctrl-C, then the summary.
 */
import type { InputSpec } from '../server/input-url';
import { startService } from '../server/service';
import { forLiveStreams } from '../snn/model/classifier-model';
import type { Decision } from '../../streams/types';
import { formatSummary, summarizeDecisions } from './decisions';
import type { FitCliOptions } from './fit-options';
import { describeModel, loadModelFromCli, thetaLabel, type ModelCliOptions } from './model-options';
import { printJson } from './output';
import { UsageError } from './errors';
import { stopOnSignals } from './serve';
import { printingSubscriber } from './decision-subscriber';
import { cliRunnerKind, cliThreads, describeThreads, type ThreadCliOptions } from './thread-options';
import { viewerFromCli, viewerUrl, type ViewerCliOptions } from './viewer-options';
import { DEFAULT_SLOTS } from '../defaults';

export interface StartInputsOptions extends ModelCliOptions, FitCliOptions, ViewerCliOptions, ThreadCliOptions {
  port: number;
  json?: boolean;
  /** The bundled recordings' options: refused with --input. */
  once?: boolean;
  speed?: number;
  asap?: boolean;
  recordings?: string;
}

export const START_INPUT_HELP = 'instead of the bundled recordings, classify this live input until Ctrl-C (repeatable): udp://…, dv+tcp://…, dv+unix://…, - or a FIFO path; see serve --help';

export async function startOnInputs(o: StartInputsOptions, inputs: readonly InputSpec[]): Promise<void> {
  if (o.once || o.asap || o.speed !== undefined || o.recordings !== undefined) {
    throw new UsageError('--input runs until Ctrl-C on live inputs: --once, --speed, --asap and --recordings are for the bundled recordings');
  }
  const model = loadModelFromCli(o);
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const viewer = viewerFromCli(o);
  const { threads, given } = cliThreads(o);
  const service = await startService({
    model,
    port: o.port,
    slots: DEFAULT_SLOTS,
    idleFlushMs: 1000,
    fit: { fit: o.fit, roi: o.roi },
    viewer,
    threads,
    runner: await cliRunnerKind(o),
    inputs,
    onInputNotice: log,
  });
  const page = viewer ? viewerUrl(service.address.url) : undefined;
  const inputList = inputs.map((i) => ({ id: i.id, input: i.text }));
  if (o.json) printJson({ type: 'listening', url: service.address.url, ...(page ? { viewer: page } : {}), inputs: inputList });
  else {
    if (page) log(`viewer: ${page}`);
    log(describeThreads(threads, given));
    log(describeModel(forLiveStreams(model))); // live streams run on the live calibration and θ
    log(`serving on ${service.address.url}; classifying ${inputs.length} live input(s) until Ctrl-C:`);
    for (const i of inputList) log(`  ${i.id}: ${i.input}`);
  }
  const received: Decision[] = [];
  const subscriber = await printingSubscriber(service.address.url.replace(/^http/, 'ws'), o.json === true, model.classes, received);
  const t0 = performance.now();
  await stopOnSignals(service, log);
  subscriber.close();
  const s = summarizeDecisions(received);
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) printJson({ type: 'summary', ...s, streams: inputs.length, interrupted: true, seconds, theta: forLiveStreams(model).theta, stopRule: model.stopRule, mode: model.mode });
  else process.stdout.write(`\n${formatSummary(s, { streams: inputs.length, 'θ': thetaLabel(forLiveStreams(model)), 'wall time': `${seconds.toFixed(1)} s` })}\n`);
}
