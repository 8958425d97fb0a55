/**
 * Replay pacing by event timestamps: as fast as possible, in real time, or at a speed factor
 * (2 = twice as fast as recorded). Named after Metavision's `real_time_playback` /
 * `replay_factor`.
 */
export type Pacing = { readonly mode: 'asap' } | { readonly mode: 'speed'; readonly factor: number };

export const ASAP: Pacing = { mode: 'asap' };
export const REALTIME: Pacing = { mode: 'speed', factor: 1 };

export function speed(factor: number): Pacing {
  if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError(`replay speed must be a positive number, got ${factor}`);
  return { mode: 'speed', factor };
}

/** Longest stretch of sensor time emitted as one batch when pacing (so replay is smooth). */
export const PACED_SLICE_US = 10_000;

/**
 * Maps sensor time to wall time: the first event seen anchors both clocks; `wait(t)` resolves
 * when wall time reaches the moment event time t is due.
 */
export class Pacer {
  private anchorEventUs: number | undefined;
  private anchorWallMs = 0;

  constructor(
    readonly pacing: Pacing,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get paced(): boolean {
    return this.pacing.mode !== 'asap';
  }

  /** Milliseconds to wait before emitting an event stamped `tUs`. */
  delayMs(tUs: number): number {
    if (this.pacing.mode === 'asap') return 0;
    if (this.anchorEventUs === undefined) {
      this.anchorEventUs = tUs;
      this.anchorWallMs = this.now();
      return 0;
    }
    const dueMs = this.anchorWallMs + (tUs - this.anchorEventUs) / 1000 / this.pacing.factor;
    return Math.max(0, dueMs - this.now());
  }

  async wait(tUs: number): Promise<void> {
    const ms = this.delayMs(tUs);
    if (ms > 0) await new Promise<void>((resolve) => setTimeout(resolve, ms));
  }
}
