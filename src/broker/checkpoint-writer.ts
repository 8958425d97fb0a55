/**
 * One stream's checkpoints while a worker holds it: read the last one, remember where each
 * sample started, and move the checkpoint to the start of sample k once the decision of every
 * sample before k is stored. Each write is a compare-and-set on the key's revision, so a write by
 * an earlier owner that wakes up is refused by the broker (then the lease counts as taken).
 */
import type { KV } from '@nats-io/kv';
import { decodeCheckpoint, encodeCheckpoint, initialCheckpoint, type CheckpointResume, type StreamCheckpoint } from './checkpoint';
import { isWrongRevision, type Lease } from './lease';
import type { WorkerMetrics } from './metrics';
import { streamToken } from './names';

/** The lease is gone: stop without another write. */
export class LeaseGone extends Error {
  override readonly name = 'LeaseGone';
}

export class CheckpointWriter {
  private readonly key: string;
  private revision = 0;
  /** Sample starts seen, by sample number, until a checkpoint passes them. */
  private readonly starts = new Map<number, { seq: number; resume: CheckpointResume }>();
  /** The highest sample whose decision is stored, and the sample the stored checkpoint starts at. */
  private stored = -1;
  private checkpointed = -1;
  private writes: Promise<void> = Promise.resolve();
  private writeError: unknown;

  constructor(
    private readonly kv: KV,
    private readonly streamId: string,
    private readonly workerId: string,
    /** This task's id: tells our own write whose answer was lost from another owner's. */
    private readonly task: string,
    private readonly lease: Lease,
    private readonly metrics: WorkerMetrics,
  ) {
    this.key = streamToken(streamId);
  }

  /** The stored checkpoint (or the initial one), whether one was stored, and why it could not be read. */
  async read(): Promise<{ cp: StreamCheckpoint; stored: boolean; unreadable?: string }> {
    const entry = await this.kv.get(this.key);
    if (entry) this.revision = entry.revision;
    if (!entry || entry.operation !== 'PUT') return { cp: initialCheckpoint(this.workerId), stored: false };
    try {
      return { cp: decodeCheckpoint(entry.string(), this.streamId), stored: true };
    } catch (err) {
      return { cp: initialCheckpoint(this.workerId), stored: true, unreadable: (err as Error).message };
    }
  }

  /** Classifying resumes at `sample`: every sample before it is stored. */
  startAt(sample: number): void {
    this.stored = sample - 1;
    this.checkpointed = sample;
  }

  /** Sample `sample` starts in the message `seq`, at `resume`. */
  sampleStarted(sample: number, seq: number, resume: CheckpointResume): void {
    this.starts.set(sample, { seq, resume });
    this.checkpointIfDue();
  }

  /** The decision of `sample` is stored. */
  sampleStored(sample: number): void {
    this.stored = Math.max(this.stored, sample);
    this.checkpointIfDue();
  }

  /** Rethrows what made a background checkpoint write fail. */
  throwIfFailed(): void {
    if (this.writeError !== undefined) throw this.writeError;
  }

  /** Resolves when the background writes started so far are done. */
  settled(): Promise<void> {
    return this.writes;
  }

  /** Checkpoints the start of sample k once every sample before it is stored (k = stored + 1). */
  private checkpointIfDue(): void {
    const k = this.stored + 1;
    const start = this.starts.get(k);
    if (start === undefined || k <= this.checkpointed) return;
    this.checkpointed = k;
    for (const n of this.starts.keys()) if (n < k) this.starts.delete(n);
    const cp: StreamCheckpoint = { v: 1, seq: start.seq, sample: k, resume: start.resume, owner: this.workerId, state: 'owned', at: Date.now() };
    this.writes = this.writes.then(() => this.write(cp)).catch((err: unknown) => void (this.writeError ??= err));
  }

  /** Compare-and-set on the checkpoint's revision; refused → another worker owns the stream. */
  async write(cp: StreamCheckpoint): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (!this.lease.held) throw new LeaseGone(`${this.streamId}: lease no longer held`);
      const value = encodeCheckpoint({ ...cp, task: this.task });
      try {
        this.revision = this.revision === 0 ? await this.kv.create(this.key, value) : await this.kv.update(this.key, value, this.revision);
        this.metrics.checkpoints.inc();
        return;
      } catch (err) {
        if (!isWrongRevision(err)) {
          this.metrics.retries.inc({ reason: 'disconnected' });
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          continue;
        }
        // Our own write whose answer was lost, or another owner's: read and tell.
        const now = await this.kv.get(this.key).catch(() => null);
        const stored = now?.operation === 'PUT' ? readableCheckpoint(now.string(), this.streamId) : undefined;
        if (now && stored?.owner === this.workerId && stored.task === this.task) {
          this.revision = now.revision;
          continue;
        }
        this.metrics.fenced.inc();
        this.lease.markTaken();
        throw new LeaseGone(`${this.streamId}: checkpoint written by another worker`);
      }
    }
  }
}

function readableCheckpoint(text: string, streamId: string): StreamCheckpoint | undefined {
  try {
    return decodeCheckpoint(text, streamId);
  } catch {
    return undefined;
  }
}
