/**
 * Every default spikestream uses for its live path, in one place: the library, the service on
 * its main thread and its worker threads, NATS gateways and workers, and the command line take
 * theirs from here, so that one default cannot mean two things. docs/architecture.md lists them.
 * This file imports nothing: every room may import it.
 */

/** SNN slots: samples stepped together in one batched runner call (service, NATS worker, replay, `createScheduler`). */
export const DEFAULT_SLOTS = 32;

/**
 * The SNN runner: `auto` is the tensor runner when TF.js already runs on its native backend
 * (tfjs-node-gpu / tfjs-node), else the typed runner (the WebAssembly kernel). Everywhere the same.
 */
export const DEFAULT_RUNNER = 'auto' as const;

/** A live stream's bounded queue between its socket and its pipeline, in events (2^20). */
export const DEFAULT_QUEUE_CAPACITY_EVENTS = 1 << 20;

/** What a full live queue drops: the oldest events (live inference wants the present). */
export const DEFAULT_QUEUE_OVERFLOW = 'drop-oldest' as const;

/** Most events in one wire message (2^20, a 1 MiB… 8 MiB message). */
export const DEFAULT_MAX_EVENTS_PER_MESSAGE = 1 << 20;

/** Most bytes of one WebSocket message (8 MiB). */
export const DEFAULT_MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/** Per-connection event rate (events/s); 0 = unlimited. */
export const DEFAULT_MAX_EVENTS_PER_SECOND = 5_000_000;

/** Over the rate: drop the message and count it. */
export const DEFAULT_RATE_LIMIT_ACTION = 'drop' as const;

/** Concurrent sensor connections of one service or gateway. */
export const DEFAULT_MAX_INGEST_STREAMS = 16;

/** Concurrent decision subscribers of one service or gateway. */
export const DEFAULT_MAX_SUBSCRIBERS = 256;

/** Bytes a WebSocket peer may have unsent before it counts as slow (subscribers drop, the sensor client waits). */
export const DEFAULT_MAX_BUFFERED_BYTES = 1 << 20;

/** Batches handed to each stream's consumer per event-loop turn. */
export const DEFAULT_BATCHES_PER_TURN = 4;

/**
 * What a served live stream (the service, its worker threads, a NATS worker) does after an early
 * decision: cut the next sample at the first event the decision did not bin (DESIGN.md), as the
 * bundled models' live-style training samples and live calibration were cut. 'skip-to-window-end'
 * (`--on-decided`) skips the rest of the decided sample so that early exit saves the work live, but
 * the live calibration does not hold there: on the held-out users' streams the shown confidence's ECE
 * rose from 0.069 to 0.126 and decision accuracy fell from 98.5 % to 93.9 % (docs/dynamic-confidence.md).
 */
export const DEFAULT_ON_DECIDED = 'next-sample' as const;
