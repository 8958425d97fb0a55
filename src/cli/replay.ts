import type { Command } from 'commander';
import type { ClassifierModel } from '../snn/model/classifier-model';
import { eventFileGeometry } from 'aedat-parser-ts/node';
import { replay } from '../eval/replay/replay';
import { modelSensorGeometry } from '../../streams/operators/fit';
import { openDataset } from '../../streams/sources/open-dataset';
import { ASAP, REALTIME, speed } from '../../streams/sources/pacing';
import { formatDecision, formatSummary, summarizeDecisions } from './decisions';
import { addModelOptions, describeModel, loadModelFromCli, type ModelCliOptions } from './model-options';
import { requireDatasetFolder, requireSomeSamples } from './dataset';
import { InputError, UsageError } from './errors';
import { eventFileFormat, hasEvents, isFolder } from './files';
import { addFitOptions, checkFit, type FitCliOptions } from './fit-options';
import { parseIntOption, parseSpeed, parseSplit, type Split } from './options';
import { printJson } from './output';
import { addThreadOptions, cliRunnerKind, cliThreads, describeThreads, type ThreadCliOptions } from './thread-options';
import { DEFAULT_SLOTS } from '../defaults';

interface ReplayOptions extends ModelCliOptions, FitCliOptions, ThreadCliOptions {
  realtime?: boolean;
  speed?: number;
  split: Split;
  limit?: number;
  slots: number;
  json?: boolean;
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
    .option('--slots <n>', 'SNN slots (samples stepped together)', parseIntOption('--slots', 1), DEFAULT_SLOTS)
    .option('--json', 'NDJSON: one line per decision, then {"type":"summary",…}');
  addThreadOptions(addFitOptions(addModelOptions(cmd))).action(async (target: string, o: ReplayOptions) => {
    if (o.realtime && o.speed !== undefined) throw new UsageError('give --realtime or --speed, not both');
    const pacing = o.realtime ? REALTIME : o.speed !== undefined ? speed(o.speed) : ASAP;
    const model = loadModelFromCli(o);
    await checkReplayTarget(target, model, o);
    const { threads, given } = cliThreads(o);
    if (!o.json) process.stdout.write(`${describeThreads(threads, given)}\n${describeModel(model)}\n`);
    const t0 = performance.now();
    const r = await replay(target, model, {
      pacing,
      split: o.split as 'train' | 'test' | 'all',
      limit: o.limit,
      slots: o.slots,
      fit: { fit: o.fit, roi: o.roi },
      threads,
      runner: await cliRunnerKind(o),
      onDecision: (d) => (o.json ? printJson({ type: 'decision', ...d }) : process.stdout.write(formatDecision(d, model.classes) + '\n')),
    });
    const summary = summarizeDecisions(r.decisions);
    const seconds = (performance.now() - t0) / 1000;
    if (o.json) printJson({ type: 'summary', source: r.source, theta: model.theta, mode: model.mode, ...summary, seconds });
    else process.stdout.write(`\n${r.source}\n${formatSummary(summary, { 'θ': `${model.theta} (${model.thetaSource})`, 'wall time': `${seconds.toFixed(2)} s` })}\n`);
  });
}
