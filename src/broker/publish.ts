/**
 * Publishing to JetStream until the broker has stored the message: a timeout, a missing
 * responder (the server restarting) or a lost connection is tried again with the same message id
 * after a growing pause — JetStream stores a message published twice once — and counted; a
 * refusal by the broker itself is tried a few times, then given up (rethrown). Never a crash.
 */
import type { JetStreamClient, JetStreamPublishOptions, PubAck } from '@nats-io/jetstream';
import { ABORTED, raceAbort } from '../../streams/core/event-source';
import { retryReason, type RetryReason } from './metrics';

export interface RetryPolicy {
  /** Stops the retries (the publish rejects with `PublishAbortedError`). */
  readonly signal?: AbortSignal;
  /** Checked before each try: false stops (e.g. the lease is no longer held). */
  readonly mayPublish?: () => boolean;
  /** Each failed try, with why (before the pause). */
  readonly onRetry?: (reason: RetryReason, err: unknown) => void;
  /** Errors rethrown at once (e.g. a compare-and-set refused: another worker owns the stream). */
  readonly fatal?: (err: unknown) => boolean;
  /** Broker refusals tried at most this many times in all (default 5). */
  readonly maxRefusals?: number;
  /** Ack timeout of one try (default 2000 ms). */
  readonly timeoutMs?: number;
}

/** The publish was stopped (signal, or `mayPublish` said no) before the broker stored it. */
export class PublishAbortedError extends Error {
  override readonly name = 'PublishAbortedError';
}

/** Pause before try n+1: 50 ms doubling up to 1 s. */
export function retryPauseMs(attempt: number): number {
  return Math.min(1000, 50 * 2 ** Math.min(attempt, 5));
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const sleep = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  if (signal) await raceAbort(sleep, signal);
  else await sleep;
  clearTimeout(timer);
}

export async function publishWithRetry(js: JetStreamClient, subject: string, payload: Uint8Array | string, opts: Partial<JetStreamPublishOptions>, policy: RetryPolicy = {}): Promise<PubAck> {
  let refusals = 0;
  for (let attempt = 0; ; attempt++) {
    if (policy.signal?.aborted || (policy.mayPublish && !policy.mayPublish())) throw new PublishAbortedError(`publishing to ${subject} was stopped`);
    try {
      const ack = policy.signal
        ? await raceAbort(js.publish(subject, payload, { timeout: policy.timeoutMs ?? 2000, ...opts }), policy.signal)
        : await js.publish(subject, payload, { timeout: policy.timeoutMs ?? 2000, ...opts });
      if (ack === ABORTED) throw new PublishAbortedError(`publishing to ${subject} was stopped`);
      return ack;
    } catch (err) {
      if (err instanceof PublishAbortedError || policy.fatal?.(err)) throw err;
      const reason = retryReason(err);
      if (reason === 'refused' && ++refusals >= (policy.maxRefusals ?? 5)) throw err;
      policy.onRetry?.(reason, err);
      await pause(retryPauseMs(attempt), policy.signal);
    }
  }
}
