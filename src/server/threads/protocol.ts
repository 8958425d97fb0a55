/**
 * Messages between the service's main thread (sockets, fitting plans, publishing) and its shard
 * workers (each classifies the streams it is given with the one engine, on its own runner).
 * Event batches travel as four transferred typed arrays; at most `CREDITS` batches of a stream are
 * in flight, so the stream's backlog stays in its bounded ingest queue, where it is counted.
 */
import type { EventBatch } from '../../events/event-batch';
import type { Geometry } from '../../events/geometry';
import type { ClassifierModel } from '../../../streams/core/classifier-model';
import type { ClassifyStats } from '../../../streams/core/engine';
import type { SegmentStats } from '../../../streams/core/live-segmenter';
import type { LiveClassifyOptions } from '../../../streams/operators/classify-live';
import type { FitMode } from '../../../streams/operators/fit';
import type { Roi } from '../../../streams/operators/roi';
import type { Decision, Frame, StepResult } from '../../../streams/types';
import type { RunnerKind } from '../../snn/step-runner';

/** Batches of one stream sent but not yet pulled by its worker's engine. */
export const CREDITS = 4;

/** How a stream's sensor reaches the model's input (see streams/operators/fit.ts). */
export interface FitSettings { readonly fit?: FitMode; readonly roi?: Roi }

/** The engine's per-stream settings that are data (callbacks stay on the main thread). */
export type LiveSettings = Pick<LiveClassifyOptions, 'segmentation' | 'onDecided' | 'idleFlushMs' | 'wallLimitMs' | 'minEvents'>;

export interface ShardSettings {
  readonly model: ClassifierModel;
  /** SNN slots of this worker's runner. */
  readonly slots: number;
  readonly runner: RunnerKind | 'auto';
  readonly live: LiveSettings;
  /** Send every step result / every frame back (for traces and the viewer's preview; off: none is sent). */
  readonly steps: boolean;
  readonly frames: boolean;
}

export interface WireBatch {
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  readonly p: Uint8Array;
  readonly t: Float64Array;
}

export type ToShard =
  | { readonly type: 'open'; readonly id: number; readonly streamId: string; readonly sensor: Geometry; readonly fit: FitSettings }
  | { readonly type: 'events'; readonly id: number; readonly batch: WireBatch }
  | { readonly type: 'end'; readonly id: number }
  | { readonly type: 'abort'; readonly id: number };

export interface ShardStats {
  readonly classify: ClassifyStats;
  readonly segments: SegmentStats;
  readonly scheduler: { readonly batches: number; readonly sampleSteps: number; readonly maxBatch: number };
  readonly activeSlots: number;
  /** Batched runner calls since the last report: [batch size, ms] pairs, flattened. */
  readonly steps: number[];
}

export type FromShard =
  | { readonly type: 'ready'; readonly runner: RunnerKind }
  | { readonly type: 'ack'; readonly id: number }
  | { readonly type: 'decision'; readonly id: number; readonly decision: Decision; readonly stats: ShardStats }
  | { readonly type: 'step'; readonly step: StepResult }
  | { readonly type: 'frame'; readonly frame: Frame }
  | { readonly type: 'done'; readonly id: number; readonly stats: ShardStats }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly stats: ShardStats }
  | { readonly type: 'stats'; readonly stats: ShardStats };

/** A batch copied into its own buffers (the originals may be views into a larger message), ready to transfer. */
export function toWire(b: EventBatch): { batch: WireBatch; transfer: ArrayBuffer[] } {
  const x = b.x.slice(0, b.length), y = b.y.slice(0, b.length), p = b.p.slice(0, b.length), t = b.t.slice(0, b.length);
  return { batch: { x, y, p, t }, transfer: [x.buffer as ArrayBuffer, y.buffer as ArrayBuffer, p.buffer as ArrayBuffer, t.buffer as ArrayBuffer] };
}

export function fromWire(w: WireBatch): EventBatch {
  return { x: w.x, y: w.y, p: w.p, t: w.t, length: w.t.length };
}
