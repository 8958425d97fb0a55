import type { Observable } from 'rxjs';

export interface PushBufferStats {
  /** Values dropped because the consumer fell more than `maxBuffered` behind. */
  dropped: number;
}

/**
 * An async iterator over a push Observable: values are buffered up to `maxBuffered` (dropping
 * the oldest beyond that and counting the drops; Infinity keeps all, for a consumer paced by its
 * own backpressure such as a socket). `return()` unsubscribes. For event batches prefer
 * `bufferedSource` (a bounded queue counted in events).
 */
export function toPulledIterator<T>(source: Observable<T>, opts: { maxBuffered?: number; stats?: PushBufferStats } = {}): AsyncIterator<T> {
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
      // A next() waiting for a value settles at once.
      wake?.();
      return { done: true, value: undefined };
    },
  };
}
