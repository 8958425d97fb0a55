import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { filter, lastValueFrom, map, tap, toArray, type Observable } from 'rxjs';
import { createRunner, resolveRunnerKind, type RunnerKind } from '../snn/step-runner';
import { SnnScheduler } from '../snn/scheduler';
import { readLabelsBeside } from '../datasets/dvs-gesture';
import { detectFileFormat, eventFileGeometry } from '../formats/read-file';
import { classifyStats } from '../../streams/core/engine';
import { classify } from '../../streams/operators/classify';
import { classifyLive } from '../../streams/operators/classify-live';
import { eventFileSource } from '../../streams/sources/from-event-file';
import { windowSamples } from '../../streams/sources/window-samples';
import { openDataset } from '../../streams/sources/open-dataset';
import { ASAP, REALTIME, speed, type Pacing } from '../../streams/sources/pacing';
import type { ClassifierModel } from '../../streams/core/classifier-model';
import type { Decision } from '../../streams/types';
import { formatDecision, formatSummary, summarizeDecisions } from './decisions';
import { addModelOptions, describeModel, loadModelFromCli, type ModelCliOptions } from './model-options';
import { requireDatasetFolder, requireSomeSamples } from './dataset';
import { InputError, UsageError } from './errors';
import { eventFileFormat, hasEvents, isFolder } from './files';
import { addFitOptions, checkFit, type FitCliOptions } from './fit-options';
import { parseIntOption, parseSpeed, parseSplit, type Split } from './options';
import { printJson } from './output';
import { fitSample, fitSource, makeFit, modelSensorGeometry } from '../../streams/operators/fit';
import { replayOnThreads, type ReplayShard } from './replay-threads';
import { addThreadOptions, cliRunnerKind, type ThreadCliOptions } from './thread-options';

interface ReplayOptions extends ModelCliOptions, FitCliOptions, ThreadCliOptions {
  realtime?: boolean;
  speed?: number;
  split: Split;
  limit?: number;
  slots: number;
  json?: boolean;
}

export interface ReplayResult {
  decisions: Decision[];
  source: string;
  samples: number;
  skippedFrames: number;
}

/**
 * Replays a dataset folder (its labelled samples), a recording with a labels CSV beside it (its
 * label windows), or any event file (activity-segmented, like a live sensor) through the model.
 */
export interface ReplayRunOptions {
  pacing: Pacing;
  split: 'train' | 'test' | 'all';
  limit?: number;
  slots: number;
  fit?: FitCliOptions;
  /** SNN runner (default `typed`; `auto`: `tensor` when TF.js runs on its native backend). */
  runner?: RunnerKind | 'auto';
  /**
   * Worker threads (default 1). With N > 1 the samples of a dataset folder or of a recording's
   * label windows are shared out over N workers and the decisions come back in sample order (one
   * thread's per-stream order); a recording segmented by activity is one stream and stays on one thread.
   */
  threads?: number;
  /** Only the samples i with i mod count = index (a worker's share; see replay-threads.ts). */
  shard?: ReplayShard;
  /** Each decision as it comes, with its sample's index in the replay (dataset folders and label windows). */
  onDecision?(d: Decision, sampleIndex?: number): void;
}

export async function replay(target: string, model: ClassifierModel, o: ReplayRunOptions): Promise<ReplayResult> {
  if ((o.threads ?? 1) > 1 && !o.shard && (fs.statSync(target).isDirectory() || readLabelsBeside(target))) return replayOnThreads(target, model, o);
  const scheduler = new SnnScheduler(createRunner(model.net, o.slots, await resolveRunnerKind(o.runner ?? 'typed')));
  // The sample's index in the whole replay: how a worker's decisions are put back in order.
  const order = new Map<string, number>();
  const mine = <S extends { id: string }>(s: S, i: number): boolean => {
    if (o.shard && i % o.shard.count !== o.shard.index) return false;
    order.set(s.id, i);
    return true;
  };
  const stats = classifyStats();
  const modelInput = modelSensorGeometry(model);
  let decisions$: Observable<Decision>;
  let source: string;
  if (fs.statSync(target).isDirectory()) {
    const ds = await openDataset(target, { split: o.split, limit: o.limit, pacing: o.pacing });
    source = `${ds.kind} folder, ${ds.size} samples (${o.split})`;
    const fit = makeFit({ sensor: ds.geometry, target: modelInput, ...o.fit });
    decisions$ = ds.samples.pipe(
      filter(mine),
      map((s) => fitSample(s, fit)),
      classify({ model, scheduler, stats, concurrency: o.pacing.mode === 'asap' ? o.slots : 1 }),
    );
  } else {
    const format = await detectFileFormat(target);
    const windows = readLabelsBeside(target);
    if (windows) {
      const geometry = (await eventFileGeometry(target, { format })) ?? { width: 128, height: 128 };
      const selected = o.limit !== undefined ? windows.slice(0, o.limit) : windows;
      source = `${format} recording with ${selected.length} label windows`;
      const id = path.basename(target).replace(/\.[^.]+$/, '');
      const fit = makeFit({ sensor: geometry, target: modelInput, ...o.fit });
      const samples = windowSamples(target, selected.map((w, i) => ({ ...w, id: `${id}#${i}` })), { streamId: id, geometry, pacing: o.pacing, format });
      decisions$ = samples.pipe(
        filter(mine),
        map((s) => fitSample(s, fit)),
        classify({ model, scheduler, stats, concurrency: Math.max(1, selected.length) }),
      );
    } else {
      const geometry = await eventFileGeometry(target, { format });
      if (!geometry) throw new UsageError(`${target}: no events, nothing to replay`);
      source = `${format} recording, activity-segmented`;
      // Fit the stream before it is segmented: the segmenter and the engine see the model's sensor size.
      const fit = makeFit({ sensor: geometry, target: modelInput, ...o.fit });
      decisions$ = classifyLive(path.basename(target), fit.geometry, fitSource(eventFileSource(target, { pacing: o.pacing }), fit), { model, scheduler, stats });
    }
  }
  const decisions = await lastValueFrom(decisions$.pipe(tap((d) => o.onDecision?.(d, order.get(d.sampleId))), toArray()));
  return { decisions, source, samples: stats.samples, skippedFrames: stats.stepsSaved };
}

/** A dataset folder with samples, or an event file with events, whose sensor fits the model (with --fit/--roi); errors name the fix. */
async function checkReplayTarget(target: string, model: ClassifierModel, o: FitCliOptions & { split: Split }): Promise<void> {
  const modelInput = modelSensorGeometry(model);
  if (isFolder(target)) {
    await requireDatasetFolder(target);
    const ds = await openDataset(target, { split: o.split, limit: 1 });
    requireSomeSamples(ds.size, target, o.split);
    checkFit(ds.geometry, modelInput, o, target);
    return;
  }
  const format = await eventFileFormat(target);
  const geometry = await eventFileGeometry(target, { format });
  if (!geometry || !(await hasEvents(target, format))) throw new InputError(`${target} has no events: nothing to replay`);
  checkFit(geometry, modelInput, o, target);
}

export function register(program: Command): void {
  const cmd = program
    .command('replay')
    .description('classify a recording or a dataset folder, printing each decision and a closing summary (NDJSON with --json)')
    .argument('<target>', 'event file (a _labels.csv beside it gives label windows) or dataset folder (DVS128 Gesture or N-MNIST layout)')
    .option('--realtime', 'replay at recorded speed (default: as fast as possible)')
    .option('--speed <x>', 'replay at x times the recorded speed (> 0)', parseSpeed)
    .option('--split <split>', 'dataset split: train, test or all', parseSplit, 'test' as Split)
    .option('--limit <n>', 'at most n samples', parseIntOption('--limit', 1))
    .option('--slots <n>', 'SNN slots (samples stepped together)', parseIntOption('--slots', 1), 32)
    .option('--json', 'NDJSON: one line per decision, then {"type":"summary",…}');
  addThreadOptions(addFitOptions(addModelOptions(cmd))).action(async (target: string, o: ReplayOptions) => {
    if (o.realtime && o.speed !== undefined) throw new UsageError('give --realtime or --speed, not both');
    const pacing = o.realtime ? REALTIME : o.speed !== undefined ? speed(o.speed) : ASAP;
    const model = loadModelFromCli(o);
    await checkReplayTarget(target, model, o);
    if (!o.json) process.stdout.write(`${describeModel(model)}\n`);
    const t0 = performance.now();
    const r = await replay(target, model, {
      pacing,
      split: o.split as 'train' | 'test' | 'all',
      limit: o.limit,
      slots: o.slots,
      fit: { fit: o.fit, roi: o.roi },
      threads: o.threads,
      runner: await cliRunnerKind(o),
      onDecision: (d) => (o.json ? printJson({ type: 'decision', ...d }) : process.stdout.write(formatDecision(d, model.classes) + '\n')),
    });
    const summary = summarizeDecisions(r.decisions);
    const seconds = (performance.now() - t0) / 1000;
    if (o.json) printJson({ type: 'summary', source: r.source, theta: model.theta, mode: model.mode, ...summary, seconds });
    else process.stdout.write(`\n${r.source}\n${formatSummary(summary, { 'θ': `${model.theta} (${model.thetaSource})`, 'wall time': `${seconds.toFixed(2)} s` })}\n`);
  });
}
