/**
 * A bounded queue of event batches between a live producer (a sensor socket) and the
 * pipeline, in the spirit of Metavision's camera → consumer queue: its size is explicit (in
 * events, because batch sizes vary), its overflow policy is explicit, and every dropped event
 * is counted.
 *
 * Overflow policies, when a pushed batch does not fit in the free space:
 * - 'drop-oldest': the oldest queued events are evicted (whole batches first, then a prefix of
 *   the head batch) until the new batch fits; a batch larger than the whole capacity keeps only
 *   its newest `capacityEvents` events. Good for live inference: the pipeline sees the present.
 * - 'drop-newest': the incoming events that do not fit are dropped (the part that fits, its
 *   oldest events, is kept). Good when history matters more than latency.
 * - 'error': nothing of the batch is enqueued, and the queue fails with `QueueOverflowError`
 *   once the events already queued have been pulled; later pushes are refused and counted.
 *
 * Consumers pull: `pull()` synchronously, `next()` / `for await` asynchronously, or
 * `fromBoundedQueue(queue)` as an Observable that emits a few batches per event-loop turn so
 * the producer's I/O interleaves with a synchronous consumer.
 */
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import { type EventBatch, sliceByIndex } from '../../src/events/event-batch';
import { DEFAULT_BATCHES_PER_TURN, DEFAULT_QUEUE_OVERFLOW } from '../../src/defaults';

export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'error';
export type QueueDropKind = 'overflow' | 'closed' | 'discarded';

export interface BoundedQueueOptions {
  /** Most events held at once (> 0). */
  capacityEvents: number;
  /** What to do when a batch does not fit (default 'drop-oldest'). */
  overflow?: OverflowPolicy;
  /**
   * Called each time events are dropped: 'overflow' by the policy, 'closed' when pushed after
   * complete/fail, 'discarded' when thrown away unconsumed by `discard()`.
   */
  onDrop?: (events: number, why: QueueDropKind) => void;
}

export class QueueOverflowError extends Error {
  override readonly name = 'QueueOverflowError';
  constructor(
    readonly capacityEvents: number,
    readonly queuedEvents: number,
    readonly incomingEvents: number,
  ) {
    super(`bounded queue overflow: ${incomingEvents} events do not fit (${queuedEvents} of ${capacityEvents} queued)`);
  }
}

export interface BoundedQueueStats {
  /** Events accepted into the queue (after any partial drop). */
  enqueuedEvents: number;
  enqueuedBatches: number;
  /** Events dropped: by the overflow policy, pushed after the queue closed, or discarded unconsumed. */
  droppedEvents: number;
  /** Events handed to the consumer. */
  dequeuedEvents: number;
  /** Events and batches currently queued. */
  sizeEvents: number;
  sizeBatches: number;
  /** Largest `sizeEvents` seen. */
  peakEvents: number;
}

export class BoundedEventQueue implements AsyncIterable<EventBatch> {
  readonly capacityEvents: number;
  readonly overflow: OverflowPolicy;
  private readonly onDrop: ((events: number, why: QueueDropKind) => void) | undefined;
  private items: EventBatch[] = [];
  private head = 0;
  private size = 0;
  private done = false;
  private failure: unknown = undefined;
  private failed = false;
  private waiters: { resolve: (r: IteratorResult<EventBatch>) => void; reject: (e: unknown) => void }[] = [];
  private listeners: (() => void)[] = [];
  private readonly counters = { enqueuedEvents: 0, enqueuedBatches: 0, droppedEvents: 0, dequeuedEvents: 0, peakEvents: 0 };

  constructor(opts: BoundedQueueOptions) {
    if (!Number.isInteger(opts.capacityEvents) || opts.capacityEvents < 1) {
      throw new RangeError(`BoundedEventQueue: capacityEvents must be a positive integer, got ${opts.capacityEvents}`);
    }
    const overflow = opts.overflow ?? DEFAULT_QUEUE_OVERFLOW;
    if (overflow !== 'drop-oldest' && overflow !== 'drop-newest' && overflow !== 'error') {
      throw new RangeError(`BoundedEventQueue: unknown overflow policy '${String(overflow)}'`);
    }
    this.capacityEvents = opts.capacityEvents;
    this.overflow = overflow;
    this.onDrop = opts.onDrop;
  }

  get stats(): BoundedQueueStats {
    return { ...this.counters, sizeEvents: this.size, sizeBatches: this.items.length - this.head };
  }

  get sizeEvents(): number {
    return this.size;
  }

  get sizeBatches(): number {
    return this.items.length - this.head;
  }

  /** True once `complete` or `fail` was called (pushes are refused). */
  get closed(): boolean {
    return this.done || this.failed;
  }

  /** True once closed and fully drained (nothing more will come out). */
  get finished(): boolean {
    return this.closed && this.head === this.items.length;
  }

  /**
   * Offers a batch; returns how many of its events were enqueued. Never throws for overflow:
   * under 'error' the queue fails (the consumer sees the error) and 0 is returned.
   */
  push(batch: EventBatch): number {
    const n = batch.length;
    if (n === 0) return 0;
    if (this.closed) {
      this.drop(n, 'closed');
      return 0;
    }
    const cap = this.capacityEvents;
    let accepted = batch;
    if (this.size + n > cap) {
      switch (this.overflow) {
        case 'error':
          this.drop(n);
          this.fail(new QueueOverflowError(cap, this.size, n));
          return 0;
        case 'drop-newest': {
          const free = cap - this.size;
          this.drop(n - free);
          if (free === 0) return 0;
          accepted = sliceByIndex(batch, 0, free);
          break;
        }
        case 'drop-oldest': {
          if (n >= cap) {
            this.drop(this.size + (n - cap));
            this.clearItems();
            accepted = n === cap ? batch : sliceByIndex(batch, n - cap, n);
          } else {
            this.evictOldest(this.size + n - cap);
          }
          break;
        }
      }
    }
    this.items.push(accepted);
    this.size += accepted.length;
    this.counters.enqueuedEvents += accepted.length;
    this.counters.enqueuedBatches++;
    if (this.size > this.counters.peakEvents) this.counters.peakEvents = this.size;
    this.wake();
    return accepted.length;
  }

  /** The oldest batch, or undefined when empty (check `finished` / `error` to tell why). */
  pull(): EventBatch | undefined {
    if (this.head === this.items.length) return undefined;
    const b = this.items[this.head];
    this.items[this.head++] = undefined as unknown as EventBatch;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    this.size -= b.length;
    this.counters.dequeuedEvents += b.length;
    return b;
  }

  /** The error the queue failed with, once drained to it. */
  get error(): unknown {
    return this.failed ? this.failure : undefined;
  }

  /** No more pushes; the consumer gets what is queued, then the end. */
  complete(): void {
    if (this.closed) return;
    this.done = true;
    this.wake();
  }

  /** No more pushes; the consumer gets what is queued, then `err`. */
  fail(err: unknown): void {
    if (this.closed) return;
    this.failed = true;
    this.failure = err;
    this.wake();
  }

  /** Drops everything queued (counted) and completes: for consumers that went away. */
  discard(): void {
    if (this.size > 0) this.drop(this.size, 'discarded');
    this.clearItems();
    this.complete();
  }

  /** Calls `fn` whenever a batch arrives or the queue closes; returns the remover. */
  onReadable(fn: () => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  next(): Promise<IteratorResult<EventBatch>> {
    const b = this.pull();
    if (b !== undefined) return Promise.resolve({ value: b, done: false });
    if (this.failed) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  [Symbol.asyncIterator](): AsyncIterator<EventBatch> {
    return {
      next: () => this.next(),
      return: async () => {
        this.discard();
        return { value: undefined, done: true };
      },
    };
  }

  private drop(events: number, why: QueueDropKind = 'overflow'): void {
    if (events <= 0) return;
    this.counters.droppedEvents += events;
    this.onDrop?.(events, why);
  }

  private clearItems(): void {
    this.items = [];
    this.head = 0;
    this.size = 0;
  }

  private evictOldest(events: number): void {
    let left = events;
    while (left > 0 && this.head < this.items.length) {
      const b = this.items[this.head];
      if (b.length <= left) {
        left -= b.length;
        this.size -= b.length;
        this.items[this.head++] = undefined as unknown as EventBatch;
      } else {
        this.items[this.head] = sliceByIndex(b, left, b.length);
        this.size -= left;
        left = 0;
      }
    }
    this.drop(events - left);
  }

  private wake(): void {
    while (this.waiters.length > 0) {
      const b = this.pull();
      const w = this.waiters.shift()!;
      if (b !== undefined) w.resolve({ value: b, done: false });
      else if (this.failed) w.reject(this.failure);
      else if (this.done) w.resolve({ value: undefined, done: true });
      else {
        this.waiters.unshift(w);
        break;
      }
    }
    for (const fn of this.listeners.slice()) fn();
  }
}

export interface FromQueueOptions {
  /** Batches emitted per event-loop turn before yielding to I/O (default 4). */
  batchesPerTurn?: number;
  /** Unsubscribing discards what is queued (default true). */
  discardOnUnsubscribe?: boolean;
}

/**
 * An Observable that pulls from `queue`: each event-loop turn (setImmediate) it emits up to
 * `batchesPerTurn` batches, so a socket producing into the queue gets to run between them and a
 * consumer slower than the producer makes the queue, not memory, absorb the difference.
 * Completes or errors when the queue does, once drained. One subscriber at a time consumes.
 */
export function fromBoundedQueue(queue: BoundedEventQueue, opts: FromQueueOptions = {}): Observable<EventBatch> {
  const perTurn = Math.max(1, opts.batchesPerTurn ?? DEFAULT_BATCHES_PER_TURN);
  const discard = opts.discardOnUnsubscribe ?? true;
  return new Observable<EventBatch>((subscriber) => {
    let scheduled: NodeJS.Immediate | undefined;
    let stopped = false;
    const drain = (): void => {
      scheduled = undefined;
      for (let k = 0; k < perTurn && !stopped; k++) {
        const b = queue.pull();
        if (b === undefined) break;
        subscriber.next(b);
      }
      if (stopped) return;
      if (queue.sizeBatches > 0) schedule();
      else if (queue.finished) {
        stopped = true;
        if (queue.error !== undefined) subscriber.error(queue.error);
        else subscriber.complete();
      }
    };
    const schedule = (): void => {
      if (scheduled === undefined && !stopped) scheduled = setImmediate(drain);
    };
    const off = queue.onReadable(schedule);
    schedule();
    return () => {
      stopped = true;
      off();
      if (scheduled !== undefined) clearImmediate(scheduled);
      if (discard && !queue.finished) queue.discard();
    };
  });
}

/**
 * Operator form: subscribes to a push source at once and hands its batches to the subscriber
 * through a bounded queue (see the module comment for the policies). The source's error or
 * completion reaches the subscriber after the queued batches.
 */
export function boundedQueue(opts: BoundedQueueOptions & FromQueueOptions & { queue?: (q: BoundedEventQueue) => void }): MonoTypeOperatorFunction<EventBatch> {
  return (source) =>
    new Observable<EventBatch>((subscriber) => {
      const q = new BoundedEventQueue(opts);
      opts.queue?.(q);
      const inner = fromBoundedQueue(q, opts).subscribe(subscriber);
      const upstream = source.subscribe({
        next: (b) => q.push(b),
        error: (e) => q.fail(e),
        complete: () => q.complete(),
      });
      return () => {
        upstream.unsubscribe();
        inner.unsubscribe();
      };
    });
}
