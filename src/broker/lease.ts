/**
 * A worker's lease on one stream: a key in the lease bucket, whose TTL is the lease time.
 *
 * Acquiring is `create` (it succeeds only when the key is absent: never taken, released, or
 * expired because its owner stopped renewing). Renewing is `update` with the revision we last
 * wrote — compare-and-set — so a worker that was paused past its lease and finds another owner's
 * revision learns it has lost the stream, and stops. Locally the lease also counts as lost once
 * the lease time has passed since the last renewal the broker confirmed, whatever the broker is
 * doing, so a worker cut off from NATS stops publishing before another can take over.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { streamToken } from './names';

/** Why a lease ended. */
export type LeaseEnd = 'released' | 'taken' | 'expired' | 'stopped';

export interface LeaseValue {
  readonly worker: string;
  readonly since: number;
}

const WRONG_LAST_SEQUENCE = [10071, 10164];

/** True for the broker's answer to a compare-and-set with a stale revision. */
export function isWrongRevision(err: unknown): boolean {
  return err instanceof JetStreamApiError && WRONG_LAST_SEQUENCE.includes(err.code);
}

export class Lease {
  private control = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private endedBy: LeaseEnd | undefined;
  /** performance.now() until which the lease is ours for sure. */
  private validUntil: number;

  private constructor(
    private readonly kv: KV,
    readonly streamId: string,
    readonly worker: string,
    readonly leaseMs: number,
    /** The key's revision we last wrote. */
    public revision: number,
    askedAt: number,
    private readonly onRenewError: (err: unknown) => void,
  ) {
    this.validUntil = askedAt + this.usableMs;
    this.timer = setInterval(() => void this.renew(), Math.max(50, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  /** The part of the lease time we rely on: a margin for clock-rate differences and the trip to the broker. */
  private get usableMs(): number {
    return this.leaseMs - Math.min(250, this.leaseMs / 10);
  }

  /** The lease, or undefined when another worker holds it. */
  static async acquire(kv: KV, streamId: string, worker: string, leaseMs: number, onRenewError: (err: unknown) => void = () => undefined): Promise<Lease | undefined> {
    const askedAt = performance.now();
    const value: LeaseValue = { worker, since: Date.now() };
    try {
      const rev = await kv.create(streamToken(streamId), JSON.stringify(value));
      return new Lease(kv, streamId, worker, leaseMs, rev, askedAt, onRenewError);
    } catch (err) {
      if (isWrongRevision(err)) return undefined;
      throw err;
    }
  }

  /** Aborts when the lease is lost or released: everything working for it stops. */
  get signal(): AbortSignal {
    return this.control.signal;
  }

  /** True while the lease is certainly ours (checked right before each publish). */
  get held(): boolean {
    if (this.endedBy !== undefined) return false;
    if (performance.now() >= this.validUntil) {
      this.end('expired');
      return false;
    }
    return true;
  }

  get ended(): LeaseEnd | undefined {
    return this.endedBy;
  }

  /** One renewal (compare-and-set on our revision); concurrent calls share it. */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async renewOnce(): Promise<void> {
    if (!this.held) return;
    const askedAt = performance.now();
    try {
      const rev = await this.kv.update(streamToken(this.streamId), JSON.stringify({ worker: this.worker, since: Date.now() } satisfies LeaseValue), this.revision);
      if (this.endedBy !== undefined) return;
      this.revision = rev;
      this.validUntil = askedAt + this.usableMs;
    } catch (err) {
      if (isWrongRevision(err)) this.end('taken');
      else {
        this.onRenewError(err);
        // Past the lease time without a confirmed renewal: lost, whatever the broker still says.
        if (performance.now() >= this.validUntil) this.end('expired');
      }
    }
  }

  /** Gives the stream up now (deletes the key if it is still ours), so another worker can take it at once. */
  async release(): Promise<void> {
    if (this.endedBy !== undefined) return;
    const rev = this.revision;
    this.end('released');
    await this.kv.delete(streamToken(this.streamId), { previousSeq: rev }).catch(() => undefined);
  }

  /** Another worker proved to own the stream (a fence or a checkpoint refused us): stop at once. */
  markTaken(): void {
    this.end('taken');
  }

  /** Stops renewing without deleting (the process is going away; the TTL frees the stream). */
  stop(): void {
    this.end('stopped');
  }

  private end(why: LeaseEnd): void {
    if (this.endedBy !== undefined) return;
    this.endedBy = why;
    clearInterval(this.timer);
    this.control.abort(why);
  }
}
