import { concatMap, from, Observable, type OperatorFunction } from 'rxjs';
import type { Frame, StepResult } from '../types';
import { stepResult } from './classify';
import type { SnnScheduler } from './snn-scheduler';

export interface SnnStepOptions {
  /** Output scale α and temperature τ of the confidence softmax(O_t / (α·τ)). */
  readonly alpha: number;
  readonly tau?: number;
}

/**
 * The frames of ONE sample → its step results. On subscription the sample takes a slot of the
 * shared runner (waiting for one if all are taken); each frame is stepped in the scheduler's
 * next batched call, together with the frames of every other running sample; the slot is freed
 * when the frames complete or the consumer unsubscribes (e.g. `decide` has answered).
 *
 * Composable form of what `classify` does; `classify` additionally pulls events lazily, so it
 * never builds a frame past the deciding one even when their events are already in memory.
 */
export function snnStep(scheduler: SnnScheduler, o: SnnStepOptions): OperatorFunction<Frame, StepResult> {
  const tau = o.tau ?? 1;
  return (frames) =>
    new Observable<StepResult>((subscriber) => {
      let slot: number | undefined;
      let closed = false;
      const admitted = scheduler.admit().then((s) => {
        if (closed) scheduler.release(s);
        else slot = s;
        return s;
      });
      const sub = frames
        .pipe(
          concatMap((frame) =>
            from(
              admitted.then(async (s) => stepResult(frame, await scheduler.step(s, frame.data), o.alpha, tau)),
            ),
          ),
        )
        .subscribe(subscriber);
      return () => {
        closed = true;
        sub.unsubscribe();
        // A step may still be in flight: release once it has been delivered or dropped.
        if (slot !== undefined) {
          const s = slot;
          slot = undefined;
          setImmediate(() => scheduler.release(s));
        }
      };
    });
}
