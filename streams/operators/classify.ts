import { mergeMap, Observable, type OperatorFunction } from 'rxjs';
import { runSample, type EngineOptions } from '../core/engine';
import type { Decision, Sample } from '../types';

export interface ClassifyOptions extends EngineOptions {
  /** Samples classified at once (default: the runner's slot count); their steps share batched runner calls. */
  readonly concurrency?: number;
}

/** The abort reason of an unsubscribed sample (a constant: `abort()` alone builds a DOMException each time). */
const UNSUBSCRIBED = Object.freeze({ reason: 'unsubscribed' });

/** One sample's decision as an Observable: subscribing runs the engine, unsubscribing aborts it (its pull and slot are freed at once). */
export function classifySample(sample: Sample, o: EngineOptions): Observable<Decision> {
  return new Observable<Decision>((subscriber) => {
    const control = new AbortController();
    let over = false;
    runSample(sample, o, control.signal).then(
      (d) => {
        if (control.signal.aborted) return;
        over = true;
        if (d) subscriber.next(d);
        subscriber.complete();
      },
      (err: unknown) => {
        if (control.signal.aborted) return;
        over = true;
        subscriber.error(err);
      },
    );
    // The engine has freed everything once it settled: abort only a sample still running.
    return () => {
      if (!over) control.abort(UNSUBSCRIBED);
    };
  });
}

/**
 * Samples in, one decision per sample out, in the order they are decided. Each sample runs in
 * the per-sample engine (streams/core/engine.ts): events pulled only as far as the next frame
 * needs, SNN steps batched with every other running sample, Dynamic Confidence's stop rule, the
 * one Decision builder. A sample that yields no frame gives no decision. Unsubscribing aborts
 * every running sample: pending pulls settle at once and slots are freed in the same turn.
 */
export function classify(o: ClassifyOptions): OperatorFunction<Sample, Decision> {
  const concurrency = o.concurrency ?? o.scheduler.runner.capacity;
  return (samples) => samples.pipe(mergeMap((sample) => classifySample(sample, o), concurrency));
}
