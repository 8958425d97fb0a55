/**
 * Which streams a worker should try to take, from what it sees in two buckets: the streams
 * bucket (gateways announce each sensor connection) and the lease bucket (every lease renewal,
 * and every worker's presence key `worker.<id>`, are visible writes; the bucket's TTL removes
 * what is not renewed).
 *
 * A stream is free when it has work and no lease write was seen for a lease time (never taken,
 * released, or its owner stopped renewing: killed, paused, cut off). Free streams are spread by
 * a fair share — streams with work / live workers: a worker below its share tries at once (10 ms
 * later per stream it holds, to interleave with the others), one at or above it leaves the
 * stream to the others for 300 ms first. `create` on the lease key settles any race.
 */
import { streamIdOfToken, streamToken } from './names';
import { streamHasWork, type StreamEntry } from './stream-entry';

/** The lease-bucket key that says a worker is alive (not a stream token: those never hold a '.'). */
export function presenceKey(workerId: string): string {
  return `worker.${streamToken(workerId)}`;
}

const PRESENCE_PREFIX = 'worker.';
const SPREAD_MS = 10;
const MAX_SPREAD_MS = 250;
const OVER_SHARE_WAIT_MS = 300;
/** Before trying a stream again after a failed `create`. */
const RETRY_MS = 100;

interface Known {
  entry?: StreamEntry;
  leaseWorker?: string;
  /** performance.now() of the last write seen on the stream's lease key. */
  leaseSeenAt: number;
  /** performance.now() since when the stream has been seen free. */
  freeSince?: number;
  nextTryAt: number;
}

export class Placement {
  private readonly known = new Map<string, Known>();
  /** Worker id → performance.now() of its last presence write. */
  private readonly workers = new Map<string, number>();

  constructor(
    readonly self: string,
    readonly leaseMs: number,
  ) {}

  private of(streamId: string): Known {
    let k = this.known.get(streamId);
    if (!k) this.known.set(streamId, (k = { leaseSeenAt: 0, nextTryAt: 0 }));
    return k;
  }

  /** A write (or delete: undefined) in the streams bucket; returns the stream id. */
  onStreamEntry(key: string, entry: StreamEntry | undefined): string {
    const streamId = streamIdOfToken(key);
    this.of(streamId).entry = entry;
    return streamId;
  }

  /** A write (or delete) in the lease bucket: a stream's lease or a worker's presence. */
  onLeaseKey(key: string, worker: string | undefined, now: number): void {
    if (key.startsWith(PRESENCE_PREFIX)) {
      const id = streamIdOfToken(key.slice(PRESENCE_PREFIX.length));
      if (worker === undefined) this.workers.delete(id);
      else this.workers.set(id, now);
      return;
    }
    const k = this.of(streamIdOfToken(key));
    k.leaseWorker = worker;
    if (worker !== undefined) k.leaseSeenAt = now;
  }

  /** This worker took the stream. */
  taken(streamId: string, now: number): void {
    const k = this.of(streamId);
    k.leaseWorker = this.self;
    k.leaseSeenAt = now;
    k.freeSince = undefined;
  }

  /** A try failed for a reason other than another owner (the broker away): wait `ms`. */
  later(streamId: string, now: number, ms: number): void {
    this.of(streamId).nextTryAt = now + ms;
  }

  /** Streams to try now, given how many this worker holds (or is taking) and which. */
  due(now: number, held: number, mine: (streamId: string) => boolean): string[] {
    const live = [...this.workers.values()].filter((at) => now - at < this.leaseMs).length;
    const withWork = [...this.known.values()].filter((k) => k.entry && streamHasWork(k.entry)).length;
    let belowShare = Math.max(0, Math.ceil(withWork / Math.max(1, live)) - held);
    const spread = Math.min(MAX_SPREAD_MS, SPREAD_MS * held);
    const out: string[] = [];
    for (const [streamId, k] of this.known) {
      if (!k.entry || !streamHasWork(k.entry) || mine(streamId)) continue;
      if (k.leaseWorker !== undefined && now - k.leaseSeenAt < this.leaseMs) {
        k.freeSince = undefined;
        continue;
      }
      k.freeSince ??= now;
      if (now < k.nextTryAt) continue;
      const freeFor = now - k.freeSince;
      if (belowShare > 0 && freeFor >= spread) belowShare--;
      else if (freeFor < OVER_SHARE_WAIT_MS) continue;
      k.nextTryAt = now + RETRY_MS;
      out.push(streamId);
    }
    return out;
  }
}
