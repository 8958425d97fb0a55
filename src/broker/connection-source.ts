/**
 * One sensor connection's events, read from the stream's log as the `EventSource` the live
 * segmenter pulls: each data message decoded (one message = one batch, as the embedded service
 * sees it); the per-stream pipeline fits it to the model. The source ends at the connection's `end` marker, or before
 * another connection's `open` marker (left in the log for the next one). Every batch it hands out
 * is mapped to its message's sequence, so a sample start can be checkpointed.
 */
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { decodeEventMessage, readWireHeader } from '../formats/wire';
import type { CheckpointResume } from './checkpoint';
import type { EventSource } from '../../streams/core/event-source';
import type { EventLog, LogMessage } from './event-log';

export type SkipReason = 'stale_connection' | 'undecodable';

export interface ConnectionSourceOptions {
  readonly log: EventLog;
  readonly connection: string;
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
              batch = decodeEventMessage(m.data, { maxEvents: MAX_EVENTS }).batch;
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

export interface NextConnectionOptions {
  readonly signal: AbortSignal;
  /** How long to wait for a message before asking `onIdle`. */
  readonly idleMs: number;
  /** The checkpoint's place inside a connection, in the message `resumeSeq`. */
  readonly resume?: CheckpointResume;
  readonly resumeSeq: number;
  /** Nothing came for `idleMs`: true gives the stream up. */
  readonly onIdle: () => Promise<boolean>;
  readonly onSkip: (reason: 'expired' | 'undecodable') => void;
}

/**
 * The connection to classify next: the checkpoint's (resuming inside it), or the one whose
 * `open` marker or first message comes next. Waits for it; undefined when `onIdle` gives the
 * stream up or the signal aborts.
 */
export async function nextConnection(log: EventLog, o: NextConnectionOptions): Promise<{ connection: string; geometry: Geometry; resume?: CheckpointResume } | undefined> {
  let resume = o.resume;
  for (;;) {
    const m = await log.peek(o.signal, o.idleMs);
    if (m === undefined) return undefined;
    if (m === 'idle') {
      if (await o.onIdle()) return undefined;
      continue;
    }
    if (resume) {
      if (m.seq === o.resumeSeq && m.connection === resume.connection) return { connection: resume.connection, geometry: resume.geometry, resume };
      // The message holding the sample start is gone (retention): go on with what is stored.
      o.onSkip('expired');
      resume = undefined;
    }
    if (m.kind === 'open' || m.kind === 'end') {
      log.take();
      if (m.kind === 'open' && m.geometry) return { connection: m.connection, geometry: m.geometry };
      continue;
    }
    // A connection whose `open` marker we never read (expired, or a checkpoint between messages).
    try {
      return { connection: m.connection, geometry: readWireHeader(m.data).geometry };
    } catch {
      log.take();
      o.onSkip('undecodable');
    }
  }
}
