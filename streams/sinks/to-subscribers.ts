/**
 * Broadcast of decisions (and optional per-step traces) to WebSocket subscribers.
 *
 * Every message is one JSON text frame: `{"type":"decision", ...Decision}` or
 * `{"type":"trace", ...StepTrace}`. It is serialised once and handed to every matching
 * subscriber. A subscriber matches when its filter's `stream` is unset or equals the message's
 * `streamId`; traces go only to subscribers with `trace: true`.
 *
 * Backpressure: `publish` never waits. Before each send the subscriber's `bufferedAmount` (bytes
 * queued in ws and in the TCP socket's user-space buffer) plus the message size is compared
 * with `maxBufferedBytes`; over it, the message is dropped for that subscriber only and counted
 * (per subscriber and in `droppedTotal`, and reported through `onDrop`). A stalled subscriber
 * therefore costs at most `maxBufferedBytes` of memory and never delays the others or the
 * pipeline. With `stallTimeoutMs`, a subscriber that has been over the limit (dropping) for that
 * long is terminated.
 */
import type { MonoTypeOperatorFunction } from 'rxjs';
import { tap } from 'rxjs';
import type { Decision, StepTrace } from '../types';
import { DEFAULT_MAX_BUFFERED_BYTES } from '../../src/defaults';

/** The parts of a `ws` WebSocket the hub uses. */
export interface SubscriberSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string, cb?: (err?: Error) => void): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  once(event: 'close', listener: () => void): unknown;
}

export interface SubscriberFilter {
  /** Only this stream's messages (unset: all streams). */
  stream?: string;
  /** Also receive per-step traces. */
  trace?: boolean;
  /** Only confident decisions (answers); uncertain ones (`confident: false`) are not sent. */
  confident?: boolean;
}

export interface SubscriberStats {
  id: number;
  filter: SubscriberFilter;
  sent: number;
  dropped: number;
  bufferedAmount: number;
}

export interface SubscriberHubOptions {
  /** Per-subscriber bound on queued bytes (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Terminate a subscriber that keeps dropping for this long (ms; default: never). */
  stallTimeoutMs?: number;
  /** Called for each message dropped for a subscriber. */
  onDrop?: (subscriber: Subscriber) => void;
  /** Called when the number of subscribers changes. */
  onCount?: (count: number) => void;
  /** The wall clock the stall timeout is measured on, in ms (default `Date.now`). */
  now?: () => number;
}

const OPEN = 1;

export class Subscriber {
  sent = 0;
  dropped = 0;
  /** Wall time (ms) of the first drop of the current run of drops, or 0. */
  droppingSince = 0;
  constructor(
    readonly id: number,
    readonly socket: SubscriberSocket,
    readonly filter: SubscriberFilter,
  ) {}
}

export class SubscriberHub {
  readonly maxBufferedBytes: number;
  private readonly stallTimeoutMs: number | undefined;
  private readonly onDrop: ((s: Subscriber) => void) | undefined;
  private readonly onCount: ((n: number) => void) | undefined;
  private readonly now: () => number;
  private readonly subs = new Set<Subscriber>();
  private nextId = 1;
  droppedTotal = 0;
  sentTotal = 0;
  published = 0;

  constructor(opts: SubscriberHubOptions = {}) {
    this.maxBufferedBytes = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    this.stallTimeoutMs = opts.stallTimeoutMs;
    this.onDrop = opts.onDrop;
    this.onCount = opts.onCount;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.subs.size;
  }

  /** Registers a socket; it is removed when it closes. */
  add(socket: SubscriberSocket, filter: SubscriberFilter = {}): Subscriber {
    const s = new Subscriber(this.nextId++, socket, { stream: filter.stream, trace: filter.trace === true, ...(filter.confident ? { confident: true } : {}) });
    this.subs.add(s);
    socket.once('close', () => this.remove(s));
    this.onCount?.(this.subs.size);
    return s;
  }

  remove(s: Subscriber): void {
    if (this.subs.delete(s)) this.onCount?.(this.subs.size);
  }

  /** Sends a decision to every matching subscriber; returns how many it was sent to. */
  publish(decision: Decision): number {
    return this.broadcast('decision', decision.streamId, decision, false, decision.confident === false);
  }

  /**
   * Sends a decision already serialised by `decisionFrame` (e.g. stored in JetStream by a worker)
   * as it is: nothing is parsed or serialised again. `uncertain`: its `confident` is false.
   */
  publishFrame(streamId: string, frame: string, uncertain: boolean): number {
    return this.broadcast('decision', streamId, frame, false, uncertain);
  }

  /** Sends a step trace to matching subscribers that asked for traces. */
  publishTrace(trace: StepTrace): number {
    return this.broadcast('trace', trace.streamId, trace, true);
  }

  /** `body`: the message, or its frame already serialised. */
  private broadcast(type: string, streamId: string, body: object | string, traceOnly: boolean, uncertain = false): number {
    this.published++;
    let text: string | undefined;
    let bytes = 0;
    let sent = 0;
    const now = this.stallTimeoutMs !== undefined ? this.now() : 0;
    for (const s of this.subs) {
      if (traceOnly && !s.filter.trace) continue;
      if (uncertain && s.filter.confident) continue;
      if (s.filter.stream !== undefined && s.filter.stream !== streamId) continue;
      const sock = s.socket;
      if (sock.readyState !== OPEN) continue;
      if (text === undefined) {
        text = typeof body === 'string' ? body : JSON.stringify({ type, ...body });
        bytes = Buffer.byteLength(text);
      }
      if (sock.bufferedAmount + bytes > this.maxBufferedBytes) {
        s.dropped++;
        this.droppedTotal++;
        this.onDrop?.(s);
        if (this.stallTimeoutMs !== undefined) {
          if (s.droppingSince === 0) s.droppingSince = now;
          else if (now - s.droppingSince >= this.stallTimeoutMs) {
            this.remove(s);
            sock.terminate();
          }
        }
        continue;
      }
      s.droppingSince = 0;
      sock.send(text, noop);
      s.sent++;
      this.sentTotal++;
      sent++;
    }
    return sent;
  }

  stats(): SubscriberStats[] {
    return [...this.subs].map((s) => ({ id: s.id, filter: { ...s.filter }, sent: s.sent, dropped: s.dropped, bufferedAmount: s.socket.bufferedAmount }));
  }

  /** Bytes still queued towards all subscribers. */
  get bufferedBytes(): number {
    let n = 0;
    for (const s of this.subs) if (s.socket.readyState === OPEN) n += s.socket.bufferedAmount;
    return n;
  }

  /** Waits until every subscriber's queue is empty, or `timeoutMs`; true if flushed. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + Math.max(0, timeoutMs);
    for (;;) {
      if (this.bufferedBytes === 0) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, Math.min(10, Math.max(1, deadline - Date.now()))));
    }
  }

  /** Closes every subscriber (e.g. 1001 on shutdown). */
  closeAll(code = 1001, reason = 'server shutting down'): void {
    for (const s of [...this.subs]) {
      this.remove(s);
      closeOrTerminate(s.socket, code, reason);
    }
  }
}

/** Closes a socket with `code`, or terminates it when closing throws (a socket in a bad state). */
export function closeOrTerminate(socket: Pick<SubscriberSocket, 'close' | 'terminate'>, code: number, reason: string): void {
  try {
    socket.close(code, reason);
  } catch {
    socket.terminate();
  }
}

function noop(): void {}

/** A decision as subscribers receive it: one JSON text frame (what `publish` sends). */
export function decisionFrame(decision: Decision): string {
  return JSON.stringify({ type: 'decision', ...decision });
}

/** Sink operator: publishes each decision to the hub and passes it on unchanged. */
export function toSubscribers(hub: SubscriberHub): MonoTypeOperatorFunction<Decision> {
  return tap((d: Decision) => {
    hub.publish(d);
  });
}

/** Sink operator for step traces (delivered only to `trace` subscribers). */
export function tracesToSubscribers(hub: SubscriberHub): MonoTypeOperatorFunction<StepTrace> {
  return tap((t: StepTrace) => {
    hub.publishTrace(t);
  });
}
