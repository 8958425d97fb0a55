/** What a replay is asked for and what it returns (replay.ts, and its worker threads in threads.ts). */
import type { Decision } from '../../../streams/types';
import type { FitSettings } from '../../../streams/operators/fit';
import type { RunnerKind } from '../../snn/step-runner';
import type { Pacing } from '../../../streams/sources/pacing';

export interface ReplayShard {
  readonly index: number;
  readonly count: number;
}

export interface ReplayResult {
  decisions: Decision[];
  source: string;
  samples: number;
  skippedFrames: number;
}

/**
 * Replays a dataset folder (its labelled samples), a recording with a labels CSV beside it (its
 * label windows), or any event file (activity-segmented, like a live sensor) through the model.
 */
export interface ReplayRunOptions {
  pacing: Pacing;
  split: 'train' | 'test' | 'all';
  limit?: number;
  slots: number;
  fit?: FitSettings;
  /** SNN runner (default `typed`; `auto`: `tensor` when TF.js runs on its native backend). */
  runner?: RunnerKind | 'auto';
  /**
   * Worker threads (default 1). With N > 1 the samples of a dataset folder or of a recording's
   * label windows are shared out over N workers and the decisions come back in sample order (one
   * thread's per-stream order); a recording segmented by activity is one stream and stays on one thread.
   */
  threads?: number;
  /** Only the samples i with i mod count = index (a worker's share; see threads.ts). */
  shard?: ReplayShard;
  /** Each decision as it comes, with its sample's index in the replay (dataset folders and label windows). */
  onDecision?(d: Decision, sampleIndex?: number): void;
}
