/**
 * The service's worker threads (`threads` > 1): a ShardPool whose counters are summed into the
 * service's own `stats`, `segments`, scheduler stats and Prometheus metrics, so /metrics, /health
 * and `Service.stats` read the same with one thread or many.
 */
import type { Observable } from 'rxjs';
import type { ClassifierModel } from '../../snn/model/classifier-model';
import type { ClassifyStats } from '../../../streams/core/engine';
import type { SegmentStats } from '../../../streams/core/live-segmenter';
import type { StreamInput, StreamPipeline } from '../../../streams/operators/classify-stream';
import type { Decision } from '../../../streams/types';
import type { SchedulerStats } from '../../snn/scheduler';
import type { RunnerKind } from '../../snn/step-runner';
import type { ServiceMetrics } from '../metrics';
import { ShardPool } from './shard-pool';

export interface ServiceShards {
  readonly threads: number;
  /** The runner the workers use. */
  readonly runner: RunnerKind;
  /** Slots in use over all workers. */
  readonly activeSlots: number;
  classify(stream: StreamInput): Observable<Decision>;
  close(): Promise<void>;
}

/** The service's pipeline (its model, settings and where traces and frames go), run on `threads` workers. */
export interface ShardOptions extends Pick<StreamPipeline, 'model' | 'settings' | 'onTrace' | 'onFrame'> {
  readonly threads: number;
  /** Slots over all workers (each gets its share, at least one). */
  readonly slots: number;
  readonly runner: RunnerKind | 'auto';
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
    { model: o.model, slots: Math.max(1, Math.ceil(o.slots / o.threads)), runner: o.runner, settings: o.settings ?? {}, traces: o.onTrace !== undefined, frames: o.onFrame !== undefined },
    o.threads,
    {
      onTrace: o.onTrace,
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
    classify: (stream) => pool.classify(stream),
    close: () => pool.close(),
  };
}
