import { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import type { EventPull, EventSource, PullSettlement } from '../types';

export type { EventPull, EventSource, PullSettlement } from '../types';

const DONE: IteratorResult<EventBatch, undefined> = { done: true, value: undefined };

/** What `raceAbort` resolves with when the signal won. */
export const ABORTED: unique symbol = Symbol('aborted');

/**
 * The pending races of each signal. A signal gets ONE abort listener, the first time it is raced
 * (and it goes with the signal); each race is then a Set entry, not an EventTarget listener added
 * and removed per pull (Node's EventTarget costs microseconds per call: per batch and per step
 * it showed in the service's profile).
 */
const racesOf = new WeakMap<AbortSignal, Set<(v: typeof ABORTED) => void>>();

function races(signal: AbortSignal): Set<(v: typeof ABORTED) => void> {
  let set = racesOf.get(signal);
  if (set === undefined) {
    const pending = new Set<(v: typeof ABORTED) => void>();
    signal.addEventListener(
      'abort',
      () => {
        for (const settle of pending) settle(ABORTED);
        pending.clear();
      },
      { once: true },
    );
    racesOf.set(signal, pending);
    set = pending;
  }
  return set;
}

/**
 * `promise`, or ABORTED as soon as `signal` aborts. A race leaves nothing behind when its promise
 * settles, so racing on a long-lived signal millions of times leaks nothing.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof ABORTED> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(ABORTED);
  }
  const pending = races(signal);
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    pending.add(resolve);
    promise.then(
      (v) => {
        pending.delete(resolve);
        resolve(v);
      },
      (err: unknown) => {
        pending.delete(resolve);
        reject(err);
      },
    );
  });
}

/**
 * `pending`, or 'idle' when it has not settled within `idleMs` of wall time (never, when
 * undefined), or ABORTED as soon as `signal` aborts. `pending` itself runs on: a caller keeps it
 * for its next call, so nothing it delivers is lost. The idle timer is always cleared.
 */
export async function raceIdleAbort<T>(pending: Promise<T>, signal: AbortSignal, idleMs?: number): Promise<T | 'idle' | typeof ABORTED> {
  if (idleMs === undefined) return raceAbort(pending, signal);
  let timer: NodeJS.Timeout | undefined;
  const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), idleMs)));
  try {
    return await raceAbort(Promise.race([pending, idle]), signal);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads of an async iterator that an idle limit or an abort may cut short: the read they leave
 * pending is taken up by the next call, so no value is lost (`raceIdleAbort`).
 */
export class KeptRead<T, R = unknown> {
  private pending: Promise<IteratorResult<T, R>> | undefined;

  constructor(private readonly read: () => Promise<IteratorResult<T, R>>) {}

  /** The next result, 'idle' after `idleMs` without one, or ABORTED once `signal` aborts. */
  async next(signal: AbortSignal, idleMs?: number): Promise<IteratorResult<T, R> | 'idle' | typeof ABORTED> {
    this.pending ??= this.read();
    const got = await raceIdleAbort(this.pending, signal, idleMs);
    if (got !== 'idle' && got !== ABORTED) this.pending = undefined;
    return got;
  }
}

/**
 * An `EventPull` over an async iterator: a pending `next()` races the signal, and aborting calls
 * the iterator's `return()` (a pending read finishes in the background, then the file closes).
 * `onSettle` receives the consumer's hand-back (sources that can use it: live segmenters).
 */
export function pullFromIterator(iterator: AsyncIterator<EventBatch>, signal: AbortSignal, onSettle?: (s: PullSettlement) => void): EventPull {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    iterator.return?.(undefined)?.then(undefined, () => undefined);
  };
  if (signal.aborted) close();
  else signal.addEventListener('abort', close, { once: true });
  let settled = false;
  return {
    async next() {
      if (closed) return DONE;
      const r = await raceAbort(iterator.next(), signal);
      if (r === ABORTED || closed) return DONE;
      if (r.done) {
        closed = true;
        signal.removeEventListener('abort', close);
        return DONE;
      }
      return { done: false, value: r.value };
    },
    settle(s) {
      if (settled) return;
      settled = true;
      onSettle?.(s);
    },
  };
}

/** An `EventSource` whose every `open` starts a fresh iterator (files, dataset windows, arrays). */
export function sourceFromIterator(openIterator: () => AsyncIterator<EventBatch>): EventSource {
  return { open: (signal) => pullFromIterator(openIterator(), signal) };
}

/** A source over batches already in memory (tests, examples, decoded buffers). */
export function sourceFromBatches(batches: readonly EventBatch[]): EventSource {
  return sourceFromIterator(() => {
    let i = 0;
    return { next: async () => (i < batches.length ? { done: false, value: batches[i++] } : DONE) };
  });
}

/**
 * A source as an Observable: subscribing opens a pull and emits each batch as it is pulled, the
 * next one only after the subscriber's `next` returned; unsubscribing aborts the pull at once.
 * The pull is settled (every emitted batch counts as used; unsubscribing early counts as a
 * decision), so a live segmenter goes on to its next sample.
 */
export function eventsOf(source: EventSource): Observable<EventBatch> {
  return new Observable<EventBatch>((subscriber) => {
    const controller = new AbortController();
    const pull = source.open(controller.signal);
    let finished = false;
    (async () => {
      for (;;) {
        const r = await pull.next();
        if (controller.signal.aborted) return;
        if (r.done) {
          finished = true;
          pull.settle({ unconsumed: 0, early: false });
          subscriber.complete();
          return;
        }
        subscriber.next(r.value);
      }
    })().catch((err: unknown) => {
      if (!controller.signal.aborted) subscriber.error(err);
    });
    return () => {
      // Unsubscribed before the end: the consumer stopped by its own choice (every batch emitted was used).
      if (!finished) pull.settle({ unconsumed: 0, early: true });
      controller.abort();
    };
  });
}

/** A source whose pulls pass every batch through `transform` (built once per pull: stateful filters get fresh state); empty results are skipped. */
export function mapSource(source: EventSource, makeTransform: () => (batch: EventBatch) => EventBatch): EventSource {
  return {
    open(signal) {
      const inner = source.open(signal);
      const transform = makeTransform();
      return {
        async next() {
          for (;;) {
            const r = await inner.next();
            if (r.done) return r;
            const out = transform(r.value);
            if (out.length > 0) return { done: false, value: out };
          }
        },
        // Counts refer to the transformed batches, which the inner source cannot map back: hand back nothing.
        settle: (s) => inner.settle({ unconsumed: 0, early: s.early }),
      };
    },
  };
}
