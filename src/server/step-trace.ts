/**
 * The per-step trace the service publishes to `?trace=1` subscribers (the viewer's chart and
 * bars): what the engine's `StepResult` says, plus the class probabilities softmax(O_t/(α·τ))
 * whose maximum is c_t, rounded to 4 decimals to keep the message small.
 */
import { softmax } from '../confidence/confidence';
import type { StepResult, StepTrace } from '../../streams/types';

export interface ServiceStepTrace extends StepTrace {
  /** Sensor time (µs) of the step's frame end. */
  readonly eventTimeUs: number;
  /** Events binned into the step's frame. */
  readonly eventCount: number;
  /** softmax(O_t/(α·τ)), one per class (4 decimals). */
  readonly probabilities: number[];
}

export function stepTrace(r: StepResult & { readonly streamId: string }, alpha: number, tau: number): ServiceStepTrace {
  const p = softmax(r.output, alpha, tau);
  const probabilities = new Array<number>(p.length);
  for (let k = 0; k < p.length; k++) probabilities[k] = Math.round(p[k] * 1e4) / 1e4;
  return {
    streamId: r.streamId,
    sampleId: r.sampleId,
    step: r.step,
    confidence: r.confidence,
    predicted: r.predicted,
    eventTimeUs: r.frame.tEnd,
    eventCount: r.frame.eventCount,
    probabilities,
  };
}
