import type { Observable } from 'rxjs';
import { eventsOf, sourceFromIterator, type EventSource } from '../core/event-source';
import { sliceByIndex, lowerBoundTime, type EventBatch } from '../../src/events/event-batch';
import { readEventFile, type ReadEventFileOptions } from 'aedat-parser-ts/node';
import { ASAP, PACED_SLICE_US, Pacer, type Pacing } from './pacing';

export interface FromEventFileOptions extends ReadEventFileOptions {
  /** Replay pacing (default: as fast as possible). */
  pacing?: Pacing;
}

/** Splits a batch into slices no longer than `sliceUs` of sensor time, then waits for each slice's due time. */
export async function* paceBatches(source: AsyncIterable<EventBatch>, pacing: Pacing | Pacer): AsyncGenerator<EventBatch, void, undefined> {
  // A shared Pacer keeps several readers (one per label window) on one clock.
  const pacer = pacing instanceof Pacer ? pacing : new Pacer(pacing);
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
 * A recorded file as a pulled source: each `open` starts a reader that reads a chunk only when
 * the consumer pulls, and aborting closes the file. This is what the classifier consumes.
 */
export function eventFileSource(file: string, options: FromEventFileOptions = {}): EventSource {
  const pacing = options.pacing ?? ASAP;
  return sourceFromIterator(() => paceBatches(readEventFile(file, options), pacing)[Symbol.asyncIterator]());
}

/**
 * Events of a recorded file as an Observable of EventBatch (the RxJS face of `eventFileSource`):
 * the next chunk is read only after the subscriber took the previous batch; unsubscribing
 * closes the file.
 */
export function fromEventFile(file: string, options: FromEventFileOptions = {}): Observable<EventBatch> {
  return eventsOf(eventFileSource(file, options));
}
