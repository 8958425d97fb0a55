import type { Observable } from 'rxjs';
import type { EventBatch } from '../src/events/event-batch';
import type { Geometry } from '../src/events/geometry';

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
  /** The window's events. Unsubscribing stops reading/decoding them at once. */
  readonly events: Observable<EventBatch>;
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
  /** max softmax(O_t / (α·τ)). */
  readonly confidence: number;
  /** argmax O_t. */
  readonly predicted: number;
  /** Spike events per spiking layer since the sample started. */
  readonly spikes: readonly number[];
  readonly spikesPerNeuron: number;
  /** The frame this step consumed. */
  readonly frame: Pick<Frame, 'tStart' | 'tEnd' | 'eventCount' | 'closedBy'>;
}
