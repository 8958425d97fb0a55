import { promises as fsp } from 'fs';
import * as path from 'path';
import { FormatError } from 'aedat-parser-ts';

export interface NmnistFolderSample {
  /** e.g. `Test/7/00001` */
  readonly id: string;
  readonly file: string;
  readonly label: number;
  readonly split: 'train' | 'test';
}

/**
 * The N-MNIST folder layout (`Train/<label>/<id>.bin`, `Test/<label>/<id>.bin`), as the
 * original dataset and our saccade generator write it. Samples come in split order, then by file
 * number, then label: classes interleave, so the first n samples are a fair subset.
 */
export async function listNmnistFolder(dir: string, split: 'train' | 'test' | 'all'): Promise<NmnistFolderSample[]> {
  const splits: ('train' | 'test')[] = split === 'all' ? ['train', 'test'] : [split];
  const out: NmnistFolderSample[] = [];
  let found = false;
  for (const s of splits) {
    const splitDir = path.join(dir, s === 'train' ? 'Train' : 'Test');
    let labels: string[];
    try {
      labels = await fsp.readdir(splitDir);
    } catch {
      continue;
    }
    found = true;
    for (const l of labels.filter((x) => /^\d+$/.test(x)).sort((a, b) => Number(a) - Number(b))) {
      const files = (await fsp.readdir(path.join(splitDir, l))).filter((f) => f.endsWith('.bin')).sort();
      for (const f of files) {
        out.push({ id: `${s === 'train' ? 'Train' : 'Test'}/${l}/${f.replace(/\.bin$/, '')}`, file: path.join(splitDir, l, f), label: Number(l), split: s });
      }
    }
  }
  const num = (f: string) => Number(/(\d+)\.bin$/.exec(f)?.[1] ?? 0);
  out.sort((a, b) => (a.split === b.split ? num(a.file) - num(b.file) || a.label - b.label : a.split === 'train' ? -1 : 1));
  if (!found) throw new FormatError('nmnist-folder', 0, `no ${splits.map((s) => (s === 'train' ? 'Train/' : 'Test/')).join(' or ')} folder`, dir);
  return out;
}

/** True when `dir` looks like an N-MNIST folder rather than a DVS128 Gesture one. */
export async function isNmnistFolder(dir: string): Promise<boolean> {
  for (const s of ['Train', 'Test']) {
    try {
      if ((await fsp.stat(path.join(dir, s))).isDirectory()) return true;
    } catch {
      // not there
    }
  }
  return false;
}
