/**
 * Connecting to NATS and setting up what gateways and workers share (names.ts): the two
 * JetStream streams and the three KV buckets. Creating is idempotent: the first process creates,
 * the others find them. A URL that cannot be reached, or a server without JetStream, is one clear
 * line (`BrokerConnectError`), never a stack.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, JetStreamApiError, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import {
  CHECKPOINTS_BUCKET,
  DECISIONS_PREFIX,
  DECISIONS_STREAM,
  DEFAULT_DECISIONS_MAX_AGE_MS,
  DEFAULT_DECISIONS_MAX_BYTES,
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_EVENTS_MAX_AGE_MS,
  DEFAULT_EVENTS_MAX_BYTES,
  DEFAULT_LEASE_MS,
  EVENTS_PREFIX,
  EVENTS_STREAM,
  LEASES_BUCKET,
  STREAMS_BUCKET,
} from './names';

/** The NATS URL cannot be reached, or its server cannot serve us (no JetStream). */
export class BrokerConnectError extends Error {
  override readonly name = 'BrokerConnectError';
}

/** A bucket or stream exists with settings this process cannot work with (e.g. another lease time). */
export class BrokerConfigError extends Error {
  override readonly name = 'BrokerConfigError';
}

export interface Broker {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly url: string;
}

export interface ConnectBrokerOptions {
  /** Client name shown by the server (e.g. `spikestream-worker-<id>`). */
  readonly name: string;
  /** How long the first connection may take (default 5 s). */
  readonly timeoutMs?: number;
}

const NS_PER_MS = 1_000_000;

/** One line on why `url` could not be used. */
function connectFailure(url: string, err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  const why =
    code === 'ECONNREFUSED' || /connection refused/i.test(e.message ?? '')
      ? 'connection refused (is nats-server running there, with JetStream: nats-server -js?)'
      : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
        ? 'host not found'
        : code === 'ERR_INVALID_URL'
          ? 'not a valid URL (use nats://host:port)'
          : /timeout/i.test(e.message ?? '')
            ? 'timed out'
            : (e.message ?? String(err)).replace(/\s+/g, ' ');
  return `cannot connect to the NATS server at ${url}: ${why}`;
}

/**
 * Connects (reconnecting for ever after the first success: a restarted server is picked up
 * again) and checks that JetStream is enabled.
 */
export async function connectBroker(url: string, o: ConnectBrokerOptions): Promise<Broker> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: url, name: o.name, timeout: o.timeoutMs ?? 5000, maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: false });
  } catch (err) {
    throw new BrokerConnectError(connectFailure(url, err));
  }
  try {
    const jsm = await jetstreamManager(nc, { timeout: o.timeoutMs ?? 5000 });
    return { nc, js: jetstream(nc), jsm, url };
  } catch (err) {
    await nc.close().catch(() => undefined);
    if (/jetstream is not enabled/i.test((err as Error).message)) throw new BrokerConnectError(`the NATS server at ${url} has no JetStream: start it with -js (and -sd <dir> to keep data across restarts)`);
    throw new BrokerConnectError(connectFailure(url, err));
  }
}

/**
 * Flushes what is still buffered for the server and closes, within `ms` — a drain waits for the
 * server, and a stopped server would keep it waiting for ever.
 */
export async function closeBroker(broker: Broker, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([broker.nc.drain().catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  if (!broker.nc.isClosed()) await broker.nc.close().catch(() => undefined);
}

export interface RetentionOptions {
  /** Oldest event message kept (ms; default 1 h). */
  readonly maxAgeMs?: number;
  /** Most bytes of event messages kept (default 1 GiB); the oldest go first. */
  readonly maxBytes?: number;
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === 10059;
}

/** Creates the stream when it is missing; with `update`, sets the given retention on an existing one. */
async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }, update: boolean): Promise<void> {
  try {
    const info = await jsm.streams.info(cfg.name);
    if (update && (info.config.max_age !== cfg.max_age || info.config.max_bytes !== cfg.max_bytes)) {
      await jsm.streams.update(cfg.name, { max_age: cfg.max_age, max_bytes: cfg.max_bytes });
    }
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    try {
      await jsm.streams.add(cfg);
    } catch (addErr) {
      // Another process created it meanwhile.
      if (!/already in use/i.test((addErr as Error).message)) throw addErr;
    }
  }
}

/**
 * The events and decisions streams. `retention` given: the events stream gets it (created or
 * updated — the gateway's `--retention-*`); otherwise it is created with the defaults if missing.
 */
export async function ensureStreams(jsm: JetStreamManager, retention?: RetentionOptions): Promise<void> {
  const dup = DEFAULT_DUPLICATE_WINDOW_MS * NS_PER_MS;
  await ensureStream(
    jsm,
    {
      name: EVENTS_STREAM,
      subjects: [`${EVENTS_PREFIX}.>`],
      max_age: (retention?.maxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS) * NS_PER_MS,
      max_bytes: retention?.maxBytes ?? DEFAULT_EVENTS_MAX_BYTES,
      duplicate_window: dup,
      allow_direct: true,
    },
    retention !== undefined && (retention.maxAgeMs !== undefined || retention.maxBytes !== undefined),
  );
  await ensureStream(
    jsm,
    { name: DECISIONS_STREAM, subjects: [`${DECISIONS_PREFIX}.>`], max_age: DEFAULT_DECISIONS_MAX_AGE_MS * NS_PER_MS, max_bytes: DEFAULT_DECISIONS_MAX_BYTES, duplicate_window: dup, allow_direct: true },
    false,
  );
}

/** The bucket, created (one value per key) when missing. */
async function bucket(broker: Broker, name: string, ttlMs?: number): Promise<KV> {
  const kvm = new Kvm(broker.js);
  try {
    return await kvm.create(name, { history: 1, ...(ttlMs !== undefined ? { ttl: ttlMs } : {}) });
  } catch (err) {
    // Created by another process with other settings than ours: use it as it is.
    if (/already in use|different configuration/i.test((err as Error).message)) return kvm.open(name);
    throw err;
  }
}

export function streamsBucket(broker: Broker): Promise<KV> {
  return bucket(broker, STREAMS_BUCKET);
}

export function checkpointsBucket(broker: Broker): Promise<KV> {
  return bucket(broker, CHECKPOINTS_BUCKET);
}

/**
 * The lease bucket and its lease time (its TTL). Every worker must use the same: `leaseMs`
 * undefined takes the existing bucket's (or creates it with the default); a `leaseMs` that
 * differs from an existing bucket's is refused.
 */
export async function leasesBucket(broker: Broker, leaseMs?: number): Promise<{ kv: KV; leaseMs: number }> {
  const kv = await bucket(broker, LEASES_BUCKET, leaseMs ?? DEFAULT_LEASE_MS);
  const ttl = (await kv.status()).ttl;
  if (!(ttl > 0)) throw new BrokerConfigError(`the KV bucket ${LEASES_BUCKET} has no TTL; delete it (nats kv rm ${LEASES_BUCKET}) and start a worker again`);
  if (leaseMs !== undefined && Math.abs(ttl - leaseMs) > 1) {
    throw new BrokerConfigError(`the lease bucket ${LEASES_BUCKET} has a lease time of ${ttl} ms; start every worker with --lease-ms ${ttl} (or without --lease-ms)`);
  }
  return { kv, leaseMs: ttl };
}
