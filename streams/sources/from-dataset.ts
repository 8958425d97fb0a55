import { Observable } from 'rxjs';
import { loadGestureDataset, readSample, type GestureSampleInfo } from '../../src/datasets/dvs-gesture';
import type { Sample } from '../types';
import { sourceFromIterator } from '../core/event-source';
import { paceBatches } from './from-event-file';
import { ASAP, type Pacing } from './pacing';

const DVS128 = { width: 128, height: 128 } as const;

export interface FromDatasetOptions {
  split?: 'train' | 'test' | 'all';
  /** Replay pacing of each sample's events (default: as fast as possible). */
  pacing?: Pacing;
  /** Counts bytes read from disk (tests use it to prove that skipped windows are never read). */
  onBytesRead?(n: number): void;
}

/** One dataset sample as a `Sample` whose events are read (by seeking) only when subscribed. */
export function gestureSample(info: GestureSampleInfo, options: Pick<FromDatasetOptions, 'pacing' | 'onBytesRead'> = {}): Sample {
  const pacing = options.pacing ?? ASAP;
  return {
    id: info.id,
    streamId: info.file,
    label: info.label,
    tStart: info.tStart,
    tEnd: info.tEnd,
    geometry: DVS128,
    events: sourceFromIterator(() => paceBatches(readSample(info, { onBytesRead: options.onBytesRead }), pacing)[Symbol.asyncIterator]()),
  };
}

/**
 * The samples of a DVS128-Gesture-layout folder, in file then label-row order. Emitting a
 * Sample reads nothing: its events are read when (and only as far as) they are consumed.
 */
export function fromDataset(dir: string, options: FromDatasetOptions = {}): Observable<Sample> {
  return new Observable<Sample>((subscriber) => {
    let stopped = false;
    loadGestureDataset(dir, { split: options.split ?? 'all' })
      .then((ds) => {
        for (const info of ds.samples) {
          if (stopped) return;
          subscriber.next(gestureSample(info, options));
        }
        subscriber.complete();
      })
      .catch((err: unknown) => {
        if (!stopped) subscriber.error(err);
      });
    return () => {
      stopped = true;
    };
  });
}
