import { confidence as confidenceOf } from '../../src/confidence/confidence';
import { shouldStop, type StopRule } from '../../src/confidence/decide';
import { calibratedConfidence, type StepCalibration } from '../../src/confidence/step-calibration';
import type { SlotReadout } from '../../src/snn/runner';
import type { Decision, Frame, StepResult, StopReason } from '../types';

/** θ, the stop rule, α, τ, the step scales and T in force for a run (the model's, or overrides). */
export interface DecisionParams {
  readonly theta: number;
  readonly stopRule: StopRule;
  readonly alpha: number;
  readonly tau: number;
  /** Step scales of the calibrated confidence (required by the 'calibrated' rule). */
  readonly calibration?: StepCalibration;
  readonly maxSteps: number;
  readonly classes: readonly string[];
}

/**
 * One step's result: the readout of `frame`'s step, the paper's c_t = max softmax(O_t/(α·τ)) and
 * the confidence shown — the calibrated q_t = max softmax(O_t/s_t) under the 'calibrated' rule,
 * c_t under the 'paper' rule.
 */
export function stepResult(frame: Frame, readout: SlotReadout, p: Pick<DecisionParams, 'alpha' | 'tau' | 'stopRule' | 'calibration'>): StepResult {
  const c = confidenceOf(readout.output, p.alpha, p.tau);
  const shown = p.stopRule === 'calibrated' ? calibratedConfidence(readout.output, frame.step, requireCalibration(p.calibration)).confidence : c.confidence;
  return {
    sampleId: frame.sampleId,
    streamId: frame.streamId,
    step: frame.step,
    output: readout.output,
    confidence: shown,
    paperConfidence: c.confidence,
    predicted: c.predicted,
    spikes: readout.spikes,
    spikesPerNeuron: readout.spikesPerNeuron,
    frame: { tStart: frame.tStart, tEnd: frame.tEnd, eventCount: frame.eventCount, closedBy: frame.closedBy },
  };
}

function requireCalibration(cal: StepCalibration | undefined): StepCalibration {
  if (!cal) throw new Error("the 'calibrated' stop rule needs the model's step calibration (calibration.modes[mode].confidence)");
  return cal;
}

/**
 * Dynamic Confidence's rule for one step, the only place it is applied to a stream: stop early
 * when the confidence passes θ (q_t ≥ θ, or the paper's c_t > θ) before the sample's last step; otherwise stop at the wall-time limit, at T, or at
 * the frame that ended the sample's window or stream. Undefined: run the next step.
 */
export function stopReason(r: StepResult, p: Pick<DecisionParams, 'theta' | 'maxSteps' | 'stopRule'>, wallLimited: boolean): StopReason | undefined {
  const closedBy = r.frame.closedBy;
  const lastStep = r.step + 1 >= p.maxSteps || closedBy === 'window-end' || closedBy === 'stream-end';
  if (!lastStep && shouldStop(r.confidence, p.theta, p.stopRule)) return 'confidence';
  if (wallLimited) return 'wall-limit';
  if (!lastStep) return undefined;
  if (r.step + 1 >= p.maxSteps) return 'max-steps';
  return closedBy === 'window-end' ? 'window-end' : 'stream-end';
}

/** What a decision needs to know about its sample. */
export interface DecidedSample {
  readonly id: string;
  readonly streamId: string;
  readonly label?: number;
  readonly tStart: number;
}

/** The one `Decision` builder: the answer at step `r`, stopped for `stoppedBy`. */
export function buildDecision(
  sample: DecidedSample,
  r: StepResult,
  p: DecisionParams,
  stoppedBy: StopReason,
  cost: { readonly eventsConsumed: number; readonly latencyMs: number },
): Decision {
  return {
    streamId: sample.streamId,
    sampleId: sample.id,
    label: r.predicted,
    className: p.classes[r.predicted] ?? `class ${r.predicted}`,
    confidence: r.confidence,
    paperConfidence: r.paperConfidence,
    stopRule: p.stopRule,
    confident: shouldStop(r.confidence, p.theta, p.stopRule),
    steps: r.step + 1,
    maxSteps: p.maxSteps,
    early: stoppedBy === 'confidence',
    stoppedBy,
    sampleStartUs: sample.tStart,
    eventTimeUs: r.frame.tEnd,
    latencyMs: cost.latencyMs,
    eventsConsumed: cost.eventsConsumed,
    spikesPerNeuron: r.spikesPerNeuron,
    ...(sample.label !== undefined ? { trueLabel: sample.label } : {}),
  };
}
