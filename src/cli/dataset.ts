import type { Command } from 'commander';
import { loadGestureDataset, readSample } from '../datasets/dvs-gesture';
import { formatTable, printJson, UsageError } from './output';
import * as synth from './dataset-synth';
import * as saccades from './dataset-saccades';

type Split = 'train' | 'test' | 'all';

export interface DatasetSampleRow {
  id: string;
  file: string;
  label: number;
  className: string;
  tStart: number;
  tEnd: number;
  events: number;
}

/** Lists a DVS128-Gesture-layout folder's samples with their event counts (each window read by seeking). */
export async function listGestureSamples(dir: string, split: Split): Promise<{ samples: DatasetSampleRow[]; perClass: { label: number; className: string; samples: number; events: number }[] }> {
  const ds = await loadGestureDataset(dir, { split });
  const samples: DatasetSampleRow[] = [];
  for (const s of ds.samples) {
    let events = 0;
    for await (const b of readSample(s)) events += b.length;
    samples.push({ id: s.id, file: s.file, label: s.label, className: s.className, tStart: s.tStart, tEnd: s.tEnd, events });
  }
  const byClass = new Map<number, { label: number; className: string; samples: number; events: number }>();
  for (const s of samples) {
    const c = byClass.get(s.label) ?? { label: s.label, className: s.className, samples: 0, events: 0 };
    c.samples++;
    c.events += s.events;
    byClass.set(s.label, c);
  }
  return { samples, perClass: [...byClass.values()].sort((a, b) => a.label - b.label) };
}

export function register(program: Command): Command {
  const dataset = program.command('dataset').description('datasets: inspect and generate');
  dataset
    .command('info')
    .description("list a DVS128-Gesture-layout folder's samples (file, class, start, end, event count) and totals per class")
    .argument('<dir>', 'folder with userNN_<lighting>.aedat, _labels.csv and trials_to_{train,test}.txt')
    .option('--split <split>', 'train, test or all', 'all')
    .option('--json', 'print one JSON object')
    .action(async (dir: string, opts: { split: string; json?: boolean }) => {
      if (!['train', 'test', 'all'].includes(opts.split)) throw new UsageError(`--split must be train, test or all, got '${opts.split}'`);
      const r = await listGestureSamples(dir, opts.split as Split);
      if (opts.json) {
        printJson(r);
        return;
      }
      process.stdout.write(
        formatTable(
          ['sample', 'file', 'class', 'name', 'start µs', 'end µs', 'events'],
          r.samples.map((s) => [s.id, s.file, s.label, s.className, s.tStart, s.tEnd, s.events]),
        ) + '\n\n',
      );
      process.stdout.write(formatTable(['class', 'name', 'samples', 'events'], r.perClass.map((c) => [c.label, c.className, c.samples, c.events])) + '\n');
      process.stdout.write(`${r.samples.length} samples\n`);
    });
  synth.register(dataset);
  saccades.register(dataset);
  return dataset;
}
