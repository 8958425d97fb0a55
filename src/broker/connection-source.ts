/**
 * One sensor connection's events, read from the stream's log as the `EventSource` the live
 * segmenter pulls: each data message decoded (one message = one batch, as the embedded service
 * sees it) and fitted to the model. The source ends at the connection's `end` marker, or before
 * another connection's `open` marker (left in the log for the next one). Every batch it hands out
 * is mapped to its message's sequence, so a sample start can be checkpointed.
 */
import type { EventBatch } from '../events/event-batch';
import { decodeEventMessage } from '../formats/wire';
import type { Fit } from '../../streams/operators/fit';
import type { EventSource } from '../../streams/core/event-source';
import type { EventLog, LogMessage } from './event-log';

export type SkipReason = 'stale_connection' | 'undecodable';

export interface ConnectionSourceOptions {
  readonly log: EventLog;
  readonly connection: string;
  readonly fit: Fit;
  /** Filled with each batch handed out → the sequence of the message it came from. */
  readonly seqOf: WeakMap<EventBatch, number>;
  /** Waited for before each read (the worker holds reading while decisions wait for the broker). */
  readonly gate?: (signal: AbortSignal) => Promise<void>;
  readonly onSkip?: (reason: SkipReason, m: LogMessage) => void;
  readonly onDelivered?: (m: LogMessage) => void;
}

/** How the connection's source ended: its `end` marker, another connection's `open`, or an abort. */
export type ConnectionEnd = 'end' | 'next-connection' | 'aborted';

const DONE: IteratorResult<EventBatch, undefined> = { done: true, value: undefined };
/** The gateway checked each message's size already; the worker takes what the broker stored. */
const MAX_EVENTS = 0xffffffff;

export function connectionSource(o: ConnectionSourceOptions): { source: EventSource; ended: () => ConnectionEnd | undefined } {
  let ended: ConnectionEnd | undefined;
  const source: EventSource = {
    open(signal) {
      return {
        async next() {
          while (ended === undefined) {
            if (o.gate) await o.gate(signal);
            const m = await o.log.peek(signal);
            if (m === undefined || m === 'idle') {
              ended = 'aborted';
              break;
            }
            if (m.kind === 'open') {
              if (m.connection !== o.connection) {
                ended = 'next-connection';
                break;
              }
              o.log.take();
              continue;
            }
            o.log.take();
            if (m.connection !== o.connection) {
              // A connection already superseded (its gateway was still publishing): not part of this stream any more.
              if (m.kind === 'data') o.onSkip?.('stale_connection', m);
              continue;
            }
            if (m.kind === 'end') {
              ended = 'end';
              break;
            }
            let batch: EventBatch;
            try {
              batch = o.fit.apply(decodeEventMessage(m.data, { maxEvents: MAX_EVENTS }).batch);
            } catch {
              o.onSkip?.('undecodable', m);
              continue;
            }
            o.onDelivered?.(m);
            if (batch.length === 0) continue;
            o.seqOf.set(batch, m.seq);
            return { done: false, value: batch };
          }
          return DONE;
        },
        settle: () => undefined,
      };
    },
  };
  return { source, ended: () => ended };
}
