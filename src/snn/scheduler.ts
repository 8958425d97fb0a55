import type { SlotReadout } from './runner';
import type { StepRunner } from './step-runner';

interface PendingStep {
  slot: number;
  data: Float32Array;
  resolve(r: SlotReadout): void;
  reject(err: unknown): void;
}

/** A slot wait given up because its sample was cancelled. */
export class SlotWaitAborted extends Error {
  override readonly name = 'SlotWaitAborted';
  constructor() {
    super('gave up waiting for an SNN slot');
  }
}

export interface SchedulerStats {
  /** Batched runner calls made. */
  batches: number;
  /** Sample-steps computed. */
  sampleSteps: number;
  /** Largest number of slots stepped in one call. */
  maxBatch: number;
  /** Wall milliseconds of every batched call, for latency histograms (bounded ring). */
  readonly recentStepMs: number[];
}

/**
 * Continuous batching over one shared runner (`SnnRunner` or `TensorRunner`): every sample asks for a slot, then submits
 * one frame at a time; all frames submitted within one turn of the event loop are stepped in a
 * single batched runner call. A sample whose slot request cannot be met waits, first come first
 * served. The runner's arithmetic per slot is independent of the batch, so results are the same
 * however samples share a tick.
 */
export class SnnScheduler {
  private pending: PendingStep[] = [];
  private flushQueued = false;
  private waiters: ((slot: number) => void)[] = [];
  readonly stats: SchedulerStats = { batches: 0, sampleSteps: 0, maxBatch: 0, recentStepMs: [] };

  constructor(
    readonly runner: StepRunner,
    /** Called after every batched call (e.g. to feed a latency histogram and a slots gauge). */
    private readonly onBatch?: (size: number, ms: number) => void,
  ) {}

  get freeSlots(): number {
    return this.runner.capacity - this.runner.activeCount;
  }

  /** Samples waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * A fresh slot (state reset), waiting for one to be released if all are taken, first come first
   * served. Aborting `signal` while waiting leaves the queue and rejects with `SlotWaitAborted`.
   */
  admit(signal?: AbortSignal): Promise<number> {
    if (signal?.aborted) return Promise.reject(new SlotWaitAborted());
    if (this.runner.activeCount < this.runner.capacity) return Promise.resolve(this.runner.admit());
    return new Promise((resolve, reject) => {
      const waiter = (slot: number): void => {
        signal?.removeEventListener('abort', leave);
        resolve(slot);
      };
      const leave = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(new SlotWaitAborted());
      };
      signal?.addEventListener('abort', leave, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives the slot back; a waiting sample gets it at once (with its state reset). */
  release(slot: number): void {
    // Any step still queued for this slot is dropped: its sample is gone.
    this.pending = this.pending.filter((p) => {
      if (p.slot !== slot) return true;
      p.reject(new Error(`slot ${slot} released with a step pending`));
      return false;
    });
    this.runner.release(slot);
    const next = this.waiters.shift();
    if (next) next(this.runner.admit());
  }

  /** Steps the slot with one frame; resolves with its readout after the tick's batched call. */
  step(slot: number, data: Float32Array): Promise<SlotReadout> {
    return new Promise<SlotReadout>((resolve, reject) => {
      this.pending.push({ slot, data, resolve, reject });
      if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushQueued = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const t0 = performance.now();
    try {
      this.runner.step(batch.map((p) => ({ slot: p.slot, frame: p.data })));
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    const ms = performance.now() - t0;
    this.stats.batches++;
    this.stats.sampleSteps += batch.length;
    if (batch.length > this.stats.maxBatch) this.stats.maxBatch = batch.length;
    this.stats.recentStepMs.push(ms);
    if (this.stats.recentStepMs.length > 4096) this.stats.recentStepMs.splice(0, 2048);
    this.onBatch?.(batch.length, ms);
    for (const p of batch) p.resolve(this.runner.read(p.slot));
  }
}
