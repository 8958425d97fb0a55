/**
 * DVS128 Gesture (IBM, CC BY 4.0) in its published layout:
 *
 *   userNN_<lighting>.aedat          AEDAT 3.1 recording (DVS128, 128×128)
 *   userNN_<lighting>_labels.csv     `class,startTime_usec,endTime_usec`, one window per row
 *   trials_to_train.txt              .aedat file names, one per line (users 01–23)
 *   trials_to_test.txt               (users 24–29)
 *
 * A label row is the window start ≤ t < end in the recording's own timestamps. Rows may be
 * unsorted, repeat a class, or overlap; they are kept in CSV order. Classes 1–11 in the CSV
 * become labels 0–10. Reading a sample seeks through an AEDAT 3.1 packet index (built once
 * per file and cached), so it reads only the packets that overlap its window.
 */
import * as fs from 'fs';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { type Aedat3Index, type Aedat3ReadOptions, indexAedat3File, readAedat3Window } from 'aedat-parser-ts/node';
import { FormatError } from 'aedat-parser-ts';

/** Class names by label (0–10); the CSV's class k is label k − 1. */
export const GESTURE_CLASSES: readonly string[] = [
  'hand clapping',
  'right hand wave',
  'left hand wave',
  'right arm clockwise',
  'right arm counter-clockwise',
  'left arm clockwise',
  'left arm counter-clockwise',
  'arm roll',
  'air drums',
  'air guitar',
  'other gestures',
];

/**
 * The class of each gesture's mirror image (left ↔ right, which also turns clockwise into
 * counter-clockwise): right hand wave ↔ left hand wave, right arm clockwise ↔ left arm
 * counter-clockwise, right arm counter-clockwise ↔ left arm clockwise; the rest are their own.
 */
export const GESTURE_MIRROR: readonly number[] = [0, 2, 1, 6, 5, 4, 3, 7, 8, 9, 10];

export const GESTURE_GEOMETRY: Geometry = { width: 128, height: 128 };

export const GESTURE_LABELS_HEADER = 'class,startTime_usec,endTime_usec';

export type GestureSplit = 'train' | 'test' | 'all';

/** One labelled window of a stream: events with tStart <= t < tEnd (the one window type of every path). */
export interface LabelWindow {
  readonly tStart: number;
  readonly tEnd: number;
  /** 0-based class index, when known. */
  readonly label?: number;
  /** Sample id (default `${streamId}#${index}`). */
  readonly id?: string;
}

/** One row of a labels CSV. */
export interface GestureWindow extends LabelWindow {
  /** The CSV's class, 1–11. */
  classId: number;
  /** classId − 1, 0–10. */
  label: number;
  className: string;
  /** Window start ≤ t < end, µs. */
  tStart: number;
  tEnd: number;
  /** 1-based line number in the CSV (the header is line 1). */
  line: number;
}

/** One labelled window of a listed recording: what the dataset yields as a sample. */
export interface GestureSampleInfo extends LabelWindow {
  /** `<recording>#<row>`, e.g. `user24_led#3`; row is the 0-based data row of the CSV. */
  id: string;
  /** Path of the .aedat file. */
  file: string;
  /** User number (24 for user24). */
  user: number;
  /** Lighting condition from the file name (`led`, `fluorescent_led`, …). */
  lighting: string;
  /** 0–10. */
  label: number;
  className: string;
  tStart: number;
  tEnd: number;
}

export interface ReadSampleOptions extends Aedat3ReadOptions {}

export interface GestureDataset {
  dir: string;
  split: GestureSplit;
  geometry: Geometry;
  classNames: readonly string[];
  /** In trials-list file order, then CSV row order. */
  samples: GestureSampleInfo[];
  /** The sample's events (start ≤ t < end), reading only the packets that overlap it. */
  readSample(sample: GestureSampleInfo, opts?: ReadSampleOptions): AsyncIterable<EventBatch>;
}

const INT_RE = /^\d{1,16}$/;

/**
 * Parses a labels CSV. Blank lines are ignored; a UTF-8 BOM and CRLF are accepted. Any bad
 * header or row is a FormatError('labels-csv', line, reason, file, 'line').
 */
export function parseGestureLabels(text: string, file?: string): GestureWindow[] {
  const lines = text.split('\n');
  const bad = (line: number, reason: string): FormatError => new FormatError('labels-csv', line, reason, file, 'line');
  let headerSeen = false;
  const out: GestureWindow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let s = lines[i];
    if (i === 0 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    s = s.replace(/\r$/, '').trim();
    if (s === '') continue;
    if (!headerSeen) {
      if (s.replace(/\s+/g, '') !== GESTURE_LABELS_HEADER) throw bad(lineNo, `expected header '${GESTURE_LABELS_HEADER}', got '${s.slice(0, 60)}'`);
      headerSeen = true;
      continue;
    }
    const f = s.split(',').map((c) => c.trim());
    if (f.length !== 3) throw bad(lineNo, `expected 3 fields (class,start,end), got ${f.length}`);
    for (let k = 0; k < 3; k++) {
      if (!INT_RE.test(f[k])) throw bad(lineNo, `field ${k + 1} '${f[k].slice(0, 30)}' is not a non-negative integer`);
    }
    const classId = Number(f[0]);
    const tStart = Number(f[1]);
    const tEnd = Number(f[2]);
    if (classId < 1 || classId > GESTURE_CLASSES.length) throw bad(lineNo, `class ${classId} outside 1…${GESTURE_CLASSES.length}`);
    if (!Number.isSafeInteger(tStart) || !Number.isSafeInteger(tEnd)) throw bad(lineNo, 'time too large');
    if (tEnd <= tStart) throw bad(lineNo, `end ${tEnd} is not after start ${tStart}`);
    out.push({ classId, label: classId - 1, className: GESTURE_CLASSES[classId - 1], tStart, tEnd, line: lineNo });
  }
  if (!headerSeen) throw bad(1, `empty labels file (no '${GESTURE_LABELS_HEADER}' header)`);
  return out;
}

/** `<name>_labels.csv` beside a `<name>.aedat` recording (the DVS128 Gesture naming). */
export function labelsFileFor(recording: string): string {
  return recording.replace(/\.aedat$/i, '') + '_labels.csv';
}

/** The label windows beside a recording (`labelsFileFor`), or undefined when there is no such file. */
export function readLabelsBeside(recording: string): GestureWindow[] | undefined {
  const csv = labelsFileFor(recording);
  if (csv === recording || !fs.existsSync(csv)) return undefined;
  return parseGestureLabels(fs.readFileSync(csv, 'utf8'), csv);
}

const TRIAL_RE = /^user(\d+)_(.+)\.aedat$/;

/** Splits `user24_fluorescent_led.aedat` into user 24 and lighting `fluorescent_led`. */
export function parseTrialName(name: string): { user: number; lighting: string; base: string } | undefined {
  const m = TRIAL_RE.exec(name);
  if (!m) return undefined;
  return { user: Number(m[1]), lighting: m[2], base: name.slice(0, -'.aedat'.length) };
}

async function readTrialsFile(file: string): Promise<string[]> {
  const text = await fsp.readFile(file, 'utf8');
  const out: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let s = lines[i];
    if (i === 0 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    s = s.trim();
    if (s === '') continue;
    if (s.includes('/') || s.includes('\\') || !parseTrialName(s)) {
      throw new FormatError('trials-list', i + 1, `'${s.slice(0, 60)}' is not a userNN_<lighting>.aedat file name`, file, 'line');
    }
    out.push(s);
  }
  return out;
}

/** The .aedat file names (as listed, no directory) of a split; 'all' is train then test, without repeats. */
export async function listGestureTrials(dir: string, split: GestureSplit): Promise<string[]> {
  const lists: string[] = [];
  if (split === 'train' || split === 'all') lists.push('trials_to_train.txt');
  if (split === 'test' || split === 'all') lists.push('trials_to_test.txt');
  if (lists.length === 0) throw new RangeError(`split must be 'train', 'test' or 'all', got '${String(split)}'`);
  const seen = new Set<string>();
  const out: string[] = [];
  for (const l of lists) {
    for (const name of await readTrialsFile(path.join(dir, l))) {
      if (seen.has(name)) continue;
      seen.add(name);
      out.push(name);
    }
  }
  return out;
}

/** Loads the split's label windows (and checks that each listed .aedat exists); reads no events. */
export async function loadGestureDataset(dir: string, opts: { split: GestureSplit }): Promise<GestureDataset> {
  const trials = await listGestureTrials(dir, opts.split);
  const samples: GestureSampleInfo[] = [];
  for (const name of trials) {
    const t = parseTrialName(name);
    if (!t) throw new Error(`unexpected trial name ${name}`); // listGestureTrials already checked
    const file = path.join(dir, name);
    const labelsFile = path.join(dir, `${t.base}_labels.csv`);
    try {
      await fsp.access(file);
    } catch {
      throw new Error(`${file}: listed in the trials list but missing`);
    }
    let text: string;
    try {
      text = await fsp.readFile(labelsFile, 'utf8');
    } catch (err) {
      throw new Error(`${labelsFile}: cannot read the labels of ${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const windows = parseGestureLabels(text, labelsFile);
    windows.forEach((w, row) => {
      samples.push({
        id: `${t.base}#${row}`,
        file,
        user: t.user,
        lighting: t.lighting,
        label: w.label,
        className: w.className,
        tStart: w.tStart,
        tEnd: w.tEnd,
      });
    });
  }
  return {
    dir,
    split: opts.split,
    geometry: GESTURE_GEOMETRY,
    classNames: GESTURE_CLASSES,
    samples,
    readSample,
  };
}

/** Packet indexes by file path, built on first use. Failed builds are not cached. */
const indexCache = new Map<string, Promise<Aedat3Index>>();
const INDEX_CACHE_MAX = 256;

/**
 * The (cached) packet index of an AEDAT 3.1 file. `onBytesRead` sees the index's reads only
 * when this call builds it. The cache keeps the most recent 256 files; `clearGestureIndexCache`
 * empties it (e.g. after a file changed).
 */
export function gestureFileIndex(file: string, opts: Aedat3ReadOptions = {}): Promise<Aedat3Index> {
  const key = path.resolve(file);
  let p = indexCache.get(key);
  if (p) {
    indexCache.delete(key); // re-insert: most recently used last
    indexCache.set(key, p);
    return p;
  }
  p = indexAedat3File(file, opts);
  indexCache.set(key, p);
  p.catch(() => {
    if (indexCache.get(key) === p) indexCache.delete(key);
  });
  while (indexCache.size > INDEX_CACHE_MAX) {
    const oldest = indexCache.keys().next().value as string;
    indexCache.delete(oldest);
  }
  return p;
}

export function clearGestureIndexCache(): void {
  indexCache.clear();
}

/**
 * A sample's events (tStart ≤ t < tEnd) as non-empty batches. Builds or reuses the file's
 * packet index, then reads and decodes only the overlapping packets. Stopping early closes
 * the file. `onBytesRead` counts every byte read for this call (index included, if built now).
 */
export async function* readSample(sample: GestureSampleInfo, opts: ReadSampleOptions = {}): AsyncGenerator<EventBatch, void, undefined> {
  const index = await gestureFileIndex(sample.file, opts);
  yield* readAedat3Window(sample.file, index, sample.tStart, sample.tEnd, opts);
}

/** Number of events in a sample's window (reads only the overlapping packets). */
export async function sampleEventCount(sample: GestureSampleInfo, opts: ReadSampleOptions = {}): Promise<number> {
  let n = 0;
  for await (const b of readSample(sample, opts)) n += b.length;
  return n;
}
