import { Observable } from 'rxjs';

/**
 * Observables made by `fromPulledIterator` carry the iterator factory under this key, so a
 * consumer that works at its own pace (the classifier) can pull events straight from the
 * source instead of subscribing: a recorded file is then read exactly as far as it is needed.
 */
export const PULL = Symbol.for('spikestream.pull');

export type Pullable<T> = Observable<T> & { readonly [PULL]: () => AsyncIterator<T> };

export function isPullable<T>(o: Observable<T>): o is Pullable<T> {
  return typeof (o as Partial<Pullable<T>>)[PULL] === 'function';
}

export interface PushBufferStats {
  /** Values dropped because the consumer fell more than `maxBuffered` behind. */
  dropped: number;
}

/**
 * An async iterator over any Observable. Pullable sources are pulled directly; push sources
 * (live streams) are buffered up to `maxBuffered` values, dropping the oldest beyond that and
 * counting the drops. `return()` unsubscribes.
 */
export function toPulledIterator<T>(source: Observable<T>, opts: { maxBuffered?: number; stats?: PushBufferStats } = {}): AsyncIterator<T> {
  if (isPullable(source)) return source[PULL]();
  const max = opts.maxBuffered ?? 4096;
  // A queue as an array plus a head index: Array.shift() is O(n) and buffers can hold thousands of batches.
  let buffer: T[] = [];
  let head = 0;
  const size = () => buffer.length - head;
  const take = (): T => {
    const v = buffer[head++];
    if (head > 1024 && head * 2 > buffer.length) {
      buffer = buffer.slice(head);
      head = 0;
    }
    return v;
  };
  let done = false;
  let failure: { err: unknown } | undefined;
  let wake: (() => void) | undefined;
  const sub = source.subscribe({
    next: (v) => {
      buffer.push(v);
      if (size() > max) {
        take();
        if (opts.stats) opts.stats.dropped++;
      }
      wake?.();
    },
    error: (err: unknown) => {
      failure = { err };
      wake?.();
    },
    complete: () => {
      done = true;
      wake?.();
    },
  });
  return {
    async next(): Promise<IteratorResult<T>> {
      for (;;) {
        if (size() > 0) return { done: false, value: take() };
        if (failure) throw failure.err;
        if (done) return { done: true, value: undefined };
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    async return(): Promise<IteratorResult<T>> {
      sub.unsubscribe();
      done = true;
      buffer = [];
      head = 0;
      return { done: true, value: undefined };
    },
  };
}
