/**
 * Writes synthetic gesture recordings (plan + emulate) as a DVS128 Gesture folder:
 * `userNN_<lighting>.aedat` (AEDAT 3.1, DVS128, 128×128), `userNN_<lighting>_labels.csv`
 * (`class,startTime_usec,endTime_usec`, classes 1–11) and `trials_to_train.txt` /
 * `trials_to_test.txt`. Files are written packet by packet as the emulator produces events;
 * a recording is never held in memory as a whole.
 */
import * as fs from 'fs';
import * as path from 'path';
import { EventBatchBuilder, type EventBatch } from '../../events/event-batch';
import { Aedat31Writer } from 'aedat-parser-ts';
import { emulateRecording } from './emulate';
import { SYNTH_HEIGHT, SYNTH_LIGHTINGS, SYNTH_WIDTH, type RecordingPlan, type SynthWorld } from './params';
import { planRecording } from './plan';
import { perturbationNamed } from './perturb';

export interface SynthGesturesOptions {
  /** Output folder (created if missing). */
  out: string;
  /** Number of subjects (users firstUser … firstUser + subjects − 1). Default 29. */
  subjects?: number;
  /** First user number. Default 1. */
  firstUser?: number;
  /** Number of lightings (taken in order from SYNTH_LIGHTINGS) or their names. Default 3. */
  lightings?: number | readonly string[];
  /** Master seed. Default 1. */
  seed?: number;
  /** Users ≤ this go to trials_to_train.txt, the others to trials_to_test.txt. Default 23. */
  lastTrainUser?: number;
  /** Gesture durations (s, ≥ 1.5) and repeats per file; see planRecording. */
  minSeconds?: number;
  maxSeconds?: number;
  repeats?: number;
  /** 'classic' (default) or 'randomized' (world.ts: documented ranges, seeded). */
  world?: SynthWorld;
  /** One perturbation of perturb.ts (the robustness report's sets). */
  perturb?: string;
}

export interface SynthGesturesProgress {
  /** Samples (label windows) emulated so far, and in all. */
  samplesDone: number;
  samples: number;
  filesDone: number;
  files: number;
  events: number;
  /** The file being written. */
  file: string;
}

export interface SynthFileSummary {
  file: string;
  labels: string;
  user: number;
  lighting: string;
  split: 'train' | 'test';
  samples: number;
  events: number;
  bytes: number;
  seconds: number;
}

export interface SynthGesturesResult {
  out: string;
  files: SynthFileSummary[];
  samples: number;
  events: number;
  bytes: number;
  /** Recorded (emulated) time, s. */
  recordedSeconds: number;
  /** Wall time, s. */
  elapsedSeconds: number;
  /** Events generated per wall second. */
  eventsPerSecond: number;
}

/** Events per `encode` call (the writer splits them into packets of 4096). */
const FLUSH_EVENTS = 32768;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function trialBaseName(user: number, lighting: string): string {
  return `user${pad2(user)}_${lighting}`;
}

export function labelsCsv(plan: RecordingPlan): string {
  const rows = ['class,startTime_usec,endTime_usec'];
  for (const s of plan.segments) rows.push(`${s.classId},${s.tStart},${s.tEnd}`);
  return rows.join('\n') + '\n';
}

/**
 * Emulates one plan into `<dir>/<base>.aedat` (+ labels CSV), streaming. `onSample` is called
 * each time the emulation passes the end of a label window. Returns the file summary.
 */
export function writeSynthRecording(
  plan: RecordingPlan,
  dir: string,
  onSample?: (samplesDone: number, events: number) => void,
  transform?: (b: EventBatch) => EventBatch,
): Omit<SynthFileSummary, 'split'> {
  const base = trialBaseName(plan.user, plan.lighting.name);
  const file = path.join(dir, `${base}.aedat`);
  const labels = path.join(dir, `${base}_labels.csv`);
  const tmp = `${file}.partial`;
  const writer = new Aedat31Writer({ geometry: { width: SYNTH_WIDTH, height: SYNTH_HEIGHT }, sourceName: 'DVS128' });
  const fd = fs.openSync(tmp, 'w');
  let bytes = 0;
  const write = (b: Uint8Array) => {
    let off = 0;
    while (off < b.length) off += fs.writeSync(fd, b, off, b.length - off);
    bytes += b.length;
  };
  let events = 0;
  let done = 0;
  try {
    write(writer.header());
    const builder = new EventBatchBuilder(FLUSH_EVENTS * 2);
    const ends = plan.segments.map((s) => s.tEnd).sort((a, b) => a - b);
    const sink = (emitted: EventBatch) => {
      const b = transform ? transform(emitted) : emitted;
      builder.append(b);
      events += b.length;
      if (builder.length >= FLUSH_EVENTS) write(writer.encode(builder.take()));
      const tLast = b.t[b.length - 1];
      while (done < ends.length && tLast >= ends[done]) {
        done++;
        onSample?.(done, events);
      }
    };
    emulateRecording(plan, sink);
    if (builder.length > 0) write(writer.encode(builder.take()));
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fs.writeFileSync(labels, labelsCsv(plan));
  // Counted outside the optional call: its arguments are not evaluated without a callback.
  while (done < plan.segments.length) {
    done++;
    onSample?.(done, events);
  }
  return { file, labels, user: plan.user, lighting: plan.lighting.name, samples: plan.segments.length, events, bytes, seconds: plan.tEnd / 1e6 };
}

function resolveLightings(l: number | readonly string[] | undefined): string[] {
  if (l === undefined) return SYNTH_LIGHTINGS.slice(0, 3);
  if (typeof l === 'number') {
    if (!(Number.isInteger(l) && l >= 1 && l <= SYNTH_LIGHTINGS.length)) throw new RangeError(`lightings must be 1…${SYNTH_LIGHTINGS.length}, got ${l}`);
    return SYNTH_LIGHTINGS.slice(0, l);
  }
  for (const name of l) if (!(SYNTH_LIGHTINGS as readonly string[]).includes(name)) throw new RangeError(`unknown lighting '${name}' (known: ${SYNTH_LIGHTINGS.join(', ')})`);
  return [...l];
}

/** Plans of every file of a generation run, in writing order (user, then lighting). */
export function planSynthGestures(opts: Omit<SynthGesturesOptions, 'out'>): RecordingPlan[] {
  const subjects = opts.subjects ?? 29;
  const first = opts.firstUser ?? 1;
  if (!(Number.isInteger(subjects) && subjects >= 1 && subjects <= 99)) throw new RangeError(`subjects must be an integer in 1…99, got ${subjects}`);
  if (!(Number.isInteger(first) && first >= 1 && first + subjects - 1 <= 99)) throw new RangeError('user numbers must lie in 1…99');
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer in 0…2^32−1, got ${seed}`);
  const perturb = opts.perturb !== undefined ? perturbationNamed(opts.perturb).plan : undefined;
  const plans: RecordingPlan[] = [];
  for (let u = first; u < first + subjects; u++) {
    for (const lighting of resolveLightings(opts.lightings)) {
      const plan = planRecording({ seed, user: u, lighting, minSeconds: opts.minSeconds, maxSeconds: opts.maxSeconds, repeats: opts.repeats, world: opts.world });
      plans.push(perturb ? perturb(plan) : plan);
    }
  }
  return plans;
}

/**
 * Generates a DVS128-Gesture-layout folder. `onProgress` is called after each sample (label
 * window) is emulated. The trials lists name every file written by this run.
 */
export function generateSynthGestures(opts: SynthGesturesOptions, onProgress?: (p: SynthGesturesProgress) => void): SynthGesturesResult {
  const t0 = process.hrtime.bigint();
  const plans = planSynthGestures(opts);
  const transform = opts.perturb !== undefined ? perturbationNamed(opts.perturb).events : undefined;
  const lastTrain = opts.lastTrainUser ?? 23;
  fs.mkdirSync(opts.out, { recursive: true });
  const total = plans.reduce((a, p) => a + p.segments.length, 0);
  const files: SynthFileSummary[] = [];
  let samplesBefore = 0;
  let eventsBefore = 0;
  for (let k = 0; k < plans.length; k++) {
    const plan = plans[k];
    const name = `${trialBaseName(plan.user, plan.lighting.name)}.aedat`;
    const s = writeSynthRecording(plan, opts.out, (done, ev) =>
      onProgress?.({ samplesDone: samplesBefore + done, samples: total, filesDone: k, files: plans.length, events: eventsBefore + ev, file: name }),
      transform,
    );
    samplesBefore += s.samples;
    eventsBefore += s.events;
    files.push({ ...s, split: plan.user <= lastTrain ? 'train' : 'test' });
    onProgress?.({ samplesDone: samplesBefore, samples: total, filesDone: k + 1, files: plans.length, events: eventsBefore, file: name });
  }
  const list = (split: 'train' | 'test') =>
    files
      .filter((f) => f.split === split)
      .map((f) => path.basename(f.file) + '\n')
      .join('');
  fs.writeFileSync(path.join(opts.out, 'trials_to_train.txt'), list('train'));
  fs.writeFileSync(path.join(opts.out, 'trials_to_test.txt'), list('test'));
  const elapsedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const events = files.reduce((a, f) => a + f.events, 0);
  return {
    out: opts.out,
    files,
    samples: total,
    events,
    bytes: files.reduce((a, f) => a + f.bytes, 0),
    recordedSeconds: files.reduce((a, f) => a + f.seconds, 0),
    elapsedSeconds,
    eventsPerSecond: events / Math.max(1e-9, elapsedSeconds),
  };
}
