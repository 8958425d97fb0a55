import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { readLabelsBeside, type LabelWindow } from '../datasets/dvs-gesture';
import { eventFileGeometry, readEventFile } from 'aedat-parser-ts/node';
import { startService } from '../server/service';
import { streamToServer } from '../client/sensor-client';
import { paceBatches } from '../../streams/sources/from-event-file';
import { ASAP, REALTIME, speed } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { formatSummary, summarizeDecisions } from './decisions';
import { liveTrueLabel } from '../eval/live-score';
import { thetaLabel } from './model-options';
import { addModelOptions, describeModel, loadModelFromCli, packageRoot, type ModelCliOptions } from './model-options';
import { UsageError } from './errors';
import { addFitOptions, type FitCliOptions } from './fit-options';
import { parsePort, parseSpeed } from './options';
import { printJson } from './output';
import { describeSkipped, requireSomeRecordings, selectRecordings } from './recordings';
import { modelSensorGeometry } from '../../streams/operators/fit';
import { forLiveStreams } from '../snn/model/classifier-model';
import { stopOnSignals } from './serve';
import { addViewerOptions, viewerFromCli, viewerUrl, type ViewerCliOptions } from './viewer-options';
import { addThreadOptions, cliRunnerKind, cliThreads, describeThreads, type ThreadCliOptions } from './thread-options';
import { DEFAULT_SLOTS } from '../defaults';
import { printingSubscriber } from './decision-subscriber';
import { addInputOption, inputSpecsFromCli, type InputCliOptions } from './input-options';
import { START_INPUT_HELP, startOnInputs } from './start-inputs';

/** The bundled recordings the main job feeds in (DVS128 Gesture layout, with labels). */
export function defaultRecordingsDir(): string {
  return path.join(packageRoot(), 'recordings', 'gestures');
}

interface StartOptions extends ModelCliOptions, FitCliOptions, ViewerCliOptions, ThreadCliOptions, InputCliOptions {
  once?: boolean;
  speed?: number;
  asap?: boolean;
  recordings?: string;
  port: number;
  json?: boolean;
}

/**
 * The service labels each decision from its recording's label windows (the viewer ticks them; the
 * summary scores them), with the one live scoring rule (eval/live-score.ts): the window holding the
 * decision time, −1 (no gesture) inside none; undefined for a recording without labels.
 */
function trueLabelFromFiles(dir: string, files: readonly string[]): (d: Decision) => number | undefined {
  const labels = new Map<string, LabelWindow[]>();
  for (const f of files) {
    const windows = readLabelsBeside(path.join(dir, f));
    if (windows) labels.set(f.replace(/\.[^.]+$/, ''), windows);
  }
  return (d: Decision): number | undefined => {
    const windows = labels.get(d.streamId);
    return windows ? liveTrueLabel(windows, d) : undefined;
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('start')
    .description('the main job: serve, feed the bundled recordings in as live sensors, print decisions as subscribers receive them')
    .option('--once', 'one pass over the recordings, then a summary and exit')
    .option('--speed <x>', 'sensor replay speed (default 1 = real time)', parseSpeed)
    .option('--asap', 'feed the recordings as fast as the server takes them')
    .option('--recordings <dir>', 'folder of event files, each with an optional _labels.csv beside it (default: the bundled recordings/gestures)')
    .option('--port <port>', 'port (0 = any free port)', parsePort, 0)
    .option('--json', 'NDJSON output');
  addThreadOptions(addViewerOptions(addFitOptions(addModelOptions(addInputOption(cmd, START_INPUT_HELP)), ' (every recording)'))).action(async (o: StartOptions) => {
    if (o.asap && o.speed !== undefined) throw new UsageError('give --speed or --asap, not both');
    if (o.input.length > 0) return startOnInputs(o, inputSpecsFromCli(o));
    const dir = o.recordings ?? defaultRecordingsDir();
    const model = loadModelFromCli(o);
    const log = (line: string) => process.stderr.write(line + '\n');
    const selection = await selectRecordings(dir, modelSensorGeometry(model), o);
    requireSomeRecordings(selection, dir);
    const files = selection.feed.map((r) => r.name);
    const pacing = o.asap ? ASAP : o.speed !== undefined ? speed(o.speed) : REALTIME;
    const trueLabel = trueLabelFromFiles(dir, files);
    // Recordings of another sensor size are fitted by the service, per stream, as a live sensor's would be.
    const viewer = viewerFromCli(o);
    const { threads, given } = cliThreads(o);
    const service = await startService({ model, port: o.port, slots: DEFAULT_SLOTS, idleFlushMs: 1000, fit: { fit: o.fit, roi: o.roi }, viewer, trueLabel, threads, runner: await cliRunnerKind(o) });
    const base = service.address.url.replace(/^http/, 'ws');
    const page = viewer ? viewerUrl(service.address.url) : undefined;
    if (o.json) printJson({ type: 'listening', url: service.address.url, ...(page ? { viewer: page } : {}), threads, threadsGiven: given });
    else {
      if (page) log(`viewer: ${page}`);
      log(describeThreads(threads, given));
    }
    for (const line of describeSkipped(selection.skipped)) log(line);
    if (!o.json) {
      log(describeModel(forLiveStreams(model))); // live streams run on the live calibration and θ
      log(`serving on ${service.address.url}; feeding ${files.length} recording(s) from ${dir} as live sensors (${pacing.mode === 'asap' ? 'as fast as possible' : `${pacing.factor}× real time`})`);
    }

    const received: Decision[] = [];
    const subscriber = await printingSubscriber(base, o.json === true, model.classes, received);

    let stopped = false;
    const feedAll = async () =>
      Promise.all(
        files.map(async (f) => {
          const file = path.join(dir, f);
          const geometry = await eventFileGeometry(file);
          if (!geometry) return;
          const id = f.replace(/\.[^.]+$/, '');
          try {
            await streamToServer(`${base}/ingest/${id}`, paceBatches(readEventFile(file), pacing), geometry);
          } catch (err) {
            // A stop in the middle of a pass closes the sensors: that is not a failure.
            if (!stopped) throw err;
          }
        }),
      );
    const signals = stopOnSignals(service, log, () => {
      stopped = true;
    });
    let t0 = performance.now();
    let pass = 1;
    while (!stopped) {
      await feedAll();
      if (o.once || stopped) break;
      // Endless mode: the summary printed on Ctrl-C covers the pass in progress.
      received.length = 0;
      pass++;
      t0 = performance.now();
    }
    if (o.once) await service.stop(5000);
    else await signals;
    subscriber.close();
    const s = summarizeDecisions(received);
    const seconds = (performance.now() - t0) / 1000;
    const passInfo: Record<string, string> = o.once ? {} : { pass: `${pass} (interrupted)` };
    if (o.json) printJson({ type: 'summary', ...s, streams: files.length, ...(o.once ? {} : { pass, interrupted: true }), seconds, theta: forLiveStreams(model).theta, stopRule: model.stopRule, mode: model.mode });
    else process.stdout.write(`\n${formatSummary(s, { streams: files.length, ...passInfo, 'θ': thetaLabel(forLiveStreams(model)), 'wall time': `${seconds.toFixed(1)} s` })}\n`);
  });
}
