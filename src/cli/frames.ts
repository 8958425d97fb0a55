import type { Command } from 'commander';
import { writeFramesFile } from '../snn/frames-file';
import { binStats } from '../../streams/operators/bin';
import { openDataset, parseUserList } from '../../streams/sources/open-dataset';
import { collectFrameDataset } from '../../streams/sinks/to-frame-dataset';
import { liveStyleFrames, parseRestartSteps } from './frames-live-style';
import { requireDatasetFolder, requireSomeSamples } from './dataset';
import { UsageError } from './errors';
import { requireOutputFile } from './files';
import { parseChoice, parseIntOption, parseNumberOption, parseSplit, type Split } from './options';
import { encodingField, type FramesOptions } from './frames-options';
import { INPUT_ENCODINGS, type InputEncoding } from '../snn/input-encoding';
import { printJson } from './output';
import { progressBar } from './progress';

/** `--users 1-20,23`, checked here so a typo is a usage error. */
function parseUsers(spec: string): (user: number) => boolean {
  try {
    return parseUserList(spec);
  } catch (err) {
    throw new UsageError(`--users: ${(err as Error).message}`);
  }
}

export function register(program: Command): void {
  program
    .command('frames')
    .description('bin a labelled dataset folder (DVS128 Gesture or N-MNIST layout) into T frames per sample: the training/calibration input (.ssf)')
    .argument('<dir>', 'dataset folder')
    .requiredOption('--out <file>', 'frames file to write (.ssf)')
    .option('--split <split>', 'train, test or all', parseSplit, 'train' as Split)
    .option('--users <list>', 'DVS128 Gesture users to keep, e.g. 1-20 (a validation hold-out: 21-23)')
    .option('--bin-us <us>', 'time bin in µs (default 100000 for gestures, 30000 for N-MNIST)', parseIntOption('--bin-us', 1))
    .option('--events-per-bin <n>', 'event-count bins instead of time bins', parseIntOption('--events-per-bin', 1))
    .option('--steps <T>', 'frames per sample (T)', parseIntOption('--steps', 1), 16)
    .option('--downsample <f>', 'spatial downsample factor (default 4 for 128×128, 1 for 34×34)', parseIntOption('--downsample', 1))
    .option('--encoding <e>', 'what the two channels count: polarity (OFF, ON); time-split (either polarity, first and second half of each step); time-ramp (either polarity: events, and events weighted by their time in the sample); the time encodings are polarity-invariant (src/snn/input-encoding.ts)', parseChoice('--encoding', INPUT_ENCODINGS), 'polarity' as InputEncoding)
    .option('--ramp-steps <n>', 'time-ramp: the steps over which the weight rises from 0 to 1 (default: --steps); stored with the frames and in a model trained on them', parseIntOption('--ramp-steps', 1))
    .option('--limit <n>', 'keep only the first n samples', parseIntOption('--limit', 1))
    .option('--skip <n>', 'leave out the first n samples (with --limit: disjoint train/validation parts)', parseIntOption('--skip', 0))
    .option('--dtype <t>', 'float32 (exact) or uint8 (4× smaller; counts above 255 are clipped, counted and warned about)', parseChoice('--dtype', ['uint8', 'float32'] as const), 'float32' as const)
    .option('--live-style', 'cut whole recordings the way a live stream does (activity onsets, restarts after decisions, transitions; no-gesture samples labelled −1) instead of at the label windows; DVS128 Gesture layout, time bins')
    .option('--restart-steps <min-max>', 'live-style: the step a sample is decided at, drawn uniformly per sample (the next one starts after it)', parseRestartSteps, [2, 8] as [number, number])
    .option('--passes <n>', 'live-style: passes over each recording, each with its own draws', parseIntOption('--passes', 1), 1)
    .option('--min-overlap <x>', 'live-style: least share of a sample a label window must cover to give it its class (else −1, no gesture); 0: the window holding the step\'s end, the live scoring rule (eval/live-score.ts)', parseNumberOption('--min-overlap', { min: 0, max: 1 }), 0.5)
    .option('--with-windows', 'live-style: also one sample per label window')
    .option('--augment <spec>', 'live-style: cut augmented copies of each recording: default, or name=max,… of flip-polarity, flip-lr (labels mirrored), spatial-jitter, spatial-shift, spatial-scale, spatial-rotation, time-skew, drop-event, drop-event-by-time, drop-event-by-area, uniform-noise (src/events/augment)')
    .option('--augment-copies <n>', 'live-style: augmented copies per recording', parseIntOption('--augment-copies', 1), 1)
    .option('--with-originals', 'live-style: with --augment, also cut each recording as it is')
    .option('--seed <n>', 'live-style: seed of the draws', parseIntOption('--seed', 0), 1)
    .option('--json', 'print one JSON object')
    .action(async (dir: string, o: FramesOptions) => {
      if (o.binUs !== undefined && o.eventsPerBin !== undefined) throw new UsageError('give --bin-us or --events-per-bin, not both');
      await requireDatasetFolder(dir);
      requireOutputFile(o.out);
      if (o.encoding === 'time-ramp' && o.dtype === 'uint8') throw new UsageError('--dtype uint8 holds whole counts only: time-ramp frames carry fractional weights (use --dtype float32)');
      if (o.rampSteps !== undefined && o.encoding !== 'time-ramp') throw new UsageError('--ramp-steps is for --encoding time-ramp');
      if (o.augment !== undefined && !o.liveStyle) throw new UsageError('--augment augments whole recordings: use it with --live-style');
      if (o.liveStyle) {
        await liveStyleFrames(dir, o);
        return;
      }
      const ds = await openDataset(dir, { split: o.split, users: o.users ? parseUsers(o.users) : undefined, limit: o.limit, skip: o.skip });
      requireSomeSamples(ds.size, dir, o.split, o.users !== undefined || o.skip !== undefined || o.limit !== undefined);
      const small = ds.geometry.width <= 64;
      const binning = {
        binUs: o.eventsPerBin !== undefined ? undefined : (o.binUs ?? (small ? 30_000 : 100_000)),
        eventsPerBin: o.eventsPerBin,
        T: o.steps,
        downsample: o.downsample ?? (small ? 1 : 4),
        ...encodingField(o.encoding, o.rampSteps),
      };
      const bar = progressBar('frames', { enabled: !o.json, unit: 'samples' });
      bar.start(ds.size);
      const stats = binStats();
      const t0 = performance.now();
      const frames = await collectFrameDataset(ds, { ...binning, stats, onProgress: (done) => bar.update(done) });
      bar.stop();
      const written = writeFramesFile(o.out, frames, { dtype: o.dtype, classes: [...ds.classes], dataset: `${ds.kind}:${dir} split=${o.split}${o.users ? ` users=${o.users}` : ''}${o.skip ? ` skip=${o.skip}` : ''}${o.limit ? ` limit=${o.limit}` : ''}`, binning });
      const perClass = new Array<number>(ds.classes.length).fill(0);
      for (const l of frames.labels) if (l >= 0) perClass[l]++;
      const result = {
        out: o.out,
        kind: ds.kind,
        samples: frames.n,
        T: frames.T,
        height: frames.height,
        width: frames.width,
        binning,
        perClass,
        outOfWindowEvents: stats.outOfWindow,
        dtype: o.dtype,
        saturatedValues: written.saturated,
        seconds: +((performance.now() - t0) / 1000).toFixed(2),
      };
      if (written.saturated > 0) process.stderr.write(`warning: ${written.saturated} frame values above 255 were clipped to 255 (--dtype uint8); use --dtype float32 to keep them\n`);
      if (o.json) printJson(result);
      else process.stdout.write(`${result.samples} samples × ${result.T} frames of ${result.height}×${result.width}×2 → ${o.out} (${result.seconds} s)\nper class: ${perClass.join(' ')}\n`);
    });
}
