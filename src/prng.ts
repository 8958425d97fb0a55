/**
 * The project's seeded pseudo-random numbers, all in one place. There are two generators, and
 * both stay because the bundled recordings, the synthetic datasets and the trained models depend
 * on each one's exact sequence:
 *
 * - `Rng`: xoshiro128** (Blackman & Vigna) seeded through splitmix32 (`mix32`), so that any
 *   integer seed gives a well-mixed state; with its distributions. The emulator and the dataset
 *   generators use it, with `keyedSeed(seed, ...keys)` for independent streams.
 * - `mulberry32(seed)`: a bare `() => number` draw, for weight initialisation, training shuffles
 *   and augmentation (`normal`, `randInt`, `shuffle`, `deriveSeed`) and for tests' random inputs.
 *
 * Both are deterministic across platforms: only 32-bit integer arithmetic (Math.imul, >>>) and
 * IEEE double division are used. test/prng.test.ts pins both sequences.
 */

/** splitmix32 step: a good 32-bit hash for seeding. */
export function mix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Combines a seed with any number of integer or string keys into a new 32-bit seed. */
export function keyedSeed(seed: number, ...keys: (number | string)[]): number {
  let h = mix32(seed >>> 0);
  for (const k of keys) {
    if (typeof k === 'number') {
      h = mix32((h ^ mix32(k >>> 0)) >>> 0);
      // Include the high part of large integers too.
      if (Math.abs(k) >= 2 ** 32) h = mix32((h ^ Math.floor(k / 2 ** 32)) >>> 0);
    } else {
      for (let i = 0; i < k.length; i++) h = mix32((h ^ k.charCodeAt(i)) >>> 0);
      h = mix32((h ^ k.length) >>> 0);
    }
  }
  return h;
}

/**
 * Derives an independent seed from a base seed and one integer tag (e.g. the epoch number):
 * training's per-epoch shuffles. A different hash from `keyedSeed`, kept for its sequence.
 */
export function deriveSeed(seed: number, tag: number): number {
  let h = (seed ^ Math.imul(tag + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** xoshiro128** with its distributions; `new Rng(seed)`. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = 0;
  private hasSpare = false;

  constructor(seed: number) {
    let s = seed >>> 0;
    this.a = mix32(s);
    s = (s + 0x6d2b79f5) >>> 0;
    this.b = mix32(s);
    s = (s + 0x6d2b79f5) >>> 0;
    this.c = mix32(s);
    s = (s + 0x6d2b79f5) >>> 0;
    this.d = mix32(s);
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next raw 32-bit unsigned integer (xoshiro128**). */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box–Muller, polar-free form; the second value is kept for the next call). */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false;
      return this.spare;
    }
    let u = this.next();
    while (u <= 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * v;
    this.spare = r * Math.sin(th);
    this.hasSpare = true;
    return r * Math.cos(th);
  }

  /** Exponential with the given rate (mean 1/rate). */
  exponential(rate: number): number {
    let u = this.next();
    while (u <= 0) u = this.next();
    return -Math.log(u) / rate;
  }

  /**
   * Poisson-distributed count with mean `mean`: Knuth's product method for small means,
   * a rounded normal approximation above 60 (relative error there is far below the
   * statistical noise of any test that looks at it).
   */
  poisson(mean: number): number {
    if (!(mean > 0)) return 0;
    if (mean > 60) {
      const k = Math.round(mean + Math.sqrt(mean) * this.normal());
      return k < 0 ? 0 : k;
    }
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** Picks one element. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(items: T[]): T[] {
    return shuffle(items, () => this.next());
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Uniform [0, 1) draw function from a 32-bit seed (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller from a draw function (one value per call, none kept). */
export function normal(draw: () => number): number {
  let u = 0;
  while (u === 0) u = draw();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * draw());
}

/** Integer in [lo, hi] inclusive. */
export function randInt(draw: () => number, lo: number, hi: number): number {
  return lo + Math.floor(draw() * (hi - lo + 1));
}

/** In-place Fisher–Yates shuffle of an array or typed array. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(a: T, draw: () => number): T {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(draw() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}
