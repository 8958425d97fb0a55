/**
 * The checks every command makes on a path argument before reading it, so that a missing file,
 * a folder given for a file, an empty file or a file of no known format reads the same in every
 * command: one sentence with the full path.
 */
import * as fs from 'fs';
import * as path from 'path';
import { FormatError, type FormatName } from 'aedat-parser-ts';
import { detectFileFormat, readEventFile } from 'aedat-parser-ts/node';
import { readFramesFile, type LoadedFrames } from '../snn/frames-file';
import { InputError, UsageError } from './errors';

/** Files shorter than this that match no format are called "too short" rather than "unrecognised". */
const SHORTEST_HEADER_BYTES = 16;

/** Error lines name a path in full (resolved against the working folder), whatever the user typed. */
export function fullPath(p: string): string {
  return path.resolve(p);
}

function statOf(p: string): fs.Stats {
  try {
    return fs.statSync(p);
  } catch {
    throw new UsageError(`${fullPath(p)} does not exist`);
  }
}

/** `p` is an existing, non-empty file (`what` names it in errors, e.g. "frames file"); returns its size. */
export function requireFile(p: string, what = 'file'): number {
  const st = statOf(p);
  if (st.isDirectory()) throw new UsageError(`${fullPath(p)} is a folder; expected ${article(what)} ${what}`);
  if (st.size === 0) throw new InputError(`${fullPath(p)} is empty`);
  return st.size;
}

/** `p` is an existing folder. */
export function requireFolder(p: string, what = 'folder'): void {
  if (!statOf(p).isDirectory()) throw new UsageError(`${fullPath(p)} is a file; expected ${article(what)} ${what}`);
}

/** Whether `p` is a folder (after checking that it exists). */
export function isFolder(p: string): boolean {
  return statOf(p).isDirectory();
}

/** `p` can be written as a file: its folder exists and `p` is not a folder. */
export function requireOutputFile(p: string): void {
  const dir = path.dirname(p);
  if (!fs.existsSync(dir)) throw new UsageError(`${fullPath(dir)} does not exist (the folder to write ${path.basename(p)} in)`);
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) throw new UsageError(`${fullPath(p)} is a folder; expected a file name to write`);
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/**
 * Checks an event file argument and returns its format: the one given (`--format`) or the one
 * detected from its header. Detection failures name the full path; a file too short for any
 * header says so.
 */
export async function eventFileFormat(file: string, format?: FormatName): Promise<FormatName> {
  const size = requireFile(file, 'event file');
  if (format !== undefined) return format;
  try {
    return await detectFileFormat(file);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    if (size < SHORTEST_HEADER_BYTES) throw new InputError(`${fullPath(file)} is too short to be an event file (${size} B)`);
    throw new FormatError(err.format, err.offset, err.reason, fullPath(file), err.unit);
  }
}

/** A path as a user would type it: relative when it lies under the working folder, absolute otherwise. */
export function displayPath(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return rel === '' ? '.' : rel.startsWith('..') || path.isAbsolute(rel) ? path.resolve(p) : rel;
}

/** Whether an event file holds at least one event (reads only up to the first batch). */
export async function hasEvents(file: string, format: FormatName): Promise<boolean> {
  for await (const batch of readEventFile(file, { format })) if (batch.length > 0) return true;
  return false;
}

/** A frames file (.ssf) argument: it exists and decodes; `option` names it in errors (e.g. --data). */
export function readFramesArgument(file: string, option: string): LoadedFrames {
  requireFile(file, 'frames file');
  try {
    return readFramesFile(file);
  } catch (err) {
    const hint = /not a frames file/.test((err as Error).message) ? ' (frames files come from spikestream frames)' : '';
    throw new InputError(`${option} ${(err as Error).message}${hint}`);
  }
}
