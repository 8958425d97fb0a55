/**
 * What every live input shares — a DV network stream, a UDP port, a raw byte stream on stdin or
 * a FIFO: the bounded queue between the transport and the pipeline (explicit size and overflow
 * policy, like WebSocket ingest's), the pulled `EventSource` and the Observable over it (one
 * consumer), the sensor size once known, the counters, and the one-line notices of what went
 * wrong. The transports (from-udp.ts, from-dv-network.ts, from-readable.ts) decode and push;
 * this class never looks at bytes.
 *
 * Nothing is lost silently: every event that does not reach the consumer is counted under a
 * reason and reported to `onDrop`.
 */
import { Observable } from 'rxjs';
import { lowerBoundTime, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { BoundedEventQueue, fromBoundedQueue, type OverflowPolicy } from '../core/bounded-queue';
import { pullFromIterator, type EventSource } from '../core/event-source';
import { DEFAULT_QUEUE_CAPACITY_EVENTS, DEFAULT_QUEUE_OVERFLOW } from '../../src/defaults';

/**
 * Why events of a live input did not reach its consumer: the queue was full (`queue_overflow`),
 * the consumer went away (`discarded`), the bytes were not what the protocol says (`bad_input`:
 * a datagram of the wrong size, a corrupt packet), an event lay outside the sensor
 * (`out_of_bounds`), or a timestamped datagram went back in time (`time_backwards`).
 */
export type LiveDropReason = 'queue_overflow' | 'discarded' | 'bad_input' | 'out_of_bounds' | 'time_backwards';
export const LIVE_DROP_REASONS: readonly LiveDropReason[] = ['queue_overflow', 'discarded', 'bad_input', 'out_of_bounds', 'time_backwards'];

export interface LiveInputOptions {
  /** Queue capacity in events (default 2^20) and overflow policy (default 'drop-oldest'), as for WebSocket ingest. */
  readonly capacityEvents?: number;
  readonly overflow?: OverflowPolicy;
  /** Batches handed to an Observable consumer per event-loop turn (default 4). */
  readonly batchesPerTurn?: number;
  /** Events accepted into the pipeline's queue path, with the bytes that carried them. */
  readonly onEvents?: (events: number, bytes: number) => void;
  /** Every drop, by reason (the same events are in `stats.dropped`). */
  readonly onDrop?: (reason: LiveDropReason, events: number) => void;
  /** One line per incident (bad input, a server gone, a reconnect): what and where, no stack. */
  readonly onNotice?: (line: string) => void;
}

export interface LiveInputStats {
  /** Messages received: datagrams, DV packets, or reads of a byte stream. */
  messages: number;
  bytes: number;
  /** Events decoded and offered to the queue. */
  events: number;
  /** Messages refused whole (wrong size, wrong format, corrupt). */
  badMessages: number;
  /** Connections made after the first (DV network streams). */
  reconnects: number;
  /** The time of the first event that reached the queue (µs; an arrival stamp for SPIF without time), or undefined. */
  firstEventUs: number | undefined;
  dropped: Record<LiveDropReason, number>;
}

/** The shared part of a live input; a transport owns one and calls the producer methods. */
export class LiveInput {
  readonly queue: BoundedEventQueue;
  /** The input's batches as an Observable (one consumer: this or `source`). */
  readonly events: Observable<EventBatch>;
  /** The input's bounded queue as a pulled source (one consumer). */
  readonly source: EventSource;
  /** Resolves with the sensor size once known, or undefined if the input ends first. */
  readonly geometryReady: Promise<Geometry | undefined>;
  readonly stats: LiveInputStats = {
    messages: 0,
    bytes: 0,
    events: 0,
    badMessages: 0,
    reconnects: 0,
    firstEventUs: undefined,
    dropped: { queue_overflow: 0, discarded: 0, bad_input: 0, out_of_bounds: 0, time_backwards: 0 },
  };
  private geom: Geometry | undefined;
  private resolveGeometry!: (g: Geometry | undefined) => void;
  private consumed = false;
  private lastT = -Infinity;
  private ended = false;
  private readonly noticed = new Set<string>();

  constructor(
    /** What the notices call this input, e.g. `udp://127.0.0.1:3333` (a transport may make it exact once bound: `rename`). */
    private inputName: string,
    private readonly opts: LiveInputOptions,
    /** Stops the transport (closes its socket); called once, by `close`. */
    private readonly stopTransport: () => void,
  ) {
    this.geometryReady = new Promise((r) => (this.resolveGeometry = r));
    this.queue = new BoundedEventQueue({
      capacityEvents: opts.capacityEvents ?? DEFAULT_QUEUE_CAPACITY_EVENTS,
      overflow: opts.overflow ?? DEFAULT_QUEUE_OVERFLOW,
      onDrop: (n, why) => this.countDrop(why === 'overflow' ? 'queue_overflow' : 'discarded', n),
    });
    const fromQueue = fromBoundedQueue(this.queue, { batchesPerTurn: opts.batchesPerTurn, discardOnUnsubscribe: true });
    this.events = new Observable<EventBatch>((subscriber) => {
      this.claim();
      const sub = fromQueue.subscribe(subscriber);
      return () => {
        sub.unsubscribe();
        this.close();
      };
    });
    this.source = {
      open: (signal) => {
        this.claim();
        const it = this.queue[Symbol.asyncIterator]();
        return pullFromIterator(
          {
            next: () => it.next(),
            return: async () => {
              await it.return?.();
              this.close();
              return { done: true, value: undefined };
            },
          },
          signal,
        );
      },
    };
  }

  get name(): string {
    return this.inputName;
  }

  get geometry(): Geometry | undefined {
    return this.geom;
  }

  /** True once the input has ended (its transport stopped or failed for good). */
  get closed(): boolean {
    return this.ended;
  }

  /** Stops the transport; the consumer gets what is queued, then the end. Idempotent. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopTransport();
    this.queue.complete();
    this.resolveGeometry(this.geom);
  }

  // ---- producer side: the transports call these ----

  /** The input's exact name once known (a UDP port 0 once bound). */
  rename(name: string): void {
    this.inputName = name;
  }

  /** Sets the sensor size (once; a later different size is the transport's to refuse). */
  setGeometry(g: Geometry): void {
    if (this.geom !== undefined) return;
    this.geom = g;
    this.resolveGeometry(g);
  }

  /** Counts one received message of `bytes` bytes. */
  received(bytes: number): void {
    this.stats.messages++;
    this.stats.bytes += bytes;
  }

  /**
   * Offers decoded events (in time order) to the queue; overflow is counted by the queue's policy.
   * Events older than the stream's last one (a DV server restarted on an older recording) are
   * dropped and counted: a stream's time never goes back.
   */
  push(batch: EventBatch, bytes = 0): void {
    if (batch.length === 0 || this.ended) return;
    let kept = batch;
    if (batch.t[0] < this.lastT) {
      const from = lowerBoundTime(batch, this.lastT);
      this.countDrop('time_backwards', from);
      kept = sliceByIndex(batch, from);
      if (kept.length === 0) return;
    }
    this.lastT = kept.t[kept.length - 1];
    this.stats.firstEventUs ??= kept.t[0];
    this.stats.events += kept.length;
    this.opts.onEvents?.(kept.length, bytes);
    this.queue.push(kept);
  }

  /** Counts events that did not reach the queue, and why. */
  countDrop(reason: LiveDropReason, events: number): void {
    if (events <= 0) return;
    this.stats.dropped[reason] += events;
    this.opts.onDrop?.(reason, events);
  }

  /** A message refused whole: counted, and its events (when known) counted as `bad_input`. */
  badMessage(events = 0): void {
    this.stats.badMessages++;
    this.countDrop('bad_input', events);
  }

  /** Says `line` (prefixed with the input's name); with `key`, only the first time that key comes up. */
  notice(line: string, key?: string): void {
    if (key !== undefined) {
      if (this.noticed.has(key)) return;
      this.noticed.add(key);
    }
    this.opts.onNotice?.(`${this.inputName}: ${line}`);
  }

  /** The transport ended for good: queued events drain, then the end (an error only ends the stream: it was said as a notice). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.complete();
    this.resolveGeometry(this.geom);
  }

  /** The transport could not start (a UDP port in use): the consumer gets what is queued, then `err`. */
  fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.fail(err);
    this.resolveGeometry(this.geom);
  }

  private claim(): void {
    if (this.consumed) throw new Error(`${this.name}: a live input has one consumer; it is already taken`);
    this.consumed = true;
  }
}

/** A live input as an Observable that opens the transport when subscribed and closes it when unsubscribed. */
export function liveObservable(open: () => LiveInput): Observable<EventBatch> {
  return new Observable<EventBatch>((subscriber) => {
    const input = open();
    const sub = input.events.subscribe(subscriber);
    return () => {
      sub.unsubscribe();
      input.close();
    };
  });
}

/** The current time in µs on a clock that never goes back (arrival stamps for SPIF words without time). */
export function arrivalMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
