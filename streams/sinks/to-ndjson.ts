/**
 * NDJSON sinks: one `JSON.stringify(value)` line per value, written to a Node `Writable`.
 *
 * Two ways, because an Observable cannot be paused but an async iterable can:
 * - `toNdjson(out, opts)` (operator, for push sources such as live decisions): never waits.
 *   A line is written unless `out.writableLength` (bytes buffered and not yet flushed) is
 *   already over `maxBufferedBytes` (default: the stream's `writableHighWaterMark` × 16); then
 *   it is dropped and counted in `stats.dropped`. The value passes on downstream either way.
 *   Completion of the source ends `out` when `end: true`.
 * - `writeNdjson(values, out)` (for pulled sources: async iterables): awaits `'drain'` whenever
 *   `write` returns false, so nothing is dropped and memory stays bounded by the stream's
 *   high-water mark. Resolves with the counts when the iterable is done.
 */
import { Observable, type MonoTypeOperatorFunction } from 'rxjs';
import type { Writable } from 'stream';

export interface NdjsonStats {
  written: number;
  dropped: number;
  bytes: number;
}

export interface ToNdjsonOptions {
  /** Drop a line when `out.writableLength` exceeds this (bytes). */
  maxBufferedBytes?: number;
  /** End `out` when the source completes (default false). */
  end?: boolean;
  /** Receives the running counts (the same object is updated in place). */
  stats?: NdjsonStats;
  /** Line serialiser (default JSON.stringify). */
  serialize?: (value: unknown) => string;
}

export function toNdjson<T>(out: Writable, opts: ToNdjsonOptions = {}): MonoTypeOperatorFunction<T> {
  const limit = opts.maxBufferedBytes ?? out.writableHighWaterMark * 16;
  const stats = opts.stats ?? { written: 0, dropped: 0, bytes: 0 };
  const ser = opts.serialize ?? ((v: unknown) => JSON.stringify(v));
  return (source) =>
    new Observable<T>((subscriber) =>
      source.subscribe({
        next: (v) => {
          if (out.writableLength > limit || out.destroyed || out.writableEnded) {
            stats.dropped++;
          } else {
            const line = ser(v) + '\n';
            out.write(line);
            stats.written++;
            stats.bytes += Buffer.byteLength(line);
          }
          subscriber.next(v);
        },
        error: (e) => subscriber.error(e),
        complete: () => {
          if (opts.end && !out.writableEnded) out.end();
          subscriber.complete();
        },
      }),
    );
}

/** Writes every value of `values` as a line, awaiting 'drain' when the stream is full. */
export async function writeNdjson(
  values: AsyncIterable<unknown> | Iterable<unknown>,
  out: Writable,
  opts: { end?: boolean; serialize?: (value: unknown) => string } = {},
): Promise<NdjsonStats> {
  const stats: NdjsonStats = { written: 0, dropped: 0, bytes: 0 };
  const ser = opts.serialize ?? ((v: unknown) => JSON.stringify(v));
  for await (const v of values as AsyncIterable<unknown>) {
    if (out.destroyed) throw new Error('writeNdjson: the output stream was destroyed');
    const line = ser(v) + '\n';
    stats.written++;
    stats.bytes += Buffer.byteLength(line);
    if (!out.write(line)) await waitDrain(out);
  }
  if (opts.end) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return stats;
}

function waitDrain(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (e: Error): void => done(e);
    const onClose = (): void => done(new Error('writeNdjson: the output stream closed before draining'));
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}
