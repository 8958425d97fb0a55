/**
 * `spikestream dataset synth-gestures --out DIR [--subjects 29 --lightings 3 --seed S --json]`:
 * writes a synthetic DVS128-Gesture-layout folder (see src/datasets/synth-gestures/).
 */
import type { Command } from 'commander';
import {
  generateSynthGestures as generate,
  type SynthGesturesOptions,
  type SynthGesturesProgress,
  type SynthGesturesResult,
  SYNTH_LIGHTINGS,
  SYNTH_PERTURBATIONS,
  SYNTH_WORLDS,
  type SynthWorld,
} from '../datasets/synth-gestures';
import { UsageError } from './errors';
import { parseChoice, parseIntOption, parseNumberOption } from './options';
import { printJson } from './output';
import { progressBar } from './progress';

export type { SynthGesturesOptions, SynthGesturesProgress, SynthGesturesResult };

/** Generates the dataset (synchronously; the CPU is the limit). */
export function generateSynthGestures(opts: SynthGesturesOptions, onProgress?: (p: SynthGesturesProgress) => void): SynthGesturesResult {
  return generate(opts, onProgress);
}

function parseLightings(v: string): number | string[] {
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n < 1 || n > SYNTH_LIGHTINGS.length) throw new UsageError(`--lightings must be 1…${SYNTH_LIGHTINGS.length} or a comma-separated list of ${SYNTH_LIGHTINGS.join(', ')}`);
    return n;
  }
  const names = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const n of names) if (!(SYNTH_LIGHTINGS as readonly string[]).includes(n)) throw new UsageError(`unknown lighting '${n}' (known: ${SYNTH_LIGHTINGS.join(', ')})`);
  if (names.length === 0) throw new UsageError('--lightings: no lighting given');
  return names;
}

export function register(dataset: Command): void {
  dataset
    .command('synth-gestures')
    .description('generate synthetic gestures (11 classes) in the DVS128 Gesture layout through the DVS emulator')
    .requiredOption('--out <dir>', 'output folder')
    .option('--subjects <n>', 'number of subjects (users)', parseIntOption('--subjects', 1, 99), 29)
    .option('--first-user <n>', 'first user number', parseIntOption('--first-user', 1, 99), 1)
    .option('--lightings <n|names>', `number of lightings, or names (${SYNTH_LIGHTINGS.join(', ')})`, parseLightings, 3 as number | string[])
    .option('--seed <s>', 'master seed', parseIntOption('--seed', 0, 0xffffffff), 1)
    .option('--last-train-user <n>', 'users up to this one are listed in trials_to_train.txt', parseIntOption('--last-train-user', 0, 99), 23)
    .option('--min-seconds <s>', 'shortest gesture (≥ 1.5 s)', parseNumberOption('--min-seconds', 1.5), 1.6)
    .option('--max-seconds <s>', 'longest gesture', parseNumberOption('--max-seconds', 1.5), 2.6)
    .option('--repeats <n>', 'gestures per file beyond one per class', parseIntOption('--repeats', 0, 11), 2)
    .option('--world <w>', 'classic: the scene of the first bundled models; randomized: limbs darker or brighter than the room, body, style, background, light and sensor drawn per subject and recording (src/datasets/synth-gestures/world.ts)', parseChoice('--world', SYNTH_WORLDS), 'classic' as SynthWorld)
    .option('--perturb <name>', `one perturbation of the robustness report: ${SYNTH_PERTURBATIONS.map((p) => p.name).join(', ')}`, parseChoice('--perturb', SYNTH_PERTURBATIONS.map((p) => p.name)))
    .option('--json', 'print one JSON object')
    .action(runSynthGestures);
}

interface SynthGesturesCliOptions {
  out: string;
  subjects: number;
  firstUser: number;
  lightings: number | string[];
  seed: number;
  lastTrainUser: number;
  minSeconds: number;
  maxSeconds: number;
  repeats: number;
  world: SynthWorld;
  perturb?: string;
  json?: boolean;
}

/** Generates the set with a progress bar (rate, ETA), then prints what it wrote. */
function runSynthGestures(o: SynthGesturesCliOptions): void {
  if (o.maxSeconds < o.minSeconds) throw new UsageError('--max-seconds must be ≥ --min-seconds');
  const opts: SynthGesturesOptions = {
    out: o.out,
    subjects: o.subjects,
    firstUser: o.firstUser,
    lightings: o.lightings,
    seed: o.seed,
    lastTrainUser: o.lastTrainUser,
    minSeconds: o.minSeconds,
    maxSeconds: o.maxSeconds,
    repeats: o.repeats,
    world: o.world,
    perturb: o.perturb,
  };
  // A bar on a terminal (even with --json: it goes to stderr), else a line every 5 s unless --json.
  const bar = progressBar('synth-gestures', {
    enabled: !o.json || !!process.stderr.isTTY,
    format: 'synth-gestures [{bar}] {value}/{total} samples | {rate} samples/s | ETA {eta_formatted} | {file}',
    etaBuffer: 10,
    since: performance.now(),
    plain: {
      everyMs: 5000,
      line: (done, total, rate) =>
        `synth-gestures: ${done}/${total} samples, ${rate.toFixed(1)} samples/s, ETA ${(rate > 0 ? (total - done) / rate : 0).toFixed(0)} s`,
    },
  });
  let started = false;
  let lastDone = -1;
  const result = generateSynthGestures(opts, (p) => {
    if (p.samplesDone === lastDone) return;
    lastDone = p.samplesDone;
    if (!started) {
      bar.start(p.samples, 0, { file: p.file });
      started = true;
    }
    bar.update(p.samplesDone, { file: p.file });
  });
  bar.stop();
  if (o.json) {
    printJson(result);
    return;
  }
  process.stdout.write(
    `wrote ${result.files.length} recordings (${result.samples} samples, ${result.events} events, ${(result.bytes / 1e6).toFixed(1)} MB, ` +
      `${result.recordedSeconds.toFixed(0)} s recorded) to ${result.out}\n` +
      `generation took ${result.elapsedSeconds.toFixed(1)} s (${(result.eventsPerSecond / 1e6).toFixed(2)} M events/s)\n`,
  );
}
