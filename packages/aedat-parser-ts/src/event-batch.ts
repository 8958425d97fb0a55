/**
 * A batch of DVS events as a struct of typed arrays. Hot paths work on these arrays
 * directly; there is never one object per event.
 *
 * Invariant: every array has at least `length` elements; elements past `length` are not
 * part of the batch (slices share memory with their parent).
 */
export interface EventBatch {
  readonly x: Uint16Array;
  readonly y: Uint16Array;
  /** 1 = ON (brightness increase), 0 = OFF. */
  readonly p: Uint8Array;
  /** Timestamps in microseconds. Float64 holds Unix-epoch µs exactly (< 2^53). */
  readonly t: Float64Array;
  readonly length: number;
}

export function emptyBatch(): EventBatch {
  return { x: new Uint16Array(0), y: new Uint16Array(0), p: new Uint8Array(0), t: new Float64Array(0), length: 0 };
}

/** A batch of `capacity` zeroed events, to be filled by a decoder and then trimmed with `sliceByIndex`. */
export function allocBatch(capacity: number): EventBatch {
  return {
    x: new Uint16Array(capacity),
    y: new Uint16Array(capacity),
    p: new Uint8Array(capacity),
    t: new Float64Array(capacity),
    length: capacity,
  };
}

/** Events [start, end) as views on the same memory (no copy). */
export function sliceByIndex(batch: EventBatch, start: number, end: number = batch.length): EventBatch {
  const s = Math.max(0, Math.min(start, batch.length));
  const e = Math.max(s, Math.min(end, batch.length));
  return {
    x: batch.x.subarray(s, e),
    y: batch.y.subarray(s, e),
    p: batch.p.subarray(s, e),
    t: batch.t.subarray(s, e),
    length: e - s,
  };
}

/** First index whose timestamp is >= t (binary search; assumes timestamps are non-decreasing). */
export function lowerBoundTime(batch: EventBatch, t: number): number {
  let lo = 0;
  let hi = batch.length;
  const ts = batch.t;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Events with tStart <= t < tEnd, as views (no copy). Assumes non-decreasing timestamps. */
export function sliceByTime(batch: EventBatch, tStart: number, tEnd: number): EventBatch {
  return sliceByIndex(batch, lowerBoundTime(batch, tStart), lowerBoundTime(batch, tEnd));
}

/** Concatenates batches into one new batch. A single non-empty batch is returned as is (no copy). */
export function concatBatches(batches: readonly EventBatch[]): EventBatch {
  const nonEmpty = batches.filter((b) => b.length > 0);
  if (nonEmpty.length === 0) return emptyBatch();
  if (nonEmpty.length === 1) return nonEmpty[0];
  let total = 0;
  for (const b of nonEmpty) total += b.length;
  const out = allocBatch(total);
  let at = 0;
  for (const b of nonEmpty) {
    out.x.set(b.x.subarray(0, b.length), at);
    out.y.set(b.y.subarray(0, b.length), at);
    out.p.set(b.p.subarray(0, b.length), at);
    out.t.set(b.t.subarray(0, b.length), at);
    at += b.length;
  }
  return out;
}

/** A compact copy that owns its memory (for keeping a slice after its parent buffer is reused). */
export function cloneBatch(batch: EventBatch): EventBatch {
  return {
    x: batch.x.slice(0, batch.length),
    y: batch.y.slice(0, batch.length),
    p: batch.p.slice(0, batch.length),
    t: batch.t.slice(0, batch.length),
    length: batch.length,
  };
}

/** Number of ON events. */
export function countOn(batch: EventBatch): number {
  let n = 0;
  const p = batch.p;
  for (let i = 0; i < batch.length; i++) n += p[i];
  return n;
}

/** Builds a batch from plain arrays; for tests and small hand-made inputs, not for hot paths. */
export function batchFromArrays(cols: {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  p: ArrayLike<number>;
  t: ArrayLike<number>;
}): EventBatch {
  const n = cols.t.length;
  if (cols.x.length !== n || cols.y.length !== n || cols.p.length !== n) {
    throw new RangeError(`batchFromArrays: columns differ in length (x ${cols.x.length}, y ${cols.y.length}, p ${cols.p.length}, t ${n})`);
  }
  return {
    x: Uint16Array.from(cols.x),
    y: Uint16Array.from(cols.y),
    p: Uint8Array.from(cols.p),
    t: Float64Array.from(cols.t),
    length: n,
  };
}

/**
 * Growable column store for code that does not know the event count in advance
 * (writers' inputs, emulators). Appends whole batches or single events into typed arrays.
 */
export class EventBatchBuilder {
  private xs: Uint16Array;
  private ys: Uint16Array;
  private ps: Uint8Array;
  private ts: Float64Array;
  private n = 0;

  constructor(initialCapacity = 1024) {
    const c = Math.max(16, initialCapacity);
    this.xs = new Uint16Array(c);
    this.ys = new Uint16Array(c);
    this.ps = new Uint8Array(c);
    this.ts = new Float64Array(c);
  }

  get length(): number {
    return this.n;
  }

  private ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.xs.length) return;
    let c = this.xs.length * 2;
    while (c < need) c *= 2;
    const grow = <T extends Uint16Array | Uint8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(c);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.xs = grow(this.xs, (k) => new Uint16Array(k));
    this.ys = grow(this.ys, (k) => new Uint16Array(k));
    this.ps = grow(this.ps, (k) => new Uint8Array(k));
    this.ts = grow(this.ts, (k) => new Float64Array(k));
  }

  push(x: number, y: number, p: number, t: number): void {
    if (this.n === this.xs.length) this.ensure(1);
    const i = this.n++;
    this.xs[i] = x;
    this.ys[i] = y;
    this.ps[i] = p;
    this.ts[i] = t;
  }

  append(batch: EventBatch): void {
    this.ensure(batch.length);
    this.xs.set(batch.x.subarray(0, batch.length), this.n);
    this.ys.set(batch.y.subarray(0, batch.length), this.n);
    this.ps.set(batch.p.subarray(0, batch.length), this.n);
    this.ts.set(batch.t.subarray(0, batch.length), this.n);
    this.n += batch.length;
  }

  /** The events so far as a compact batch that owns its memory; the builder is reset. */
  take(): EventBatch {
    const out: EventBatch = {
      x: this.xs.slice(0, this.n),
      y: this.ys.slice(0, this.n),
      p: this.ps.slice(0, this.n),
      t: this.ts.slice(0, this.n),
      length: this.n,
    };
    this.n = 0;
    return out;
  }
}
