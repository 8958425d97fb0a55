import * as fs from 'fs';
import * as path from 'path';
import { EventBatchBuilder, type EventBatch } from '../../src/events/event-batch';
import { encodeAedat31 } from 'aedat-parser-ts';

/** Events every ~`gap` µs over [t0, t1) at random DVS128 pixels, deterministic per seed. */
export function randomRecording(t0: number, t1: number, gap: number, seed: number): EventBatch {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const b = new EventBatchBuilder(Math.ceil((t1 - t0) / gap));
  for (let t = t0; t < t1; t += 1 + Math.floor(rnd() * 2 * gap)) b.push(Math.floor(rnd() * 128), Math.floor(rnd() * 128), rnd() < 0.5 ? 1 : 0, t);
  return b.take();
}

export interface FixtureTrial {
  name: string;
  events: EventBatch;
  /** [class 1–11, start µs, end µs] label rows, in file order. */
  rows: [number, number, number][];
  split: 'train' | 'test';
}

/** Writes a DVS128-Gesture-layout folder (AEDAT 3.1 + labels CSV + trials lists) with our writer. */
export function writeGestureFolder(dir: string, trials: readonly FixtureTrial[]): void {
  for (const t of trials) {
    fs.writeFileSync(path.join(dir, `${t.name}.aedat`), encodeAedat31(t.events, { geometry: { width: 128, height: 128 } }));
    const csv = ['class,startTime_usec,endTime_usec', ...t.rows.map((r) => r.join(','))].join('\n') + '\n';
    fs.writeFileSync(path.join(dir, `${t.name}_labels.csv`), csv);
  }
  const list = (split: 'train' | 'test') => trials.filter((t) => t.split === split).map((t) => `${t.name}.aedat\r\n`).join('');
  fs.writeFileSync(path.join(dir, 'trials_to_train.txt'), list('train'));
  fs.writeFileSync(path.join(dir, 'trials_to_test.txt'), list('test'));
}
