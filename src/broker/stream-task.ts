/**
 * One stream on one worker, while the worker holds its lease: from the stream's checkpoint,
 * read its messages (event-log.ts), classify each sensor connection with `classifyStream` — the
 * embedded service's per-stream pipeline — and publish each decision, then checkpoint.
 *
 * Exactly one decision per sample, equal to a single-process run:
 * - The run resumes at the checkpoint's sample start with the live segmenter's state there, so
 *   it cuts the same samples; the engine decides the same (it depends on the events alone).
 * - A decision's message id is `<streamId>:<sampleId>`: published again after a takeover it is
 *   stored once (JetStream's duplicate window).
 * - A checkpoint moves past sample k only once the decision of sample k−1 is stored.
 * - Fencing: on taking a stream, the worker stores a `fence` marker on its decisions subject and
 *   publishes every decision with "expected last subject sequence" = the last one it stored.
 *   An earlier owner that wakes up (SIGSTOP, a long pause) is refused by the broker itself; its
 *   checkpoints are compare-and-set and refused too. Before each publish the lease must also
 *   still be valid by the worker's own clock.
 */
import type { KV } from '@nats-io/kv';
import { concatMap, from, Observable, tap } from 'rxjs';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import type { SampleStart } from '../../streams/core/live-segmenter';
import { classifyStream, planStreamFit, type StreamPipeline } from '../../streams/operators/classify-stream';
import type { FitSettings } from '../../streams/operators/fit';
import type { Decision } from '../../streams/types';
import type { CheckpointResume } from './checkpoint';
import { CheckpointWriter, LeaseGone } from './checkpoint-writer';
import type { Broker } from './connect';
import { connectionSource, nextConnection } from './connection-source';
import { EventLog } from './event-log';
import type { Lease } from './lease';
import type { WorkerMetrics } from './metrics';
import { EVENTS_STREAM, eventsSubject, HEADER, streamToken, tracesSubject } from './names';
import { DecisionPublisher, FencedError, sampleNumber } from './decision-publisher';
import { decodeStreamEntry, encodeStreamEntry } from './stream-entry';

/** What a worker reports about its streams (printed by `spikestream worker`). */
export type WorkerEvent =
  | { readonly type: 'acquired'; readonly streamId: string; readonly takeover: boolean; readonly from?: string; readonly sample: number; readonly seq: number }
  | { readonly type: 'released'; readonly streamId: string; readonly sample: number }
  | { readonly type: 'lost'; readonly streamId: string; readonly why: string }
  | { readonly type: 'error'; readonly streamId: string; readonly message: string };

export interface TaskDeps {
  readonly broker: Broker;
  readonly workerId: string;
  readonly streams: KV;
  readonly checkpoints: KV;
  /** The worker's pipeline, shared by its streams; its `onTrace` is set per stream here (publishing needs the lease). */
  readonly pipeline: Omit<StreamPipeline, 'onTrace'>;
  readonly metrics: WorkerMetrics;
  readonly fit?: FitSettings;
  readonly traces: boolean;
  /** Give the stream up after this long with nothing to read after a connection's end. */
  readonly releaseIdleMs: number;
  readonly report: (e: WorkerEvent) => void;
}

export type TaskEnd = 'released' | 'lost' | 'stopped' | 'failed';

/** Decisions waiting for the broker before the stream's reading pauses. */
const MAX_UNSTORED_DECISIONS = 4;

let taskCounter = 0;

export class StreamTask {
  private readonly key: string;
  private readonly task = `${++taskCounter}`;
  private log: EventLog | undefined;
  private readonly publisher: DecisionPublisher;
  private readonly checkpoints: CheckpointWriter;
  private nextSample = 0;
  private unstored = 0;
  private wakeGate: (() => void) | undefined;
  /** For the lag: the connection being read and its events read so far. */
  private connection = '';
  private eventsRead = 0;

  constructor(
    private readonly deps: TaskDeps,
    readonly streamId: string,
    readonly lease: Lease,
  ) {
    this.key = streamToken(streamId);
    this.publisher = new DecisionPublisher(deps.broker, streamId, deps.workerId, {
      signal: lease.signal,
      mayPublish: () => lease.held,
      onRetry: (reason) => deps.metrics.retries.inc({ reason }),
    });
    this.checkpoints = new CheckpointWriter(deps.checkpoints, streamId, deps.workerId, this.task, lease, deps.metrics);
  }

  /** Runs until the lease is lost or released; never rejects. */
  async run(): Promise<TaskEnd> {
    try {
      await this.classifyFromCheckpoint();
      return this.lease.ended === 'released' ? 'released' : this.lease.ended === 'stopped' ? 'stopped' : 'lost';
    } catch (err) {
      if (err instanceof LeaseGone || this.lease.signal.aborted) return this.lease.ended === 'stopped' ? 'stopped' : this.lease.ended === 'released' ? 'released' : 'lost';
      this.deps.metrics.pipelineErrors.inc();
      this.deps.report({ type: 'error', streamId: this.streamId, message: err instanceof Error ? err.message : String(err) });
      await this.lease.release();
      return 'failed';
    } finally {
      this.log?.close();
      this.wakeGate?.();
    }
  }

  /** Events published for this stream and not yet read (0 when caught up or unknown). */
  async lag(): Promise<number> {
    try {
      const m = await this.deps.broker.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: eventsSubject(this.streamId) });
      const total = Number(m?.header?.get(HEADER.eventsTotal) ?? 0);
      const connection = m?.header?.get(HEADER.connection) ?? '';
      return connection === this.connection ? Math.max(0, total - this.eventsRead) : total;
    } catch {
      return 0;
    }
  }

  private async classifyFromCheckpoint(): Promise<void> {
    const { deps, lease } = this;
    const { cp, stored, unreadable } = await this.checkpoints.read();
    if (unreadable) deps.report({ type: 'error', streamId: this.streamId, message: `${unreadable}; classifying the stream from its first stored message` });
    const takeover = cp.state === 'owned' && cp.owner !== deps.workerId && stored;
    if (takeover) deps.metrics.takeovers.inc();
    deps.metrics.acquired.inc();
    deps.report({ type: 'acquired', streamId: this.streamId, takeover, ...(takeover ? { from: cp.owner } : {}), sample: cp.sample, seq: cp.seq });

    // From here on, a publish by an earlier owner is refused by the broker.
    await this.publisher.fence(`${deps.workerId}:${this.task}`);
    this.nextSample = cp.sample;
    this.checkpoints.startAt(cp.sample);
    await this.checkpoints.write({ ...cp, owner: deps.workerId, state: 'owned' });

    this.log = await EventLog.open(deps.broker, this.streamId, cp.seq);
    let resume = cp.resume;
    while (!lease.signal.aborted) {
      const next = await nextConnection(this.log, {
        signal: lease.signal,
        idleMs: deps.releaseIdleMs,
        resume,
        resumeSeq: cp.seq,
        onIdle: () => this.releaseIfDone(),
        onSkip: (reason) => deps.metrics.skipped.inc({ reason }),
      });
      resume = undefined;
      if (next === undefined) return;
      await this.classifyConnection(next.connection, next.geometry, next.resume);
      this.checkpoints.throwIfFailed();
      await this.checkpoints.settled();
      await this.checkpoints.write({ v: 1, seq: this.log.nextSeq, sample: this.nextSample, owner: deps.workerId, state: 'owned', at: Date.now() });
    }
  }

  private async classifyConnection(connection: string, sensor: Geometry, resume: CheckpointResume | undefined): Promise<void> {
    const { deps } = this;
    const log = this.log as EventLog;
    this.connection = connection;
    this.eventsRead = 0;
    const plan = planStreamFit(deps.pipeline.model, sensor, deps.fit);
    const seqOf = new WeakMap<EventBatch, number>();
    const { source } = connectionSource({
      log,
      connection,
      seqOf,
      gate: (signal) => this.gate(signal),
      onSkip: (reason) => deps.metrics.skipped.inc({ reason }),
      onDelivered: (m) => (this.eventsRead = m.eventsTotal ?? this.eventsRead),
    });
    if ('refusal' in plan) {
      // The model cannot take this sensor: read past its messages without classifying them.
      deps.report({ type: 'error', streamId: this.streamId, message: `connection ${connection}: ${plan.refusal}; its events are skipped` });
      const pull = source.open(this.lease.signal);
      while (!(await pull.next()).done) deps.metrics.skipped.inc({ reason: 'refused_geometry' });
      return;
    }
    const onSampleStart = (s: SampleStart): void => {
      const seq = seqOf.get(s.batch);
      if (seq === undefined) return;
      this.checkpoints.sampleStarted(s.sample, seq, { connection, geometry: sensor, index: s.index, tumblingOrigin: s.tumblingOrigin, detector: s.detector });
      this.nextSample = s.sample + 1;
    };
    const pipeline: StreamPipeline = {
      ...deps.pipeline,
      onTrace: deps.traces
        ? (trace) => {
            if (this.lease.held) deps.broker.nc.publish(tracesSubject(this.streamId), JSON.stringify(trace));
          }
        : undefined,
    };
    const input = {
      streamId: this.streamId,
      sensor,
      source,
      fit: deps.fit,
      // A new connection starts fresh (index 0, no detector state) but numbers its samples on from the last one.
      resume: resume ? { index: resume.index, sample: this.nextSample, tumblingOrigin: resume.tumblingOrigin, detector: resume.detector } : { index: 0, sample: this.nextSample },
      onSampleStart,
    };
    const decisions = classifyStream(input, pipeline).pipe(
      tap(() => this.unstored++),
      concatMap((d) => from(this.publishDecision(d))),
    );
    await untilAborted(decisions, this.lease.signal);
  }

  /** Resolves when fewer than MAX_UNSTORED_DECISIONS decisions wait for the broker (or `signal` aborted). */
  private async gate(signal: AbortSignal): Promise<void> {
    while (this.unstored >= MAX_UNSTORED_DECISIONS && !signal.aborted && !this.lease.signal.aborted) {
      await new Promise<void>((resolve) => {
        this.wakeGate = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  private async publishDecision(d: Decision): Promise<void> {
    const { deps } = this;
    try {
      const r = await this.publisher.publish(d);
      if (r === 'duplicate') deps.metrics.duplicates.inc();
      else deps.metrics.decisions.inc();
    } catch (err) {
      if (err instanceof FencedError) {
        deps.metrics.fenced.inc();
        this.lease.markTaken();
      }
      throw new LeaseGone(`${this.streamId}: ${(err as Error).message}`);
    }
    this.unstored--;
    this.wakeGate?.();
    this.checkpoints.sampleStored(sampleNumber(d.sampleId));
  }

  /**
   * After a connection's end and `releaseIdleMs` with nothing more: when the gateway has marked
   * the stream closed and everything up to its end marker is classified, mark it done
   * (compare-and-set: a sensor connecting meanwhile keeps the stream here) and release the lease.
   */
  private async releaseIfDone(): Promise<boolean> {
    const { deps } = this;
    const log = this.log as EventLog;
    const e = await deps.streams.get(this.key).catch(() => null);
    const entry = e && e.operation === 'PUT' ? decodeStreamEntry(e.string()) : undefined;
    if (!e || !entry || entry.state !== 'closed' || entry.endSeq === undefined || entry.endSeq >= log.nextSeq) return false;
    await this.checkpoints.settled();
    await this.checkpoints.write({ v: 1, seq: log.nextSeq, sample: this.nextSample, owner: deps.workerId, state: 'released', at: Date.now() });
    try {
      await deps.streams.update(this.key, encodeStreamEntry({ ...entry, doneSeq: log.nextSeq - 1 }), e.revision);
    } catch {
      // The stream changed meanwhile (a sensor connected): keep it.
      await this.checkpoints.write({ v: 1, seq: log.nextSeq, sample: this.nextSample, owner: deps.workerId, state: 'owned', at: Date.now() });
      return false;
    }
    await this.lease.release();
    deps.metrics.released.inc();
    deps.report({ type: 'released', streamId: this.streamId, sample: this.nextSample });
    return true;
  }
}

/** Subscribes until the Observable ends (rejects on its error) or `signal` aborts (unsubscribes: the engine frees its slot). */
function untilAborted<T>(o: Observable<T>, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal.aborted) return resolve();
    const sub = o.subscribe({ complete: () => resolve(), error: (err: unknown) => reject(err) });
    signal.addEventListener(
      'abort',
      () => {
        sub.unsubscribe();
        resolve();
      },
      { once: true },
    );
  });
}
