import { from, type Observable } from 'rxjs';
import { GESTURE_CLASSES, GESTURE_GEOMETRY, loadGestureDataset } from '../../src/datasets/dvs-gesture';
import { isNmnistFolder, listNmnistFolder } from '../../src/datasets/nmnist-folder';
import type { Geometry } from '../../src/events/geometry';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { Sample } from '../types';
import { gestureSample } from './from-dataset';
import { eventFileSource } from './from-event-file';
import { ASAP, type Pacing } from './pacing';

export type DatasetSplit = 'train' | 'test' | 'all';

/** A labelled dataset folder: what it is, its classes, and its samples (read lazily). */
export interface LabelledDataset {
  readonly kind: 'dvs-gesture' | 'nmnist';
  readonly dir: string;
  readonly classes: readonly string[];
  readonly geometry: Geometry;
  readonly size: number;
  readonly samples: Observable<Sample>;
}

export interface OpenDatasetOptions {
  split?: DatasetSplit;
  /** Keep only DVS128 Gesture users for which this returns true (e.g. a validation hold-out). */
  users?: (user: number) => boolean;
  pacing?: Pacing;
  onBytesRead?(n: number): void;
  /** Keep at most this many samples (the first ones after `skip`). */
  limit?: number;
  /** Leave out the first `skip` samples (with `limit`, carves disjoint train/validation parts). */
  skip?: number;
}

/** Parses `1-20,23` into a user filter. */
export function parseUserList(spec: string): (user: number) => boolean {
  const ranges = spec.split(',').map((part) => {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(part);
    if (!m) throw new RangeError(`bad user list '${spec}': expected e.g. 1-20,23`);
    return [Number(m[1]), Number(m[2] ?? m[1])] as const;
  });
  return (u) => ranges.some(([a, b]) => u >= a && u <= b);
}

const NMNIST_GEOMETRY: Geometry = { width: 34, height: 34 };

/**
 * Opens a DVS128-Gesture-layout folder (trials lists + AEDAT 3.1 + labels CSV) or an
 * N-MNIST-layout folder (`Train|Test/<label>/<id>.bin`; class names from an optional
 * `classes.txt`, one per line). N-MNIST samples span their whole file from t = 0.
 */
export async function openDataset(dir: string, o: OpenDatasetOptions = {}): Promise<LabelledDataset> {
  const split = o.split ?? 'all';
  const pacing = o.pacing ?? ASAP;
  const limit = o.limit ?? Infinity;
  const skip = o.skip ?? 0;
  if (await isNmnistFolder(dir)) {
    const all = await listNmnistFolder(dir, split);
    const items = all.slice(skip, Math.min(all.length, skip + limit));
    let classes: string[];
    try {
      classes = (await fsp.readFile(path.join(dir, 'classes.txt'), 'utf8')).split(/\r?\n/).filter((l) => l.length > 0);
    } catch {
      const maxLabel = all.reduce((m, s) => Math.max(m, s.label), 9);
      classes = Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
    }
    const samples: Sample[] = items.map((s) => ({
      id: s.id,
      streamId: s.id,
      label: s.label,
      tStart: 0,
      tEnd: Infinity,
      geometry: NMNIST_GEOMETRY,
      events: eventFileSource(s.file, { format: 'nmnist', pacing, onBytesRead: o.onBytesRead }),
    }));
    return { kind: 'nmnist', dir, classes, geometry: NMNIST_GEOMETRY, size: samples.length, samples: from(samples) };
  }
  const ds = await loadGestureDataset(dir, { split });
  const users = o.users;
  const infos = ds.samples.filter((s) => (users ? users(s.user) : true));
  const kept = infos.slice(skip, Math.min(infos.length, skip + limit));
  return {
    kind: 'dvs-gesture',
    dir,
    classes: GESTURE_CLASSES,
    geometry: GESTURE_GEOMETRY,
    size: kept.length,
    samples: from(kept.map((info) => gestureSample(info, { pacing, onBytesRead: o.onBytesRead }))),
  };
}
