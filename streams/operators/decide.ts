import { Observable, type OperatorFunction } from 'rxjs';
import { shouldStop } from '../../src/confidence/decide';
import type { Decision } from '../sinks/decision';
import type { StepResult } from '../types';

export interface DecideOptions {
  /** Threshold θ: stop at the first step with confidence > θ (strict). */
  readonly theta: number;
  /** T: the decision is taken at step T at the latest. */
  readonly maxSteps: number;
  readonly classes: readonly string[];
  /** Ground truth, copied into the decision when known. */
  readonly trueLabel?: number;
}

/**
 * Dynamic Confidence's decision rule as an operator: step results of ONE sample in, exactly one
 * `Decision` out — at the first step whose confidence exceeds θ, at step T, or at the last step
 * the sample had — and then it completes, which unsubscribes upstream: the SNN slot is freed and
 * no further frame of the sample is binned.
 */
export function decide(o: DecideOptions): OperatorFunction<StepResult, Decision> {
  return (results) =>
    new Observable<Decision>((subscriber) => {
      let last: { r: StepResult; at: number } | undefined;
      const emit = (r: StepResult, at: number, early: boolean) => {
        subscriber.next({
          streamId: r.streamId,
          sampleId: r.sampleId,
          label: r.predicted,
          className: o.classes[r.predicted] ?? `class ${r.predicted}`,
          confidence: r.confidence,
          steps: r.step + 1,
          maxSteps: o.maxSteps,
          early,
          eventTimeUs: r.frame.tEnd,
          latencyMs: performance.now() - at,
          ...(o.trueLabel !== undefined ? { trueLabel: o.trueLabel } : {}),
        });
        subscriber.complete();
      };
      const sub = results.subscribe({
        next: (r) => {
          const at = performance.now();
          last = { r, at };
          const final = r.step + 1 >= o.maxSteps || r.frame.closedBy === 'window-end' || r.frame.closedBy === 'stream-end';
          if (shouldStop(r.confidence, o.theta)) emit(r, at, !final);
          else if (final) emit(r, at, false);
        },
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          if (!subscriber.closed && last) emit(last.r, last.at, false);
          else subscriber.complete();
        },
      });
      return () => sub.unsubscribe();
    });
}
