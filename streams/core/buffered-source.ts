import type { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { BoundedEventQueue, type OverflowPolicy } from './bounded-queue';
import { pullFromIterator, type EventSource } from './event-source';
import { DEFAULT_QUEUE_CAPACITY_EVENTS, DEFAULT_QUEUE_OVERFLOW } from '../../src/defaults';

export interface BufferOptions {
  /** Most events held between the push source and the pull (default 2^20). */
  readonly capacityEvents?: number;
  /** When full (default 'drop-oldest': live inference wants the present). */
  readonly overflow?: OverflowPolicy;
  /** Called with every drop (counted: nothing is lost silently). */
  readonly onDrop?: (events: number) => void;
}

/**
 * The explicit bridge from a push Observable (a live stream, a filter chain) to a pulled
 * source: each `open` subscribes and fills a bounded queue whose size and overflow policy are
 * stated, and whose drops are counted. Aborting the pull unsubscribes and discards the queue.
 */
export function bufferedSource(events: Observable<EventBatch>, o: BufferOptions = {}): EventSource {
  return {
    open(signal) {
      const queue = new BoundedEventQueue({
        capacityEvents: o.capacityEvents ?? DEFAULT_QUEUE_CAPACITY_EVENTS,
        overflow: o.overflow ?? DEFAULT_QUEUE_OVERFLOW,
        onDrop: (n, why) => {
          if (why !== 'closed') o.onDrop?.(n);
        },
      });
      const sub = events.subscribe({
        next: (b) => queue.push(b),
        error: (err: unknown) => queue.fail(err),
        complete: () => queue.complete(),
      });
      signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
      return pullFromIterator(queue[Symbol.asyncIterator](), signal);
    },
  };
}
