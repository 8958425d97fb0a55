/** `spikestream frames --live-style`: training samples cut from whole recordings the way a live stream cuts them (streams/sinks/live-style-frames.ts). */
import { GESTURE_CLASSES, GESTURE_MIRROR } from '../datasets/dvs-gesture';
import { augmentRecording, augmentStats, formatAugmentSpec, parseAugmentSpec, type AugmentSpec } from '../events/augment';
import { keyedSeed, Rng } from '../prng';
import { gestureRecordings, withEvents } from '../eval/live';
import { writeFramesFile } from '../snn/frames-file';
import { parseUserList } from '../../streams/sources/open-dataset';
import { binStats } from '../../streams/core/binner';
import { collectLiveStyleFrames, type WholeRecording } from '../../streams/sinks/live-style-frames';
import { requireDatasetFolder } from './dataset';
import { UsageError } from './errors';
import { printJson } from './output';
import { progressBar } from './progress';
import { encodingField, type FramesOptions } from './frames-options';

/** `--restart-steps 2-8` (or `4`): the range the decision step is drawn from. */
export function parseRestartSteps(value: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(value);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(lo >= 1 && hi >= lo)) throw new UsageError(`--restart-steps must be MIN-MAX with 1 ≤ MIN ≤ MAX (got '${value}')`);
  return [lo, hi];
}

/** `--augment SPEC` (src/events/augment/recording.ts), checked here so a typo is a usage error. */
function augmentSpecOption(text: string): AugmentSpec {
  try {
    return parseAugmentSpec(text);
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`);
  }
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
  const binning = { binUs: o.binUs ?? 100_000, T: o.steps, downsample: o.downsample ?? 4, ...encodingField(o.encoding, o.rampSteps) };
  const augment = o.augment !== undefined ? augmentSpecOption(o.augment) : undefined;
  const copies = augment ? o.augmentCopies : 0;
  const stats = augmentStats();
  const options = { ...binning, restartSteps: o.restartSteps, passes: o.passes, minOverlap: o.minOverlap, withWindows: !!o.withWindows, seed: o.seed };
  const bar = progressBar('frames', { enabled: !o.json, unit: 'recordings' });
  const perRecording = augment ? copies + (o.withOriginals ? 1 : 0) : 1;
  bar.start(recordings.length * perRecording);
  const binned = binStats();
  const t0 = performance.now();
  // Augmented copies: one draw per copy of each recording, seeded by --seed, the recording and the copy.
  async function* loaded(): AsyncGenerator<WholeRecording> {
    for (const r of recordings) {
      const whole = (await withEvents([r]))[0] as WholeRecording;
      if (!augment || o.withOriginals) yield whole;
      for (let k = 0; augment && k < copies; k++) {
        const rng = new Rng(keyedSeed(o.seed, 'augment', whole.streamId, k));
        const { recording } = augmentRecording(whole, augment, rng, { mirrorLabels: GESTURE_MIRROR, pieceUs: binning.binUs * binning.T, stats });
        yield { ...recording, streamId: `${whole.streamId}#aug${k}` };
      }
    }
  }
  const { dataset, samples } = await collectLiveStyleFrames(loaded(), { ...options, stats: binned, classes: GESTURE_CLASSES, onProgress: (done) => bar.update(done) });
  bar.stop();
  if (dataset.n === 0) throw new UsageError(`${dir}: the recordings gave no samples`);
  const augmentDesc = augment ? ` augment=${formatAugmentSpec(augment)} copies=${copies}${o.withOriginals ? ' +originals' : ''}` : '';
  const desc = `${dir} split=${o.split}${o.users ? ` users=${o.users}` : ''} live-style restart=${o.restartSteps.join('-')} passes=${o.passes} minOverlap=${o.minOverlap}${o.withWindows ? ' +windows' : ''} seed=${o.seed}${augmentDesc}`;
  const written = writeFramesFile(o.out, dataset, { dtype: o.dtype, classes: [...GESTURE_CLASSES], dataset: `dvs-gesture:${desc}`, binning });
  const perClass = new Array<number>(GESTURE_CLASSES.length).fill(0);
  for (const l of dataset.labels) if (l >= 0) perClass[l]++;
  const live = samples.filter((s) => s.kind === 'live');
  const result = {
    out: o.out,
    kind: 'dvs-gesture',
    liveStyle: options,
    recordings: recordings.length,
    ...(augment ? { augment: { spec: formatAugmentSpec(augment), copies, withOriginals: !!o.withOriginals, ...stats } } : {}),
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
