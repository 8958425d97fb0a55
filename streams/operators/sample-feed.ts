import { Observable, type Subscriber } from 'rxjs';
import { sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import type { Sample } from '../types';

/**
 * Counters a segmenter increments. `routed`: events delivered to samples (an event inside two
 * overlapping windows counts twice); `skipped`: events inside a decided sample's window that were
 * not delivered; `unrouted`: events outside every sample; `decided`: samples decided before their end.
 */
export interface SegmentStats {
  samples: number;
  routed: number;
  skipped: number;
  unrouted: number;
  decided: number;
}

export function segmentStats(): SegmentStats {
  return { samples: 0, routed: 0, skipped: 0, unrouted: 0, decided: 0 };
}

/** What a live segmenter (tumbling, activity) does after the current sample is decided. */
export type OnDecided = 'next-sample' | 'skip-to-window-end';

/** A Sample produced by a segmenter, with its decision handle and counters. */
export interface SegmentedSample extends Sample {
  /**
   * Tells the segmenter this sample is decided: no further events are routed to it (they are
   * counted as skipped, or start the next sample) and current subscribers of `events` complete.
   * Unsubscribing every subscriber from `events` before it completes has the same effect
   * without the completion (the usual path: `decide` completes → binning unsubscribes).
   */
  decide(): void;
  readonly decided: boolean;
  /** Events delivered to this sample so far. */
  readonly routedEvents: number;
  /** Events of this sample's window not delivered because it was decided. */
  readonly skippedEvents: number;
  /** When the sample ended (µs): its window end, its quiet-gap end, the decision point or the last event time at stream end; undefined while open. */
  readonly endedAt: number | undefined;
}

/** Fields of a new feed. */
export interface FeedInit {
  readonly id: string;
  readonly streamId: string;
  readonly label?: number;
  readonly tStart: number;
  readonly tEnd: number;
  readonly geometry: Geometry;
  readonly stats?: SegmentStats;
}

/**
 * The per-sample channel segmenters push events into.
 *
 * Semantics of `events` (documented contract):
 * - Events are held until the FIRST subscription (only this sample's own events, bounded by its
 *   window), replayed to that subscriber, then released; from then on events are forwarded live
 *   and nothing is kept. A later concurrent subscriber sees only events after it subscribed.
 *   Subscribing after the sample ended replays the held events (if nobody subscribed before) and
 *   completes.
 * - When the last subscriber unsubscribes before the sample ended, the sample is decided.
 *   Subscribing to a decided sample completes at once.
 */
export class SampleFeed implements SegmentedSample {
  readonly id: string;
  readonly streamId: string;
  readonly label?: number;
  readonly tStart: number;
  readonly tEnd: number;
  readonly geometry: Geometry;
  readonly events: Observable<EventBatch>;
  private held: EventBatch[] | null = [];
  private readonly subscribers: Subscriber<EventBatch>[] = [];
  private hadSubscriber = false;
  private state: 'open' | 'complete' | 'error' = 'open';
  private failure: unknown;
  private isDecided = false;
  private routed = 0;
  private skipped = 0;
  private ended: number | undefined;
  private readonly stats?: SegmentStats;

  constructor(init: FeedInit) {
    this.id = init.id;
    this.streamId = init.streamId;
    if (init.label !== undefined) this.label = init.label;
    this.tStart = init.tStart;
    this.tEnd = init.tEnd;
    this.geometry = init.geometry;
    this.stats = init.stats;
    if (this.stats) this.stats.samples++;
    this.events = new Observable<EventBatch>((subscriber) => {
      if (this.isDecided) {
        subscriber.complete();
        return undefined;
      }
      if (!this.hadSubscriber) {
        this.hadSubscriber = true;
        const held = this.held ?? [];
        this.held = null;
        for (const b of held) {
          if (subscriber.closed) break;
          subscriber.next(b);
        }
        if (subscriber.closed) {
          // Unsubscribed during the replay: decided before the end (when still open).
          if (this.state === 'open') this.markDecided();
          return undefined;
        }
      }
      if (this.state === 'complete') {
        subscriber.complete();
        return undefined;
      }
      if (this.state === 'error') {
        subscriber.error(this.failure);
        return undefined;
      }
      this.subscribers.push(subscriber);
      return () => {
        const at = this.subscribers.indexOf(subscriber);
        if (at >= 0) this.subscribers.splice(at, 1);
        if (this.subscribers.length === 0 && this.state === 'open') this.markDecided();
      };
    });
  }

  get decided(): boolean {
    return this.isDecided;
  }
  get routedEvents(): number {
    return this.routed;
  }
  get skippedEvents(): number {
    return this.skipped;
  }
  get endedAt(): number | undefined {
    return this.ended;
  }
  get isOpen(): boolean {
    return this.state === 'open';
  }

  private markDecided(): void {
    if (this.isDecided || this.state !== 'open') return;
    this.isDecided = true;
    this.held = null;
    if (this.stats) this.stats.decided++;
  }

  decide(): void {
    if (this.isDecided || this.state !== 'open') return;
    this.markDecided();
    for (const s of this.subscribers.slice()) s.complete();
  }

  /** Delivers a batch (or counts it as skipped once decided). */
  push(batch: EventBatch): void {
    const n = batch.length;
    if (n === 0) return;
    if (this.isDecided || this.state !== 'open') {
      this.skip(n);
      return;
    }
    this.routed += n;
    if (this.stats) this.stats.routed += n;
    if (!this.hadSubscriber) {
      (this.held as EventBatch[]).push(batch);
      return;
    }
    for (const s of this.subscribers.slice()) s.next(batch);
  }

  /** Counts `n` events of this window as skipped. */
  skip(n: number): void {
    if (n <= 0) return;
    this.skipped += n;
    if (this.stats) this.stats.skipped += n;
  }

  /** Takes back `n` events counted as routed that the decided sample never consumed (they go to the next sample). */
  unroute(n: number): void {
    this.routed -= n;
    if (this.stats) this.stats.routed -= n;
  }

  complete(endedAt: number): void {
    if (this.state !== 'open') return;
    this.state = 'complete';
    this.ended = endedAt;
    for (const s of this.subscribers.slice()) s.complete();
  }

  error(err: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'error';
    this.failure = err;
    this.held = null;
    for (const s of this.subscribers.slice()) s.error(err);
  }
}

/** First index in [lo, hi) whose time is >= value (hi when none). */
export function lowerBoundFrom(t: Float64Array, value: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * How a live segmenter splits deliveries so that decisions do not depend on batch boundaries:
 * `stepUs` (set it to the binner's binUs) splits at the sample's time-bin edges
 * tStart + k·stepUs; `stepEvents` (the binner's eventsPerBin) after every N events of the sample.
 */
export interface StepAlign {
  readonly stepUs?: number;
  readonly stepEvents?: number;
}

/**
 * Pushes events [from, to) of `batch` into `feed`, split per `align`, and stops as soon as the
 * feed is decided. Returns the index of the first event the decided sample did not consume
 * (`to` when it was not decided). With `stepUs`, a decision seen while delivering a piece
 * hands that whole piece to whatever comes next: a time binner decides at frame k only when the
 * first event of a later bin arrives, before it uses that event. With `stepEvents` (or no
 * alignment) the piece counts as consumed. A sample's first piece always counts as consumed, so
 * every sample takes at least one event.
 */
export function routeLive(feed: SampleFeed, batch: EventBatch, from: number, to: number, align: StepAlign): number {
  const T = batch.t;
  let a = from;
  while (a < to) {
    if (feed.decided) return a;
    let b = to;
    if (align.stepUs !== undefined) {
      const cell = Math.floor((T[a] - feed.tStart) / align.stepUs);
      b = Math.max(a + 1, lowerBoundFrom(T, feed.tStart + (cell + 1) * align.stepUs, a, to));
    } else if (align.stepEvents !== undefined) {
      b = Math.min(to, a + (align.stepEvents - (feed.routedEvents % align.stepEvents)));
    }
    const before = feed.routedEvents;
    feed.push(sliceByIndex(batch, a, b));
    if (feed.decided) {
      if (align.stepUs !== undefined && before > 0) {
        feed.unroute(b - a);
        return a;
      }
      return b;
    }
    a = b;
  }
  return to;
}

/** Validates the live options shared by the tumbling and activity segmenters. */
export function checkAlign(align: StepAlign, who: string): void {
  if (align.stepUs !== undefined && align.stepEvents !== undefined) throw new RangeError(`${who}: give at most one of stepUs and stepEvents`);
  if (align.stepUs !== undefined && !(Number.isFinite(align.stepUs) && align.stepUs > 0)) throw new RangeError(`${who}: stepUs must be > 0`);
  if (align.stepEvents !== undefined && !(Number.isInteger(align.stepEvents) && align.stepEvents > 0)) {
    throw new RangeError(`${who}: stepEvents must be a positive integer`);
  }
}

/** Options common to the live segmenters. */
export interface LiveSegmentOptions extends StepAlign {
  readonly streamId: string;
  readonly geometry: Geometry;
  /** Label given to every sample (e.g. for a recording of one class). */
  readonly label?: number;
  /** After a decision: start the next sample at once (default) or skip the rest of the window. */
  readonly onDecided?: OnDecided;
  readonly stats?: SegmentStats;
}
