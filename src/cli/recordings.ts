/**
 * The recordings `start` feeds in as live sensors: every event file in a folder whose sensor the
 * model can take (as is, or with --fit/--roi). The others are named with the reason they are
 * skipped; when none is left, the error says how to make them fit.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Geometry } from '../events/geometry';
import { FormatError } from 'aedat-parser-ts';
import { eventFileGeometry } from 'aedat-parser-ts/node';
import { FitError, planFit, type FitPlan } from '../../streams/operators/fit';
import { InputError, UsageError } from './errors';
import { eventFileFormat, hasEvents, requireFolder } from './files';
import type { FitCliOptions } from './fit-options';

/** File names that hold events in the formats we read. */
const EVENT_FILE = /\.(aedat|aedat4|raw|dat|bin)$/i;

export interface FedRecording {
  /** The file name inside the folder. */
  readonly name: string;
  /** The stream id it is fed under: the name without its extension. */
  readonly id: string;
  readonly geometry: Geometry;
  readonly plan: FitPlan;
}

export interface SkippedRecording {
  readonly name: string;
  readonly reason: string;
  /** True when --fit/--roi would let it in. */
  readonly misfit: boolean;
}

export interface RecordingSelection {
  readonly feed: readonly FedRecording[];
  readonly skipped: readonly SkippedRecording[];
}

/** Sorts a folder's event files into those the model takes and those it skips (with why). */
export async function selectRecordings(dir: string, modelInput: Geometry, fit: FitCliOptions): Promise<RecordingSelection> {
  requireFolder(dir, 'recordings folder');
  const feed: FedRecording[] = [];
  const skipped: SkippedRecording[] = [];
  for (const name of fs.readdirSync(dir).filter((f) => EVENT_FILE.test(f)).sort()) {
    const file = path.join(dir, name);
    try {
      const format = await eventFileFormat(file);
      const geometry = await eventFileGeometry(file, { format });
      if (!geometry || !(await hasEvents(file, format))) {
        skipped.push({ name, reason: 'no events', misfit: false });
        continue;
      }
      const plan = planFit({ sensor: geometry, target: modelInput, fit: fit.fit, roi: fit.roi });
      feed.push({ name, id: name.replace(/\.[^.]+$/, ''), geometry, plan });
    } catch (err) {
      if (err instanceof FitError) skipped.push({ name, reason: err.message, misfit: true });
      else if (err instanceof FormatError || err instanceof InputError) skipped.push({ name, reason: err.message.replace(`${file}: `, '').replace(`${file} `, ''), misfit: false });
      else throw err;
    }
  }
  return { feed, skipped };
}

/** Lines that say what is skipped and why. */
export function describeSkipped(skipped: readonly SkippedRecording[]): string[] {
  return skipped.map((s) => `skipping ${s.name}: ${s.reason}`);
}

/** Throws when nothing can be fed; the message names the fix when --fit/--roi would help. */
export function requireSomeRecordings(sel: RecordingSelection, dir: string): void {
  if (sel.feed.length > 0) return;
  if (sel.skipped.length === 0) throw new InputError(`no event files in ${dir} (.aedat, .aedat4, .raw, .dat, .bin)`);
  const misfit = sel.skipped.find((s) => s.misfit);
  if (misfit) throw new UsageError(`no recording in ${dir} fits the model: ${misfit.name}: ${misfit.reason}`);
  throw new InputError(`no recording in ${dir} can be fed: ${sel.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}`);
}
