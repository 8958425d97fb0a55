import type { EventBatch } from '../../src/events/event-batch';
import type { Frame } from '../types';
import { checkBinOptions, FrameBinner, type BinOptions, type Emit } from './binner';

/**
 * Pull-driven binning for one sample: `feed` batches, then ask for frames one at a time. A frame
 * is built only when asked for, so a consumer that decides after frame k never causes frame k+1
 * to be built, even when the events for it are already in memory.
 */
export class FrameCursor {
  private readonly binner: FrameBinner;
  private pending: EventBatch | null = null;
  private at = 0;
  private ended = false;
  private out: Frame | null = null;
  private pendingArrival = 0;
  /** Arrival (performance.now() ms) of the newest event in the open bin; undefined while it is empty. */
  private openArrival: number | undefined;
  private frameArrival = 0;
  private readonly take: Emit = (frame) => {
    this.out = frame;
    return 'pause';
  };

  constructor(options: BinOptions) {
    checkBinOptions(options);
    this.binner = new FrameBinner(options);
  }

  /** True when no more frames will come. */
  get finished(): boolean {
    return this.binner.finished && this.out === null;
  }

  /** True when the cursor needs another batch (or `end()`) before it can build the next frame. */
  get needsInput(): boolean {
    return this.pending === null && !this.ended && !this.binner.finished;
  }

  /** Gives the cursor its next batch; `arrivedAtMs` (performance.now() time) is when the batch reached us. */
  feed(batch: EventBatch, arrivedAtMs = performance.now()): void {
    if (this.pending !== null) throw new Error('FrameCursor: feed() before the previous batch was used up');
    this.pending = batch;
    this.pendingArrival = arrivedAtMs;
    this.at = 0;
  }

  /**
   * When the last frame's newest event arrived (performance.now() ms); for an empty frame, when
   * the event that closed it arrived. Decision latency is measured from here.
   */
  get lastFrameArrivalMs(): number {
    return this.frameArrival;
  }

  /** Events of the batch last fed that are not binned yet (a decision returns them to the segmenter). */
  get unconsumed(): number {
    return this.pending === null ? 0 : this.pending.length - this.at;
  }

  /** No more input will come. */
  end(): void {
    this.ended = true;
  }

  /** The next frame, or undefined when more input is needed (`needsInput`) or binning is over. */
  next(): Frame | undefined {
    let usedNow = false;
    if (this.pending !== null) {
      const from = this.at;
      const r = this.binner.push(this.pending, this.take, this.at);
      const usedTo = r.kind === 'paused' ? r.at : this.pending.length;
      // Events taken in this call went into the emitted frame (if any), else into the open bin.
      usedNow = usedTo > from;
      if (r.kind === 'paused') this.at = r.at;
      else this.pending = null;
    } else if (this.ended) {
      this.binner.finish(this.take);
    }
    const f = this.out;
    this.out = null;
    if (f !== null) {
      this.frameArrival = usedNow ? this.pendingArrival : (this.openArrival ?? this.pendingArrival);
      this.openArrival = undefined;
    } else if (usedNow) this.openArrival = this.pendingArrival;
    if (f === null && this.pending === null && this.ended && !this.binner.finished) return this.next();
    return f ?? undefined;
  }
}

