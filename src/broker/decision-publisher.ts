/**
 * One owner's decisions of one stream, stored in JetStream with fencing.
 *
 * `fence()` stores a marker on the stream's decisions subject when the owner takes the stream;
 * every decision is then published with "expected last subject sequence" = the last one this
 * owner stored. An earlier owner that wakes up (SIGSTOP, a long GC, a partition) publishes with
 * an older expectation and the broker refuses it (`FencedError`): fencing does not depend on
 * anyone's clock. A decision's message id is `<streamId>:<sampleId>`, so one published again
 * (after a takeover, or an ack lost in a server restart) is stored once; the broker checks the id
 * before the expectation, and answers with the stored copy's sequence. Beyond the broker's
 * duplicate window (2 minutes), the last stored decision read when fencing says which samples
 * are stored already: those are not published again.
 */
import { headers } from '@nats-io/nats-core';
import type { Broker } from './connect';
import type { Decision } from '../../streams/types';
import { isWrongRevision } from './lease';
import { decisionFrame } from '../../streams/sinks/to-subscribers';
import { decisionMsgId, DECISIONS_STREAM, decisionsSubject, encodeDecisionCounts, HEADER } from './names';
import { publishWithRetry, type RetryPolicy } from './publish';

/** Another owner fenced the stream after us: we must not publish any more. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** The n of a sample id `<stream>#<n>`. */
export const sampleNumber = (sampleId: string): number => Number(sampleId.slice(sampleId.lastIndexOf('#') + 1));

export class DecisionPublisher {
  private lastSeq = 0;
  /** Samples up to this number have their decision stored already (read when fencing). */
  private storedThrough = -1;
  private readonly subject: string;

  constructor(
    private readonly broker: Pick<Broker, 'js' | 'jsm'>,
    readonly streamId: string,
    readonly worker: string,
    /** Retries (timeouts, a restarting server) and when to stop them (the lease is gone). */
    private readonly policy: RetryPolicy = {},
  ) {
    this.subject = decisionsSubject(streamId);
  }

  /** Stores the fence marker; `token` makes a retried fence idempotent. */
  async fence(token: string): Promise<void> {
    const last = await this.broker.jsm.streams.getMessage(DECISIONS_STREAM, { last_by_subj: this.subject }).catch(() => null);
    if (last && !last.header?.get(HEADER.kind)) {
      try {
        this.storedThrough = sampleNumber(last.json<Decision>().sampleId);
      } catch {
        // not a decision we can read: rely on the duplicate window
      }
    }
    const h = headers();
    h.set(HEADER.worker, this.worker);
    h.set(HEADER.kind, 'fence');
    const ack = await publishWithRetry(this.broker.js, this.subject, new Uint8Array(0), { headers: h, msgID: `fence:${token}:${this.streamId}` }, this.policy);
    this.lastSeq = ack.seq;
  }

  /** Stores `d` (or finds it stored already); rejects with `FencedError` when another owner fenced after us. */
  async publish(d: Decision): Promise<'stored' | 'duplicate'> {
    if (sampleNumber(d.sampleId) <= this.storedThrough) return 'duplicate';
    try {
      const h = headers();
      h.set(HEADER.worker, this.worker);
      h.set(HEADER.counts, encodeDecisionCounts(d));
      const ack = await publishWithRetry(this.broker.js, this.subject, decisionFrame(d), { msgID: decisionMsgId(this.streamId, d.sampleId), headers: h, expect: { lastSubjectSequence: this.lastSeq } }, { ...this.policy, fatal: isWrongRevision });
      // A duplicate's sequence is the stored copy's: ours (an ack we lost) moves us on, an earlier owner's does not.
      this.lastSeq = Math.max(this.lastSeq, ack.seq);
      return ack.duplicate ? 'duplicate' : 'stored';
    } catch (err) {
      if (isWrongRevision(err)) throw new FencedError(`${this.streamId}: another worker took the stream over (${(err as Error).message})`);
      throw err;
    }
  }
}
