/**
 * Messages between the service's main thread (sockets, fitting plans, publishing) and its shard
 * workers (each classifies the streams it is given with the one engine, on its own runner).
 * Event batches travel packed in one transferred buffer per worker and event-loop turn; at most
 * `CREDITS` batches of a stream are in flight, so the stream's backlog stays in its bounded ingest queue, where it is counted.
 */
import type { EventBatch } from '../../events/event-batch';
import type { Geometry } from '../../events/geometry';
import type { ClassifierModel } from '../../snn/model/classifier-model';
import type { ClassifyStats } from '../../../streams/core/engine';
import type { SegmentStats } from '../../../streams/core/live-segmenter';
import type { ServiceStepTrace } from '../../../streams/core/step-trace';
import type { StreamSettings } from '../../../streams/operators/classify-stream';
import type { FitSettings } from '../../../streams/operators/fit';
import type { Decision, Frame } from '../../../streams/types';
import type { RunnerKind } from '../../snn/step-runner';

/** Batches of one stream sent but not yet pulled by its worker's engine. */
export const CREDITS = 4;

export interface ShardSettings {
  readonly model: ClassifierModel;
  /** SNN slots of this worker's runner. */
  readonly slots: number;
  readonly runner: RunnerKind | 'auto';
  readonly settings: StreamSettings;
  /** Send every step's trace / every frame back (for `?trace=1` and the viewer's preview; off: none is sent). */
  readonly traces: boolean;
  readonly frames: boolean;
}

/**
 * Batches of several streams packed in one transferred buffer: batch k (stream ids[k], ns[k]
 * events) at an 8-byte aligned offset, as t (f64 × n), x (u16 × n), y (u16 × n), p (u8 × n).
 */
export interface WireBatches {
  readonly ids: readonly number[];
  readonly ns: readonly number[];
  readonly buffer: ArrayBuffer;
}

export type ToShard =
  | { readonly type: 'open'; readonly id: number; readonly streamId: string; readonly sensor: Geometry; readonly fit: FitSettings }
  | ({ readonly type: 'events' } & WireBatches)
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
  /** One credit back per id listed (a stream's batch pulled by the engine). */
  | { readonly type: 'ack'; readonly ids: readonly number[] }
  | { readonly type: 'decision'; readonly id: number; readonly decision: Decision; readonly stats: ShardStats }
  | { readonly type: 'trace'; readonly trace: ServiceStepTrace }
  | { readonly type: 'frame'; readonly frame: Frame }
  | { readonly type: 'done'; readonly id: number; readonly stats: ShardStats }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly stats: ShardStats }
  | { readonly type: 'stats'; readonly stats: ShardStats };

const align8 = (n: number): number => (n + 7) & ~7;

/** Batches (of the streams `ids`) copied into one buffer of their own, ready to transfer. */
export function packBatches(ids: readonly number[], batches: readonly EventBatch[]): WireBatches {
  const ns = batches.map((b) => b.length);
  const buffer = new ArrayBuffer(ns.reduce((a, n) => a + align8(13 * n), 0));
  let at = 0;
  batches.forEach((b, k) => {
    const n = ns[k];
    new Float64Array(buffer, at, n).set(b.t.subarray(0, n));
    new Uint16Array(buffer, at + 8 * n, n).set(b.x.subarray(0, n));
    new Uint16Array(buffer, at + 10 * n, n).set(b.y.subarray(0, n));
    new Uint8Array(buffer, at + 12 * n, n).set(b.p.subarray(0, n));
    at += align8(13 * n);
  });
  return { ids, ns, buffer };
}

/** Each packed batch with its stream id, as views on the buffer (no copy). */
export function unpackBatches(w: WireBatches): Array<{ id: number; batch: EventBatch }> {
  let at = 0;
  return w.ids.map((id, k) => {
    const n = w.ns[k], b = w.buffer;
    const batch = { t: new Float64Array(b, at, n), x: new Uint16Array(b, at + 8 * n, n), y: new Uint16Array(b, at + 10 * n, n), p: new Uint8Array(b, at + 12 * n, n), length: n };
    at += align8(13 * n);
    return { id, batch };
  });
}
