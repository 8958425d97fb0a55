import type { Observable } from 'rxjs';
import { sliceByIndex, lowerBoundTime, type EventBatch } from '../../src/events/event-batch';
import { readEventFile, type ReadEventFileOptions } from '../../src/formats/read-file';
import { fromPulledIterator } from './from-async';
import { ASAP, PACED_SLICE_US, Pacer, type Pacing } from './pacing';

export interface FromEventFileOptions extends ReadEventFileOptions {
  /** Replay pacing (default: as fast as possible). */
  pacing?: Pacing;
}

/** Splits a batch into slices no longer than `sliceUs` of sensor time, then waits for each slice's due time. */
export async function* paceBatches(source: AsyncIterable<EventBatch>, pacing: Pacing): AsyncGenerator<EventBatch, void, undefined> {
  const pacer = new Pacer(pacing);
  for await (const batch of source) {
    if (!pacer.paced) {
      yield batch;
      continue;
    }
    let from = 0;
    while (from < batch.length) {
      const to = Math.max(from + 1, lowerBoundTime(batch, batch.t[from] + PACED_SLICE_US));
      await pacer.wait(batch.t[from]);
      yield sliceByIndex(batch, from, to);
      from = to;
    }
  }
}

/**
 * Events of a recorded file as an Observable of EventBatch. Pulled: at most one chunk is
 * read ahead of the consumer; unsubscribing closes the file.
 */
export function fromEventFile(file: string, options: FromEventFileOptions = {}): Observable<EventBatch> {
  const pacing = options.pacing ?? ASAP;
  return fromPulledIterator(() => paceBatches(readEventFile(file, options), pacing)[Symbol.asyncIterator]());
}
