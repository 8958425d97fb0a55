/**
 * The main thread's side of a sharded service: N worker threads (shard-worker.ts), each running the
 * one engine with its own runner; every live stream is classified whole by one worker (the one
 * with the fewest streams when it connects), so its decisions, and their order, are those of the
 * single-thread service. The main thread keeps the sockets: it pulls each stream's bounded ingest
 * queue and forwards batches, at most CREDITS in flight per stream (the backlog stays in the
 * queue, where /health and the drop counters see it). The batches of one event-loop turn travel to
 * a worker packed in one transferred buffer; credits come back in one message per worker turn.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import { Observable } from 'rxjs';
import type { ServiceStepTrace } from '../../../streams/core/step-trace';
import type { StreamInput } from '../../../streams/operators/classify-stream';
import type { Decision, Frame } from '../../../streams/types';
import type { EventBatch } from '../../events/event-batch';
import type { RunnerKind } from '../../snn/step-runner';
import { CREDITS, packBatches, type FromShard, type ShardSettings, type ShardStats, type ToShard } from './protocol';

interface OpenStream {
  readonly worker: number;
  readonly next: (d: Decision) => void;
  readonly done: (err?: Error) => void;
  credits: number;
  wake?: () => void;
}

/** Counters summed over the workers (cumulative), and the step timings reported since the last call. */
export type ShardTotals = Omit<ShardStats, 'steps'>;

export interface ShardPoolEvents {
  /** After any worker reports: the totals over all workers, and that worker's new [size, ms] step pairs. */
  onStats?(totals: ShardTotals, steps: readonly number[]): void;
  /** Each step's trace / frame, when the settings ask the workers for them. */
  onTrace?(trace: ServiceStepTrace): void;
  onFrame?(f: Frame): void;
}

export class ShardPool {
  private readonly workers: Worker[];
  private readonly latest: Array<ShardStats | undefined>;
  private readonly load: number[];
  private readonly streams = new Map<number, OpenStream>();
  private nextId = 0;
  private readonly started: Promise<RunnerKind>;
  /** Batches waiting to go to each worker at the end of this event-loop turn, in order. */
  private readonly outbox: Array<{ ids: number[]; batches: EventBatch[] }>;
  private closed = false;

  constructor(settings: ShardSettings, readonly threads: number, private readonly events: ShardPoolEvents = {}) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer (got ${threads})`);
    const file = path.join(__dirname, 'shard-worker.js');
    this.workers = Array.from({ length: threads }, () => new Worker(file, { workerData: settings }));
    this.latest = this.workers.map(() => undefined);
    this.load = this.workers.map(() => 0);
    this.outbox = this.workers.map(() => ({ ids: [], batches: [] }));
    this.started = Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<RunnerKind>((resolve, reject) => {
            w.on('message', (m: FromShard) => (m.type === 'ready' ? resolve(m.runner) : this.onMessage(i, m, reject)));
            w.on('error', (err) => this.failWorker(i, err, reject));
            w.on('exit', (code) => this.failWorker(i, new Error(`shard worker ${i} exited (code ${code})`), reject));
          }),
      ),
    ).then((kinds) => kinds[0]);
  }

  /** Resolves with the runner the workers use once all of them are ready. */
  ready(): Promise<RunnerKind> {
    return this.started;
  }

  /** Streams each worker is classifying now. */
  get streamsPerWorker(): readonly number[] {
    return [...this.load];
  }

  /** One live stream → its decisions, classified by one worker (`classifyStream` there). Unsubscribing stops it there. */
  classify({ streamId, sensor, source, fit = {} }: StreamInput): Observable<Decision> {
    return new Observable<Decision>((subscriber) => {
      const id = this.nextId++;
      const wi = this.load.indexOf(Math.min(...this.load));
      const worker = this.workers[wi];
      let finished = false;
      const control = new AbortController();
      const s: OpenStream = {
        worker: wi,
        credits: CREDITS,
        next: (d) => subscriber.next(d),
        done: (err) => {
          finished = true;
          // The worker is done with this stream (its end, or an error): stop forwarding.
          control.abort();
          s.wake?.();
          this.release(id);
          if (err) subscriber.error(err);
          else subscriber.complete();
        },
      };
      this.streams.set(id, s);
      this.load[wi]++;
      this.send(worker, { type: 'open', id, streamId, sensor, fit });
      const pull = source.open(control.signal);
      void (async () => {
        try {
          for (;;) {
            while (s.credits === 0 && !control.signal.aborted) await new Promise<void>((r) => (s.wake = r));
            if (control.signal.aborted) return;
            const r = await pull.next();
            if (control.signal.aborted) return;
            if (r.done) break;
            s.credits--;
            this.forward(wi, id, r.value);
          }
          if (!control.signal.aborted) this.send(worker, { type: 'end', id });
        } catch (err) {
          if (!finished) s.done(err instanceof Error ? err : new Error(String(err)));
        }
      })();
      return () => {
        control.abort();
        s.wake?.();
        if (!finished) {
          this.release(id);
          if (!this.closed) this.send(worker, { type: 'abort', id });
        }
      };
    });
  }

  /** Stops the workers (after the service has drained its streams). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Queues a batch for worker `wi`; all batches of a turn go in one message (fewer wake-ups, one transfer). */
  private forward(wi: number, id: number, batch: EventBatch): void {
    const box = this.outbox[wi];
    if (box.ids.length === 0) setImmediate(() => this.flush(wi));
    box.ids.push(id);
    box.batches.push(batch);
  }

  private flush(wi: number): void {
    const box = this.outbox[wi];
    if (box.ids.length === 0 || this.closed) return;
    const packed = packBatches(box.ids.splice(0), box.batches.splice(0));
    this.workers[wi].postMessage({ type: 'events', ...packed } satisfies ToShard, [packed.buffer]);
  }

  /** A control message, after the batches queued before it (a stream's end must follow its events). */
  private send(worker: Worker, m: ToShard): void {
    this.flush(this.workers.indexOf(worker));
    worker.postMessage(m);
  }

  private release(id: number): void {
    const s = this.streams.get(id);
    if (!s) return;
    this.streams.delete(id);
    this.load[s.worker]--;
  }

  private onMessage(i: number, m: FromShard, reject: (err: Error) => void): void {
    if (m.type === 'ack') {
      for (const id of m.ids) {
        const s = this.streams.get(id);
        if (!s) continue;
        s.credits++;
        s.wake?.();
        s.wake = undefined;
      }
      return;
    }
    if (m.type === 'trace') {
      this.events.onTrace?.(m.trace);
      return;
    }
    if (m.type === 'frame') {
      this.events.onFrame?.(m.frame);
      return;
    }
    if (m.type === 'ready') return;
    if (m.type === 'error' && m.id < 0) {
      reject(new Error(`shard worker ${i}: ${m.message}`));
      return;
    }
    this.report(i, m.stats);
    if (m.type === 'decision') this.streams.get(m.id)?.next(m.decision);
    else if (m.type === 'done') this.streams.get(m.id)?.done();
    else if (m.type === 'error') this.streams.get(m.id)?.done(new Error(m.message));
  }

  private report(i: number, stats: ShardStats): void {
    this.latest[i] = stats;
    const all = this.latest.filter((s): s is ShardStats => s !== undefined);
    const totals: ShardTotals = {
      classify: sumDeep(all.map((s) => s.classify)),
      segments: sumDeep(all.map((s) => s.segments)),
      scheduler: {
        batches: all.reduce((a, s) => a + s.scheduler.batches, 0),
        sampleSteps: all.reduce((a, s) => a + s.scheduler.sampleSteps, 0),
        maxBatch: Math.max(...all.map((s) => s.scheduler.maxBatch)),
      },
      activeSlots: all.reduce((a, s) => a + s.activeSlots, 0),
    };
    this.events.onStats?.(totals, stats.steps);
  }

  private failWorker(i: number, err: Error, reject: (err: Error) => void): void {
    reject(err);
    if (this.closed) return;
    for (const [, s] of [...this.streams]) if (s.worker === i) s.done(new Error(`shard worker ${i} failed: ${err.message}`));
  }
}

/** Field-by-field sum of counter objects of one shape (numbers, nested objects of numbers). */
export function sumDeep<T extends object>(xs: readonly T[]): T {
  const out = structuredClone(xs[0]) as Record<string, unknown>;
  for (const x of xs.slice(1)) add(out, x as Record<string, unknown>);
  return out as T;
}

function add(into: Record<string, unknown>, x: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(x)) {
    if (typeof v === 'number') into[k] = (into[k] as number) + v;
    else if (v && typeof v === 'object') add(into[k] as Record<string, unknown>, v as Record<string, unknown>);
  }
}
