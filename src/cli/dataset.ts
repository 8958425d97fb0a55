import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { loadGestureDataset, readSample } from '../datasets/dvs-gesture';
import { isNmnistFolder, listNmnistFolder } from '../datasets/nmnist-folder';
import { summarizeEventFile } from 'aedat-parser-ts/node';
import { InputError } from './errors';
import { requireFolder } from './files';
import { parseSplit, type Split } from './options';
import { formatTable, printJson } from './output';
import * as synth from './dataset-synth';
import * as saccades from './dataset-saccades';

export type DatasetKind = 'dvs-gesture' | 'nmnist';

/**
 * Which labelled layout a folder has; anything else is an error that describes both layouts
 * (instead of "ENOENT: trials_to_test.txt").
 */
export async function requireDatasetFolder(dir: string): Promise<DatasetKind> {
  requireFolder(dir, 'dataset folder');
  if (await isNmnistFolder(dir)) return 'nmnist';
  if (['trials_to_train.txt', 'trials_to_test.txt'].some((f) => fs.existsSync(path.join(dir, f)))) return 'dvs-gesture';
  throw new InputError(
    `${dir} is not a dataset folder: expected the DVS128 Gesture layout (trials_to_train.txt / trials_to_test.txt, userNN_<lighting>.aedat with _labels.csv) or the N-MNIST layout (Train/<label>/*.bin, Test/<label>/*.bin)`,
  );
}

/** Fails when a split (after --users, --skip, --limit) has no samples, instead of failing later on zero samples. */
export function requireSomeSamples(count: number, dir: string, split: Split, filtered = false): void {
  if (count > 0) return;
  const which = split === 'all' ? '' : `${split} `;
  const hint = filtered ? ' after --users/--skip/--limit' : split === 'all' ? '' : ` (try --split ${split === 'train' ? 'test' : 'train'} or all)`;
  throw new InputError(`${dir} has no ${which}samples${hint}`);
}

export interface DatasetSampleRow {
  id: string;
  file: string;
  label: number;
  className: string;
  tStart: number;
  tEnd: number;
  events: number;
}

export interface DatasetListing {
  kind: DatasetKind;
  samples: DatasetSampleRow[];
  perClass: { label: number; className: string; samples: number; events: number }[];
}

async function gestureRows(dir: string, split: Split): Promise<DatasetSampleRow[]> {
  const ds = await loadGestureDataset(dir, { split });
  const rows: DatasetSampleRow[] = [];
  for (const s of ds.samples) {
    let events = 0;
    for await (const b of readSample(s)) events += b.length;
    rows.push({ id: s.id, file: s.file, label: s.label, className: s.className, tStart: s.tStart, tEnd: s.tEnd, events });
  }
  return rows;
}

async function nmnistRows(dir: string, split: Split): Promise<DatasetSampleRow[]> {
  let classes: string[] = [];
  try {
    classes = fs.readFileSync(path.join(dir, 'classes.txt'), 'utf8').split(/\r?\n/).filter((l) => l.length > 0);
  } catch {
    // no classes.txt: the label is the name
  }
  const rows: DatasetSampleRow[] = [];
  for (const s of await listNmnistFolder(dir, split)) {
    const sum = await summarizeEventFile(s.file, { format: 'nmnist' });
    rows.push({ id: s.id, file: s.file, label: s.label, className: classes[s.label] ?? String(s.label), tStart: 0, tEnd: sum.lastT ?? 0, events: sum.events });
  }
  return rows;
}

/** Lists a dataset folder's samples (DVS128 Gesture or N-MNIST layout) with their event counts, and totals per class. */
export async function listDatasetSamples(dir: string, split: Split): Promise<DatasetListing> {
  const kind = await requireDatasetFolder(dir);
  const samples = kind === 'nmnist' ? await nmnistRows(dir, split) : await gestureRows(dir, split);
  const byClass = new Map<number, { label: number; className: string; samples: number; events: number }>();
  for (const s of samples) {
    const c = byClass.get(s.label) ?? { label: s.label, className: s.className, samples: 0, events: 0 };
    c.samples++;
    c.events += s.events;
    byClass.set(s.label, c);
  }
  return { kind, samples, perClass: [...byClass.values()].sort((a, b) => a.label - b.label) };
}

export function register(program: Command): Command {
  const dataset = program.command('dataset').description('datasets: inspect and generate');
  dataset
    .command('info')
    .description("list a dataset folder's samples (file, class, start, end, event count) and totals per class: DVS128 Gesture or N-MNIST layout")
    .argument('<dir>', 'folder with userNN_<lighting>.aedat, _labels.csv and trials_to_{train,test}.txt, or with Train|Test/<label>/*.bin')
    .option('--split <split>', 'train, test or all', parseSplit, 'all' as Split)
    .option('--json', 'print one JSON object')
    .action(async (dir: string, opts: { split: Split; json?: boolean }) => {
      const r = await listDatasetSamples(dir, opts.split);
      if (opts.json) {
        printJson(r);
        return;
      }
      process.stdout.write(
        formatTable(
          ['sample', 'file', 'class', 'name', 'start µs', 'end µs', 'events'],
          r.samples.map((s) => [s.id, path.relative(dir, s.file), s.label, s.className, s.tStart, s.tEnd, s.events]),
        ) + '\n\n',
      );
      process.stdout.write(formatTable(['class', 'name', 'samples', 'events'], r.perClass.map((c) => [c.label, c.className, c.samples, c.events])) + '\n');
      process.stdout.write(`${r.samples.length} samples (${r.kind} layout)\n`);
    });
  synth.register(dataset);
  saccades.register(dataset);
  return dataset;
}
