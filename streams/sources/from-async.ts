import { Observable } from 'rxjs';
import { PULL, type Pullable } from './pull';

/**
 * An Observable over an async iterator that is pulled one value at a time: the next value is
 * requested only after the subscriber's `next` returned, and unsubscribing calls the
 * iterator's `return()` at once (closing files and sockets behind it).
 */
export function fromPulledIterator<T>(open: () => AsyncIterator<T>): Pullable<T> {
  const observable = new Observable<T>((subscriber) => {
    const it = open();
    let stopped = false;
    (async () => {
      try {
        while (!stopped) {
          const r = await it.next();
          if (stopped) return;
          if (r.done) {
            subscriber.complete();
            return;
          }
          subscriber.next(r.value);
        }
      } catch (err) {
        if (!stopped) subscriber.error(err);
      }
    })();
    return () => {
      stopped = true;
      // Fire and forget: return() waits for a pending read to finish, then closes.
      it.return?.(undefined)?.catch(() => undefined);
    };
  });
  return Object.assign(observable, { [PULL]: open });
}
