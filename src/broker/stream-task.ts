/**
 * One stream on one worker, while the worker holds its lease: from the stream's checkpoint,
 * read its messages (event-log.ts), classify each sensor connection with `classifyLive` — the
 * embedded service's engine — and publish each decision, then checkpoint.
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
import { readWireHeader } from '../formats/wire';
import type { SnnScheduler } from '../snn/scheduler';
import type { ClassifierModel } from '../snn/model/classifier-model';
import type { ClassifyStats } from '../../streams/core/engine';
import type { LiveSegmentation, OnDecided, SampleStart } from '../../streams/core/live-segmenter';
import { classifyLive } from '../../streams/operators/classify-live';
import { makeFit, type Fit } from '../../streams/operators/fit';
import type { Decision } from '../../streams/types';
import { fitForModel, type FitChoice } from './model-fit';
import { decodeCheckpoint, encodeCheckpoint, initialCheckpoint, type CheckpointResume, type StreamCheckpoint } from './checkpoint';
import type { Broker } from './connect';
import { connectionSource } from './connection-source';
import { EventLog } from './event-log';
import { isWrongRevision, type Lease } from './lease';
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
  readonly model: ClassifierModel;
  readonly scheduler: SnnScheduler;
  readonly stats: ClassifyStats;
  readonly metrics: WorkerMetrics;
  readonly fit?: FitChoice;
  readonly segmentation?: LiveSegmentation;
  readonly onDecided?: OnDecided;
  readonly traces: boolean;
  /** Give the stream up after this long with nothing to read after a connection's end. */
  readonly releaseIdleMs: number;
  readonly report: (e: WorkerEvent) => void;
}

export type TaskEnd = 'released' | 'lost' | 'stopped' | 'failed';

/** Decisions waiting for the broker before the stream's reading pauses. */
const MAX_UNSTORED_DECISIONS = 4;

/** The lease is gone: stop without another write. */
class LeaseGone extends Error {
  override readonly name = 'LeaseGone';
}


let taskCounter = 0;

export class StreamTask {
  private readonly key: string;
  private readonly task = `${++taskCounter}`;
  private log: EventLog | undefined;
  private cpRev = 0;
  private readonly publisher: DecisionPublisher;
  /** Sample starts seen, by sample number, until a checkpoint passes them. */
  private readonly starts = new Map<number, { seq: number; resume: CheckpointResume }>();
  private stored = -1;
  private checkpointed = -1;
  private nextSample = 0;
  private unstored = 0;
  private wakeGate: (() => void) | undefined;
  private writes: Promise<void> = Promise.resolve();
  private writeError: unknown;
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
    const entry = await deps.checkpoints.get(this.key);
    let cp: StreamCheckpoint = initialCheckpoint(deps.workerId);
    if (entry && entry.operation === 'PUT') {
      this.cpRev = entry.revision;
      try {
        cp = decodeCheckpoint(entry.string(), this.streamId);
      } catch (err) {
        deps.report({ type: 'error', streamId: this.streamId, message: `${(err as Error).message}; classifying the stream from its first stored message` });
      }
    } else if (entry) this.cpRev = entry.revision;
    const takeover = cp.state === 'owned' && cp.owner !== deps.workerId && entry?.operation === 'PUT';
    if (takeover) deps.metrics.takeovers.inc();
    deps.metrics.acquired.inc();
    deps.report({ type: 'acquired', streamId: this.streamId, takeover, ...(takeover ? { from: cp.owner } : {}), sample: cp.sample, seq: cp.seq });

    // From here on, a publish by an earlier owner is refused by the broker.
    await this.publisher.fence(`${deps.workerId}:${this.task}`);
    this.nextSample = cp.sample;
    this.stored = cp.sample - 1;
    this.checkpointed = cp.sample;
    await this.writeCheckpoint({ ...cp, owner: deps.workerId, state: 'owned' });

    this.log = await EventLog.open(deps.broker, this.streamId, cp.seq);
    let resume = cp.resume;
    while (!lease.signal.aborted) {
      const next = await this.nextConnection(resume, cp.seq);
      resume = undefined;
      if (next === undefined) return;
      await this.classifyConnection(next.connection, next.geometry, next.resume);
      this.throwIfWriteFailed();
      await this.writes;
      await this.writeCheckpoint({ v: 1, seq: this.log.nextSeq, sample: this.nextSample, owner: deps.workerId, state: 'owned', at: Date.now() });
    }
  }

  /**
   * The connection to classify next: the checkpoint's (resuming inside it), or the one whose
   * `open` marker or first message comes next. Waits for it; after `releaseIdleMs` with nothing,
   * gives the stream up if its sensor has gone and all is done (undefined).
   */
  private async nextConnection(resume: CheckpointResume | undefined, resumeSeq: number): Promise<{ connection: string; geometry: Geometry; resume?: CheckpointResume } | undefined> {
    const log = this.log as EventLog;
    const signal = this.lease.signal;
    for (;;) {
      const m = await log.peek(signal, this.deps.releaseIdleMs);
      if (m === undefined) return undefined;
      if (m === 'idle') {
        if (await this.releaseIfDone()) return undefined;
        continue;
      }
      if (resume) {
        if (m.seq === resumeSeq && m.connection === resume.connection) return { connection: resume.connection, geometry: resume.geometry, resume };
        // The message holding the sample start is gone (retention): go on with what is stored.
        this.deps.metrics.skipped.inc({ reason: 'expired' });
        resume = undefined;
      }
      if (m.kind === 'open') {
        log.take();
        if (m.geometry) return { connection: m.connection, geometry: m.geometry };
        continue;
      }
      if (m.kind === 'end') {
        log.take();
        continue;
      }
      // A connection whose `open` marker we never read (expired, or a checkpoint between messages).
      try {
        return { connection: m.connection, geometry: readWireHeader(m.data).geometry };
      } catch {
        log.take();
        this.deps.metrics.skipped.inc({ reason: 'undecodable' });
      }
    }
  }

  private async classifyConnection(connection: string, sensor: Geometry, resume: CheckpointResume | undefined): Promise<void> {
    const { deps } = this;
    const log = this.log as EventLog;
    this.connection = connection;
    this.eventsRead = 0;
    const chosen = fitForModel(deps.model, deps.fit, sensor);
    const refusal = 'refusal' in chosen ? chosen.refusal : undefined;
    const fit: Fit = 'fit' in chosen ? chosen.fit : makeFit({ sensor, target: sensor });
    const seqOf = new WeakMap<EventBatch, number>();
    const { source } = connectionSource({
      log,
      connection,
      fit,
      seqOf,
      gate: (signal) => this.gate(signal),
      onSkip: (reason) => deps.metrics.skipped.inc({ reason }),
      onDelivered: (m) => (this.eventsRead = m.eventsTotal ?? this.eventsRead),
    });
    if (refusal !== undefined) {
      // The model cannot take this sensor: read past its messages without classifying them.
      deps.report({ type: 'error', streamId: this.streamId, message: `connection ${connection}: ${refusal}; its events are skipped` });
      const pull = source.open(this.lease.signal);
      while (!(await pull.next()).done) deps.metrics.skipped.inc({ reason: 'refused_geometry' });
      return;
    }
    const onSampleStart = (s: SampleStart): void => {
      const seq = seqOf.get(s.batch);
      if (seq === undefined) return;
      this.starts.set(s.sample, { seq, resume: { connection, geometry: sensor, index: s.index, tumblingOrigin: s.tumblingOrigin, detector: s.detector } });
      this.nextSample = s.sample + 1;
      this.checkpointIfDue();
    };
    const decisions = classifyLive(this.streamId, fit.geometry, source, {
      model: deps.model,
      scheduler: deps.scheduler,
      stats: deps.stats,
      segmentation: deps.segmentation,
      onDecided: deps.onDecided,
      // A new connection starts fresh (index 0, no detector state) but numbers its samples on from the last one.
      resume: resume ? { index: resume.index, sample: this.nextSample, tumblingOrigin: resume.tumblingOrigin, detector: resume.detector } : { index: 0, sample: this.nextSample },
      onSampleStart,
      onStep: deps.traces
        ? (r) => {
            if (this.lease.held) deps.broker.nc.publish(tracesSubject(this.streamId), JSON.stringify({ streamId: r.streamId, sampleId: r.sampleId, step: r.step, confidence: r.confidence, predicted: r.predicted, eventTimeUs: r.frame.tEnd }));
          }
        : undefined,
    }).pipe(
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
    this.stored = Math.max(this.stored, sampleNumber(d.sampleId));
    this.checkpointIfDue();
  }

  /** Checkpoints the start of sample k once every sample before it is stored (k = stored + 1). */
  private checkpointIfDue(): void {
    const k = this.stored + 1;
    const start = this.starts.get(k);
    if (start === undefined || k <= this.checkpointed) return;
    this.checkpointed = k;
    for (const n of this.starts.keys()) if (n < k) this.starts.delete(n);
    const cp: StreamCheckpoint = { v: 1, seq: start.seq, sample: k, resume: start.resume, owner: this.deps.workerId, state: 'owned', at: Date.now() };
    this.writes = this.writes.then(() => this.writeCheckpoint(cp)).catch((err: unknown) => void (this.writeError ??= err));
  }

  private throwIfWriteFailed(): void {
    if (this.writeError !== undefined) throw this.writeError;
  }

  /** Compare-and-set on the checkpoint's revision; refused → another worker owns the stream. */
  private async writeCheckpoint(cp: StreamCheckpoint): Promise<void> {
    const { deps } = this;
    for (let attempt = 0; ; attempt++) {
      if (!this.lease.held) throw new LeaseGone(`${this.streamId}: lease no longer held`);
      const value = encodeCheckpoint({ ...cp, task: this.task });
      try {
        this.cpRev = this.cpRev === 0 ? await deps.checkpoints.create(this.key, value) : await deps.checkpoints.update(this.key, value, this.cpRev);
        deps.metrics.checkpoints.inc();
        return;
      } catch (err) {
        if (isWrongRevision(err)) {
          // Our own write whose answer was lost, or another owner's: read and tell.
          const now = await deps.checkpoints.get(this.key).catch(() => null);
          const stored = now?.operation === 'PUT' ? readableCheckpoint(now.string(), this.streamId) : undefined;
          if (now && stored?.owner === deps.workerId && stored.task === this.task) {
            this.cpRev = now.revision;
            continue;
          }
          deps.metrics.fenced.inc();
          this.lease.markTaken();
          throw new LeaseGone(`${this.streamId}: checkpoint written by another worker`);
        }
        deps.metrics.retries.inc({ reason: 'disconnected' });
        await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
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
    await this.writes;
    await this.writeCheckpoint({ v: 1, seq: log.nextSeq, sample: this.nextSample, owner: deps.workerId, state: 'released', at: Date.now() });
    try {
      await deps.streams.update(this.key, encodeStreamEntry({ ...entry, doneSeq: log.nextSeq - 1 }), e.revision);
    } catch {
      // The stream changed meanwhile (a sensor connected): keep it.
      await this.writeCheckpoint({ v: 1, seq: log.nextSeq, sample: this.nextSample, owner: deps.workerId, state: 'owned', at: Date.now() });
      return false;
    }
    await this.lease.release();
    deps.metrics.released.inc();
    deps.report({ type: 'released', streamId: this.streamId, sample: this.nextSample });
    return true;
  }
}

function readableCheckpoint(text: string, streamId: string): StreamCheckpoint | undefined {
  try {
    return decodeCheckpoint(text, streamId);
  } catch {
    return undefined;
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
