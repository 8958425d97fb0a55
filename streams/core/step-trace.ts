/**
 * The per-step trace every transport publishes to `?trace=1` subscribers (the viewer's chart and
 * bars), built here and nowhere else: what the engine's `StepResult` says, plus the class probabilities softmax(O_t/(α·τ))
 * whose maximum is c_t, rounded to 4 decimals to keep the message small.
 */
import { softmax } from '../../src/confidence/confidence';
import type { StepResult, StepTrace } from '../types';

export interface ServiceStepTrace extends StepTrace {
  /** Sensor time (µs) of the step's frame end. */
  readonly eventTimeUs: number;
  /** Events binned into the step's frame. */
  readonly eventCount: number;
  /** softmax(O_t/(α·τ)), one per class (4 decimals). */
  readonly probabilities: number[];
}

/** What the trace needs of the model: its α and τ (a `ClassifierModel` has them). */
export interface TraceModel {
  readonly alpha: number;
  readonly tau: number;
}

export function stepTrace(r: StepResult & { readonly streamId: string }, model: TraceModel): ServiceStepTrace {
  const p = softmax(r.output, model.alpha, model.tau);
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
