import type { StopRule } from '../src/confidence/decide';
import type { Geometry } from '../src/events/geometry';
import type { EventBatch } from '../src/events/event-batch';

/** One unit of classification work: a window of one stream's events. */
export interface Sample {
  /** Unique within a run, e.g. `user24_led#3` or `cam0#17`. */
  readonly id: string;
  readonly streamId: string;
  /** Class index (0-based) when known (datasets). */
  readonly label?: number;
  /** Window start (inclusive) and end (exclusive) in µs of sensor time; tEnd is Infinity when open-ended. */
  readonly tStart: number;
  readonly tEnd: number;
  readonly geometry: Geometry;
  /**
   * The window's events as a pulled source: the classifier pulls only as far as its next frame
   * needs, and aborting the pull stops reading/decoding at once. (`eventsOf(sample.events)` gives
   * an Observable.) Events outside [tStart, tEnd) are dropped by the binner and counted.
   */
  readonly events: EventSource;
}

/** Why a frame's bin closed. */
export type FrameCloseReason = 'time' | 'count' | 'window-end' | 'stream-end';

/** One time step of one sample: a dense H×W×2 (NHWC, channel 0 = OFF, 1 = ON) event-count frame. */
export interface Frame {
  readonly sampleId: string;
  readonly streamId: string;
  /** 0-based step index within the sample. */
  readonly step: number;
  readonly tStart: number;
  readonly tEnd: number;
  readonly eventCount: number;
  readonly closedBy: FrameCloseReason;
  readonly height: number;
  readonly width: number;
  readonly data: Float32Array;
}

/** The SNN's state for one sample after one step. */
export interface StepResult {
  readonly sampleId: string;
  readonly streamId: string;
  /** 0-based step index. */
  readonly step: number;
  /** The accumulated output O_t (one value per class). */
  readonly output: Float32Array;
  /** The confidence shown and compared with θ: the calibrated q_t (stop rule 'calibrated') or the paper's c_t ('paper'). */
  readonly confidence: number;
  /** The paper's c_t = max softmax(O_t / (α·τ)). */
  readonly paperConfidence: number;
  /** argmax O_t. */
  readonly predicted: number;
  /** Spike events per spiking layer since the sample started. */
  readonly spikes: readonly number[];
  readonly spikesPerNeuron: number;
  /** The frame this step consumed. */
  readonly frame: Pick<Frame, 'tStart' | 'tEnd' | 'eventCount' | 'closedBy'>;
}

/** Why a sample's run ended. */
export type StopReason =
  /** The confidence passed θ before the last step: an early answer. */
  | 'confidence'
  /** Step T was reached. */
  | 'max-steps'
  /** The sample's window (or live segment) ended. */
  | 'window-end'
  /** The stream ended (or went idle) inside the sample. */
  | 'stream-end'
  /** The per-sample wall-time limit expired: decided with the steps it had. */
  | 'wall-limit';

/** One sample's answer (DESIGN.md §2). Plain JSON-serialisable. */
export interface Decision {
  readonly streamId: string;
  readonly sampleId: string;
  /** Predicted class index (0-based): argmax O_t at the deciding step. */
  readonly label: number;
  readonly className: string;
  /**
   * The probability that `label` is right, as calibrated on the SNN's validation outputs at this step
   * (stop rule 'calibrated', the default); under `--confidence paper`, the paper's c_t (0…1).
   */
  readonly confidence: number;
  /** The paper's c_t = max softmax(O_t / (α·τ)) at the deciding step, whatever the stop rule. */
  readonly paperConfidence: number;
  /** What `confidence` is and how it was compared with θ: 'calibrated' (q_t ≥ θ) or 'paper' (c_t > θ). */
  readonly stopRule: StopRule;
  /**
   * True when the confidence reached θ. A decision taken at T, at a window or stream end or at the
   * wall-time limit without reaching θ is uncertain: report it apart, never as an answer.
   */
  readonly confident: boolean;
  /** SNN steps used (1…maxSteps). */
  readonly steps: number;
  readonly maxSteps: number;
  /** True when the confidence crossed θ before maxSteps. */
  readonly early: boolean;
  readonly stoppedBy: StopReason;
  /** The sample's start in sensor time (µs); sensor-time latency is eventTimeUs − sampleStartUs. */
  readonly sampleStartUs: number;
  /** Sensor time (µs) of the decision: the end of the deciding frame. */
  readonly eventTimeUs: number;
  /** Wall-clock ms from the arrival of the deciding frame's newest event to the decision. */
  readonly latencyMs: number;
  /** Events the sample binned up to its decision. */
  readonly eventsConsumed: number;
  /** Spikes per neuron (output layer excluded) up to the decision. */
  readonly spikesPerNeuron: number;
  /** Ground-truth class index when known (datasets, labelled recordings). */
  readonly trueLabel?: number;
}

/** One SNN step of one sample, for `?trace=1` subscribers. Extra fields pass through as JSON. */
export interface StepTrace {
  readonly streamId: string;
  readonly sampleId: string;
  /** 0-based step index (a decision's `steps` counts steps used: index + 1). */
  readonly step: number;
  readonly confidence: number;
  readonly predicted: number;
  readonly [extra: string]: unknown;
}

/** How a consumer's use of a pull ended, handed back before it closes the pull. */
export interface PullSettlement {
  /** Events of the last batches pulled that the consumer did not use (they belong to whatever comes next). */
  readonly unconsumed: number;
  /** True when the consumer stopped by its own decision before the source's end. */
  readonly early: boolean;
}

/**
 * One consumer's pull over a source's batches. `next()` is the only way events move: nothing is
 * read ahead. After the pull's signal aborts, a pending `next()` settles at once with
 * `{ done: true }` and every later call does too.
 */
export interface EventPull {
  next(): Promise<IteratorResult<EventBatch, undefined>>;
  /**
   * The explicit hand-back channel: called at most once, before the pull is closed, by a consumer
   * that stopped (a decision) — live segmenters start the next sample at the first unconsumed event.
   */
  settle(s: PullSettlement): void;
}

/**
 * A pulled source of event batches (a recorded file, a dataset sample's window, a live stream's
 * bounded queue, a sample cut by a live segmenter). Each `open` starts an independent pull where
 * the source allows it (files re-open; a live stream has one consumer). Aborting the signal is
 * the one way to stop: it settles a pending pull and frees what is behind it (file handles,
 * subscriptions, sockets).
 */
export interface EventSource {
  open(signal: AbortSignal): EventPull;
}
