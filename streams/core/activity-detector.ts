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
 * The event-rate detector of activity-based segmentation: a ring of the timestamps inside the
 * sliding window W. It sees every event exactly once, in order, so its output depends on the
 * events only — never on how they were split into batches or on decisions taken meanwhile.
 */
export class ActivityDetector {
  private ring: Float64Array;
  private head = 0;
  private size = 0;
  private quietFrom = -Infinity;

  constructor(
    readonly windowUs: number,
    readonly threshold: number,
  ) {
    this.ring = new Float64Array(Math.max(16, threshold * 2));
  }

  private pushTime(t: number): void {
    const W = this.windowUs;
    let cap = this.ring.length;
    while (this.size > 0 && this.ring[this.head] <= t - W) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.size--;
    }
    if (this.size === cap) {
      const bigger = new Float64Array(cap * 2);
      for (let q = 0; q < this.size; q++) bigger[q] = this.ring[(this.head + q) % cap];
      this.ring = bigger;
      this.head = 0;
      cap = bigger.length;
    }
    this.ring[(this.head + this.size) % cap] = t;
    this.size++;
  }

  /**
   * The detector's state now, small enough to store per batch: its newest `threshold` times.
   * A verdict needs only those — `threshold` events in (t − W, t] means the threshold-th newest
   * is inside the window — so a detector restored from it scans every later event the same way.
   */
  snapshot(): ActivitySnapshot {
    const keep = Math.min(this.size, this.threshold);
    const cap = this.ring.length;
    const times = new Array<number>(keep);
    for (let q = 0; q < keep; q++) times[q] = this.ring[(this.head + this.size - keep + q) % cap];
    return { times, quietFrom: this.quietFrom };
  }

  /** Goes on from `s` (taken by `snapshot`, possibly of another detector with the same W and level). */
  restore(s: ActivitySnapshot): void {
    const n = s.times.length;
    if (n > this.threshold) throw new RangeError(`ActivityDetector.restore: ${n} times for a level of ${this.threshold}`);
    for (let q = 1; q < n; q++) {
      if (!(s.times[q] >= s.times[q - 1])) throw new RangeError(`ActivityDetector.restore: times must be non-decreasing (at ${q})`);
    }
    this.ring = new Float64Array(Math.max(16, this.threshold * 2));
    this.ring.set(s.times);
    this.head = 0;
    this.size = n;
    this.quietFrom = s.quietFrom;
  }

  scan(batch: EventBatch): ActivityScan {
    const n = batch.length;
    const T = batch.t;
    const thr = this.threshold;
    const quietBefore0 = this.quietFrom;
    const above = new Uint8Array(n);
    const quietAfter = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.pushTime(T[i]);
      if (this.size >= thr) {
        above[i] = 1;
        this.quietFrom = this.ring[(this.head + this.size - thr) % this.ring.length] + this.windowUs;
      }
      quietAfter[i] = this.quietFrom;
    }
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
