/**
 * What the pipeline publishes: one `Decision` per sample (DESIGN.md §2) and, optionally, one
 * `StepTrace` per SNN step. Both are plain JSON-serialisable objects.
 */

export interface Decision {
  readonly streamId: string;
  readonly sampleId: string;
  /** Predicted class index (0-based). */
  readonly label: number;
  readonly className: string;
  /** Confidence of the prediction at the deciding step (0…1). */
  readonly confidence: number;
  /** SNN steps used (1…maxSteps). */
  readonly steps: number;
  readonly maxSteps: number;
  /** True when the confidence crossed θ before maxSteps. */
  readonly early: boolean;
  /** Sensor time (µs) of the decision: the end of the deciding frame. */
  readonly eventTimeUs: number;
  /** Wall-clock latency from the deciding frame's last event to the decision (ms). */
  readonly latencyMs: number;
  /** Ground-truth class index when known (datasets, labelled recordings). */
  readonly trueLabel?: number;
}

/** One SNN step of one sample, for `?trace=1` subscribers. Extra fields pass through as JSON. */
export interface StepTrace {
  readonly streamId: string;
  readonly sampleId: string;
  readonly step: number;
  readonly confidence: number;
  readonly predicted: number;
  readonly [extra: string]: unknown;
}
