/** `spikestream frames --live-style`: training samples cut from whole recordings the way a live stream cuts them (streams/sinks/live-style-frames.ts). */
import { GESTURE_CLASSES } from '../datasets/dvs-gesture';
import { gestureRecordings, withEvents } from '../eval/live';
import { writeFramesFile } from '../snn/frames-file';
import { parseUserList } from '../../streams/sources/open-dataset';
import { binStats } from '../../streams/core/binner';
import { collectLiveStyleFrames, type WholeRecording } from '../../streams/sinks/live-style-frames';
import { requireDatasetFolder } from './dataset';
import { UsageError } from './errors';
import { printJson } from './output';
import { progressBar } from './progress';
import type { FramesOptions } from './frames-options';

/** `--restart-steps 2-8` (or `4`): the range the decision step is drawn from. */
export function parseRestartSteps(value: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(value);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(lo >= 1 && hi >= lo)) throw new UsageError(`--restart-steps must be MIN-MAX with 1 ≤ MIN ≤ MAX (got '${value}')`);
  return [lo, hi];
}

export async function liveStyleFrames(dir: string, o: FramesOptions): Promise<void> {
  if ((await requireDatasetFolder(dir)) !== 'dvs-gesture') throw new UsageError(`--live-style cuts whole recordings with label windows: ${dir} is not in the DVS128 Gesture layout`);
  if (o.eventsPerBin !== undefined) throw new UsageError('--live-style cuts by time: give --bin-us, not --events-per-bin');
  if (o.limit !== undefined || o.skip !== undefined) throw new UsageError('--live-style takes whole recordings: choose them with --split and --users, not --limit/--skip');
  let users: ((u: number) => boolean) | undefined;
  try {
    users = o.users ? parseUserList(o.users) : undefined;
  } catch (err) {
    throw new UsageError(`--users: ${(err as Error).message}`);
  }
  const recordings = await gestureRecordings(dir, { split: o.split, users });
  if (recordings.length === 0) throw new UsageError(`${dir}: no ${o.split} recordings${o.users ? ` of users ${o.users}` : ''}`);
  const binning = { binUs: o.binUs ?? 100_000, T: o.steps, downsample: o.downsample ?? 4 };
  const options = { ...binning, restartSteps: o.restartSteps, passes: o.passes, minOverlap: o.minOverlap, withWindows: !!o.withWindows, seed: o.seed };
  const bar = progressBar('frames', { enabled: !o.json, unit: 'recordings' });
  bar.start(recordings.length);
  const stats = binStats();
  const t0 = performance.now();
  async function* loaded(): AsyncGenerator<WholeRecording> {
    for (const r of recordings) yield (await withEvents([r]))[0] as WholeRecording;
  }
  const { dataset, samples } = await collectLiveStyleFrames(loaded(), { ...options, stats, classes: GESTURE_CLASSES, onProgress: (done) => bar.update(done) });
  bar.stop();
  if (dataset.n === 0) throw new UsageError(`${dir}: the recordings gave no samples`);
  const desc = `${dir} split=${o.split}${o.users ? ` users=${o.users}` : ''} live-style restart=${o.restartSteps.join('-')} passes=${o.passes} minOverlap=${o.minOverlap}${o.withWindows ? ' +windows' : ''} seed=${o.seed}`;
  const written = writeFramesFile(o.out, dataset, { dtype: o.dtype, classes: [...GESTURE_CLASSES], dataset: `dvs-gesture:${desc}`, binning });
  const perClass = new Array<number>(GESTURE_CLASSES.length).fill(0);
  for (const l of dataset.labels) if (l >= 0) perClass[l]++;
  const live = samples.filter((s) => s.kind === 'live');
  const result = {
    out: o.out,
    kind: 'dvs-gesture',
    liveStyle: options,
    recordings: recordings.length,
    samples: dataset.n,
    liveSamples: live.length,
    windowSamples: dataset.n - live.length,
    noGesture: samples.filter((s) => s.label < 0).length,
    decidedEarly: live.filter((s) => Number.isFinite(s.decidedAt)).length,
    T: dataset.T,
    height: dataset.height,
    width: dataset.width,
    binning,
    perClass,
    dtype: o.dtype,
    saturatedValues: written.saturated,
    seconds: +((performance.now() - t0) / 1000).toFixed(2),
  };
  if (written.saturated > 0) process.stderr.write(`warning: ${written.saturated} frame values above 255 were clipped to 255 (--dtype uint8); use --dtype float32 to keep them\n`);
  if (o.json) printJson(result);
  else {
    process.stdout.write(
      `${result.samples} samples (${result.liveSamples} live-style, ${result.windowSamples} label windows; ${result.noGesture} no gesture, label −1) × ${result.T} frames of ${result.height}×${result.width}×2 → ${o.out} (${result.seconds} s)\nper class: ${perClass.join(' ')}\n`,
    );
  }
}
