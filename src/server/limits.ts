/**
 * Token bucket for per-connection event-rate limits: `ratePerSecond` tokens (events) refill
 * continuously up to `burst`. A message of n events is admitted when n tokens are available
 * (they are taken); otherwise it is refused whole and no tokens are taken. A message larger
 * than `burst` can never pass, so choose burst ≥ the largest message a sensor sends.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number = ratePerSecond,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst > 0)) throw new RangeError('TokenBucket: rate and burst must be > 0');
    this.tokens = burst;
    this.last = now();
  }

  /** Tokens available now. */
  get available(): number {
    this.refill();
    return this.tokens;
  }

  tryTake(n: number): boolean {
    this.refill();
    if (n > this.tokens) return false;
    this.tokens -= n;
    return true;
  }

  private refill(): void {
    const t = this.now();
    const dt = (t - this.last) / 1000;
    this.last = t;
    if (dt > 0) this.tokens = Math.min(this.burst, this.tokens + dt * this.ratePerSecond);
  }
}
