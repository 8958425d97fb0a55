/**
 * One stream's messages in the events stream, read in order from a given sequence with a
 * JetStream ordered consumer (it re-creates itself after a server restart and goes on after the
 * last message it delivered). Reading is pulled and bounded (a few MiB buffered ahead); `peek`
 * lets the reader look at the next message without taking it (a new connection's `open` marker
 * ends the current one and starts the next).
 */
import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Geometry } from '../events/geometry';
import { ABORTED, KeptRead } from '../../streams/core/event-source';
import type { Broker } from './connect';
import { EVENTS_STREAM, HEADER, eventsSubject } from './names';

export interface LogMessage {
  /** Sequence in the events stream. */
  readonly seq: number;
  readonly kind: 'data' | 'open' | 'end';
  readonly connection: string;
  /** The wire message (data), empty for markers. */
  readonly data: Uint8Array;
  /** From an `open` marker. */
  readonly geometry?: Geometry;
  /** Events of the connection up to and including this message (data). */
  readonly eventsTotal?: number;
  /** Messages of this stream stored after this one when it was delivered (0: caught up). */
  readonly pending: number;
}

/** Messages the consumer buffers ahead of the reader (max_bytes pulls stall on nats-server 2.9). */
const READ_AHEAD_MESSAGES = 64;

function parseGeometry(text: string | undefined): Geometry | undefined {
  const m = text ? /^(\d+)x(\d+)$/.exec(text) : null;
  return m ? { width: Number(m[1]), height: Number(m[2]) } : undefined;
}

export function toLogMessage(m: JsMsg): LogMessage {
  const h = m.headers;
  const kind = h?.get(HEADER.kind);
  const total = h?.get(HEADER.eventsTotal);
  return {
    seq: m.seq,
    kind: kind === 'open' || kind === 'end' ? kind : 'data',
    connection: h?.get(HEADER.connection) ?? '',
    data: m.data,
    geometry: parseGeometry(h?.get(HEADER.geometry)),
    eventsTotal: total ? Number(total) : undefined,
    pending: m.info.pending,
  };
}

export class EventLog {
  private peeked: LogMessage | undefined;
  private closed = false;
  /** The sequence to read from next (the last taken message's + 1, or where the log was opened). */
  nextSeq: number;
  /** `pending` of the last message taken (0: nothing more was stored when it came). */
  lastPending = Infinity;

  /** Reads of the consumer's messages; one cut short by an idle limit or an abort is taken up by the next. */
  private readonly reads: KeptRead<JsMsg>;

  private constructor(
    private readonly messages: ConsumerMessages,
    fromSeq: number,
  ) {
    this.nextSeq = fromSeq;
    const iterator = messages[Symbol.asyncIterator]();
    this.reads = new KeptRead(() => iterator.next());
  }

  /** The stream's messages from sequence `fromSeq` on (0: from its first stored message). */
  static async open(broker: Broker, streamId: string, fromSeq: number): Promise<EventLog> {
    const consumer: Consumer = await broker.js.consumers.get(EVENTS_STREAM, {
      filter_subjects: eventsSubject(streamId),
      ...(fromSeq > 0 ? { deliver_policy: 'by_start_sequence', opt_start_seq: fromSeq } : { deliver_policy: 'all' }),
    });
    const messages = await consumer.consume({ max_messages: READ_AHEAD_MESSAGES });
    return new EventLog(messages, fromSeq);
  }

  /**
   * The next message without taking it: undefined when `signal` aborted or the log closed,
   * 'idle' when none came within `idleMs`. A read left pending is kept for the next call.
   */
  async peek(signal: AbortSignal, idleMs?: number): Promise<LogMessage | 'idle' | undefined> {
    if (this.peeked) return this.peeked;
    if (this.closed || signal.aborted) return undefined;
    const got = await this.reads.next(signal, idleMs);
    if (got === ABORTED) return undefined;
    if (got === 'idle') return 'idle';
    if (got.done) {
      this.closed = true;
      return undefined;
    }
    this.peeked = toLogMessage(got.value);
    return this.peeked;
  }

  /** Takes the message `peek` returned. */
  take(): LogMessage {
    const m = this.peeked;
    if (!m) throw new Error('EventLog.take() without a peeked message');
    this.peeked = undefined;
    this.nextSeq = m.seq + 1;
    this.lastPending = m.pending;
    return m;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.messages.stop();
  }
}
