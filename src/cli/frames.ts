import type { Command } from 'commander';
import { writeFramesFile } from '../snn/frames-file';
import { binStats } from '../../streams/operators/bin';
import { openDataset, parseUserList, type DatasetSplit } from '../../streams/sources/open-dataset';
import { collectFrameDataset } from '../../streams/sinks/to-frame-dataset';
import { parseNumberOption, printJson, UsageError } from './output';
import { progressBar } from './progress';

interface FramesOptions {
  out: string;
  split: string;
  users?: string;
  binUs?: number;
  eventsPerBin?: number;
  steps: number;
  downsample: number;
  limit?: number;
  skip?: number;
  dtype: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('frames')
    .description('bin a labelled dataset folder (DVS128 Gesture or N-MNIST layout) into T frames per sample: the training/calibration input (.ssf)')
    .argument('<dir>', 'dataset folder')
    .requiredOption('--out <file>', 'frames file to write (.ssf)')
    .option('--split <split>', 'train, test or all', 'train')
    .option('--users <list>', 'DVS128 Gesture users to keep, e.g. 1-20 (a validation hold-out: 21-23)')
    .option('--bin-us <us>', 'time bin in µs (default 100000 for gestures, 30000 for N-MNIST)', parseNumberOption('--bin-us', 1))
    .option('--events-per-bin <n>', 'event-count bins instead of time bins', parseNumberOption('--events-per-bin', 1))
    .option('--steps <T>', 'frames per sample (T)', parseNumberOption('--steps', 1), 16)
    .option('--downsample <f>', 'spatial downsample factor (default 4 for 128×128, 1 for 34×34)', parseNumberOption('--downsample', 1))
    .option('--limit <n>', 'keep only the first n samples', parseNumberOption('--limit', 1))
    .option('--skip <n>', 'leave out the first n samples (with --limit: disjoint train/validation parts)', parseNumberOption('--skip', 0))
    .option('--dtype <t>', 'uint8 (counts saturate at 255) or float32', 'uint8')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, o: FramesOptions) => {
      if (!['train', 'test', 'all'].includes(o.split)) throw new UsageError(`--split must be train, test or all, got '${o.split}'`);
      if (o.dtype !== 'uint8' && o.dtype !== 'float32') throw new UsageError(`--dtype must be uint8 or float32`);
      if (o.binUs !== undefined && o.eventsPerBin !== undefined) throw new UsageError('give --bin-us or --events-per-bin, not both');
      const ds = await openDataset(dir, { split: o.split as DatasetSplit, users: o.users ? parseUserList(o.users) : undefined, limit: o.limit, skip: o.skip });
      const small = ds.geometry.width <= 64;
      const binning = {
        binUs: o.eventsPerBin !== undefined ? undefined : (o.binUs ?? (small ? 30_000 : 100_000)),
        eventsPerBin: o.eventsPerBin,
        T: o.steps,
        downsample: o.downsample ?? (small ? 1 : 4),
      };
      const bar = progressBar('frames', { enabled: !o.json, unit: 'samples' });
      bar.start(ds.size);
      const stats = binStats();
      const t0 = performance.now();
      const frames = await collectFrameDataset(ds, { ...binning, stats, onProgress: (done) => bar.update(done) });
      bar.stop();
      writeFramesFile(o.out, frames, { dtype: o.dtype, classes: [...ds.classes], dataset: `${ds.kind}:${dir} split=${o.split}${o.users ? ` users=${o.users}` : ''}${o.skip ? ` skip=${o.skip}` : ''}${o.limit ? ` limit=${o.limit}` : ''}`, binning });
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
        seconds: +((performance.now() - t0) / 1000).toFixed(2),
      };
      if (o.json) printJson(result);
      else process.stdout.write(`${result.samples} samples × ${result.T} frames of ${result.height}×${result.width}×2 → ${o.out} (${result.seconds} s)\nper class: ${perClass.join(' ')}\n`);
    });
}
