/**
 * The per-step trace every transport publishes to `?trace=1` subscribers (the viewer's chart and
 * bars), built here and nowhere else: what the engine's `StepResult` says, plus the class
 * probabilities whose maximum is the step's shown confidence — softmax(O_t/s_t) with the
 * calibrated step scale s_t (stop rule 'calibrated'), or softmax(O_t/(α·τ)) (rule 'paper') —
 * rounded to 4 decimals to keep the message small.
 */
import { softmax } from '../../src/confidence/confidence';
import type { StopRule } from '../../src/confidence/decide';
import { stepScale, type StepCalibration } from '../../src/confidence/step-calibration';
import type { StepResult, StepTrace } from '../types';

export interface ServiceStepTrace extends StepTrace {
  /** Sensor time (µs) of the step's frame end. */
  readonly eventTimeUs: number;
  /** Events binned into the step's frame. */
  readonly eventCount: number;
  /** The class probabilities, one per class (4 decimals); their maximum is `confidence`. */
  readonly probabilities: number[];
  /** The paper's c_t. */
  readonly paperConfidence: number;
}

/** What the trace needs to know of the model's confidence (a `ClassifierModel` has it). */
export interface TraceConfidence {
  readonly alpha: number;
  readonly tau: number;
  readonly stopRule: StopRule;
  readonly calibration?: StepCalibration;
}

export function stepTrace(r: StepResult & { readonly streamId: string }, m: TraceConfidence): ServiceStepTrace {
  const p = m.stopRule === 'calibrated' && m.calibration ? softmax(r.output, stepScale(m.calibration, r.step), 1) : softmax(r.output, m.alpha, m.tau);
  const probabilities = new Array<number>(p.length);
  for (let k = 0; k < p.length; k++) probabilities[k] = Math.round(p[k] * 1e4) / 1e4;
  return {
    streamId: r.streamId,
    sampleId: r.sampleId,
    step: r.step,
    confidence: r.confidence,
    paperConfidence: r.paperConfidence,
    predicted: r.predicted,
    eventTimeUs: r.frame.tEnd,
    eventCount: r.frame.eventCount,
    probabilities,
  };
}
