/**
 * The service's worker threads (`threads` > 1): a ShardPool whose counters are summed into the
 * service's own `stats`, `segments`, scheduler stats and Prometheus metrics, so /metrics, /health
 * and `Service.stats` read the same with one thread or many.
 */
import type { Observable } from 'rxjs';
import type { ClassifierModel } from '../../snn/model/classifier-model';
import type { ClassifyStats } from '../../../streams/core/engine';
import type { SegmentStats } from '../../../streams/core/live-segmenter';
import type { Decision, Frame, StepResult } from '../../../streams/types';
import type { SchedulerStats } from '../../snn/scheduler';
import type { RunnerKind } from '../../snn/step-runner';
import type { ServiceMetrics } from '../metrics';
import type { IngestStream } from '../types';
import type { FitSettings, LiveSettings } from './protocol';
import { ShardPool } from './shard-pool';

export interface ServiceShards {
  readonly threads: number;
  /** The runner the workers use. */
  readonly runner: RunnerKind;
  /** Slots in use over all workers. */
  readonly activeSlots: number;
  classify(stream: IngestStream, fit: FitSettings): Observable<Decision>;
  close(): Promise<void>;
}

export interface ShardOptions {
  readonly model: ClassifierModel;
  readonly threads: number;
  /** Slots over all workers (each gets its share, at least one). */
  readonly slots: number;
  readonly runner: RunnerKind | 'auto';
  readonly live: LiveSettings;
  readonly onStep?: (r: StepResult) => void;
  readonly onFrame?: (f: Frame) => void;
}

/** Where the summed counters go. */
export interface ShardSinks {
  readonly stats: ClassifyStats;
  readonly segments: SegmentStats;
  readonly scheduler: SchedulerStats;
  readonly metrics: ServiceMetrics;
}

export async function startServiceShards(o: ShardOptions, into: ShardSinks): Promise<ServiceShards> {
  let activeSlots = 0;
  const pool = new ShardPool(
    { model: o.model, slots: Math.max(1, Math.ceil(o.slots / o.threads)), runner: o.runner, live: o.live, steps: o.onStep !== undefined, frames: o.onFrame !== undefined },
    o.threads,
    {
      onStep: o.onStep,
      onFrame: o.onFrame,
      onStats: (totals, steps) => {
        Object.assign(into.stats, { ...totals.classify, bin: into.stats.bin });
        Object.assign(into.stats.bin, totals.classify.bin);
        Object.assign(into.segments, totals.segments);
        into.scheduler.batches = totals.scheduler.batches;
        into.scheduler.sampleSteps = totals.scheduler.sampleSteps;
        into.scheduler.maxBatch = totals.scheduler.maxBatch;
        for (let i = 0; i < steps.length; i += 2) {
          into.scheduler.recentStepMs.push(steps[i + 1]);
          into.metrics.stepLatency.observe(steps[i + 1] / 1000);
        }
        if (into.scheduler.recentStepMs.length > 4096) into.scheduler.recentStepMs.splice(0, 2048);
        activeSlots = totals.activeSlots;
        into.metrics.activeSlots.set(activeSlots);
      },
    },
  );
  let runner: RunnerKind;
  try {
    runner = await pool.ready();
  } catch (err) {
    await pool.close();
    throw err;
  }
  return {
    threads: o.threads,
    runner,
    get activeSlots() {
      return activeSlots;
    },
    classify: (stream, fit) => pool.classify(stream.streamId, stream.geometry, stream.source, fit),
    close: () => pool.close(),
  };
}
