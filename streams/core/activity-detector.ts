import type { EventBatch } from '../../src/events/event-batch';

/** Per-event output of the detector for one batch. */
export interface ActivityScan {
  /** 1 where the count in the sliding window (t − W, t] is at or above the level. */
  readonly above: Uint8Array;
  /** For each event: from when the rate is below the level if no further event comes (−Infinity: never at the level yet). */
  readonly quietAfter: Float64Array;
  /** `quietAfter` as it stood before the batch's first event. */
  readonly quietBefore0: number;
}

/**
 * What an `ActivityDetector` needs to go on exactly where another left off: its newest
 * timestamps inside the window (at most `threshold` of them: older ones can no longer change a
 * verdict) and the time from which the rate is below the level. Plain data (JSON-ready, with
 * `quietFrom` = −Infinity while the level was never reached).
 */
export interface ActivitySnapshot {
  readonly times: readonly number[];
  readonly quietFrom: number;
}

/**
 * The event-rate detector of activity-based segmentation: the rate is at the level at event t when
 * `threshold` events fall in the sliding window (t − W, t], i.e. when the threshold-th newest
 * event is inside it. So the detector keeps only the newest `threshold` timestamps (a fixed ring:
 * one store and one compare per event, nothing evicted). It sees every event exactly once, in
 * order, so its output depends on the events only — never on how they were split into batches
 * or on decisions taken meanwhile.
 */
export class ActivityDetector {
  private readonly ring: Float64Array;
  /** Where the next time goes; once the ring is full, also the oldest of the newest `threshold`. */
  private pos = 0;
  /** Times in the ring (at most `threshold`). */
  private count = 0;
  private lastT = -Infinity;
  private quietFrom = -Infinity;

  constructor(
    readonly windowUs: number,
    readonly threshold: number,
  ) {
    this.ring = new Float64Array(threshold);
  }

  /**
   * The detector's state now, small enough to store per batch: its newest times inside the
   * window (at most `threshold`). A verdict needs only those, so a detector restored from it
   * scans every later event the same way.
   */
  snapshot(): ActivitySnapshot {
    const thr = this.threshold;
    const times: number[] = [];
    const since = this.lastT - this.windowUs;
    for (let q = 0; q < this.count; q++) {
      const t = this.ring[(this.pos - this.count + q + thr) % thr];
      if (t > since) times.push(t);
    }
    return { times, quietFrom: this.quietFrom };
  }

  /** Goes on from `s` (taken by `snapshot`, possibly of another detector with the same W and level). */
  restore(s: ActivitySnapshot): void {
    const n = s.times.length;
    if (n > this.threshold) throw new RangeError(`ActivityDetector.restore: ${n} times for a level of ${this.threshold}`);
    for (let q = 1; q < n; q++) {
      if (!(s.times[q] >= s.times[q - 1])) throw new RangeError(`ActivityDetector.restore: times must be non-decreasing (at ${q})`);
    }
    this.ring.fill(0);
    this.ring.set(s.times);
    this.count = n;
    this.pos = n % this.threshold;
    this.lastT = n > 0 ? s.times[n - 1] : -Infinity;
    this.quietFrom = s.quietFrom;
  }

  /** The verdict of every event of `batch` (see `ActivityScan`), the detector moved past it. */
  scan(batch: EventBatch): ActivityScan {
    const n = batch.length;
    const T = batch.t;
    const thr = this.threshold;
    const W = this.windowUs;
    const ring = this.ring;
    const quietBefore0 = this.quietFrom;
    const above = new Uint8Array(n);
    const quietAfter = new Float64Array(n);
    let pos = this.pos;
    let count = this.count;
    let quietFrom = this.quietFrom;
    for (let i = 0; i < n; i++) {
      const t = T[i];
      ring[pos] = t;
      pos = pos + 1 === thr ? 0 : pos + 1;
      if (count < thr) count++;
      // Full ring: ring[pos] is the threshold-th newest time.
      if (count === thr && ring[pos] > t - W) {
        above[i] = 1;
        quietFrom = ring[pos] + W;
      }
      quietAfter[i] = quietFrom;
    }
    this.pos = pos;
    this.count = count;
    this.quietFrom = quietFrom;
    if (n > 0) this.lastT = T[n - 1];
    return { above, quietAfter, quietBefore0 };
  }
}

/** When a sample ends if event e (of the scanned batch) is not yet past it: the quiet-gap end or `maxEnd`. */
export function activityEndTime(scan: ActivityScan, e: number, quietUs: number, maxEnd: number): number {
  const quietSince = e === 0 ? scan.quietBefore0 : scan.quietAfter[e - 1];
  return Math.min(quietSince + quietUs, maxEnd);
}

/**
 * The first index e ≥ from (up to `batch.length`) at which an activity sample ends: its event
 * time has reached `activityEndTime`. `batch.length` when the sample goes on past this batch.
 */
export function activityEndIndex(batch: EventBatch, scan: ActivityScan, from: number, quietUs: number, maxEnd: number): number {
  const T = batch.t;
  const n = batch.length;
  let e = from;
  while (e < n && T[e] < activityEndTime(scan, e, quietUs, maxEnd)) e++;
  return e;
}
