import { expect } from 'chai';
import { concatBatches, type EventBatch } from '../../src/events/event-batch';
import type { EventDecoder } from '../../src/formats/decoder';

/** Decodes `bytes` fed in chunks of `chunkSize` (the whole buffer when omitted). */
export function decodeInChunks(make: () => EventDecoder, bytes: Uint8Array, chunkSize = bytes.length): EventBatch {
  const dec = make();
  const parts: EventBatch[] = [];
  const step = Math.max(1, chunkSize);
  for (let at = 0; at < bytes.length; at += step) {
    parts.push(dec.push(bytes.subarray(at, Math.min(bytes.length, at + step))));
  }
  parts.push(dec.end());
  return concatBatches(parts);
}

export function expectSameEvents(actual: EventBatch, expected: EventBatch, what = 'events'): void {
  expect(actual.length, `${what}: length`).to.equal(expected.length);
  const cols = ['x', 'y', 'p', 't'] as const;
  for (const c of cols) {
    const a = actual[c];
    const e = expected[c];
    for (let i = 0; i < expected.length; i++) {
      if (a[i] !== e[i]) {
        expect.fail(`${what}: column ${c} differs at event ${i}: ${a[i]} vs ${e[i]}`);
      }
    }
  }
}

/** The first n events as [x, y, p, t] tuples, for comparing with documented oracles. */
export function firstEvents(batch: EventBatch, n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < Math.min(n, batch.length); i++) out.push([batch.x[i], batch.y[i], batch.p[i], batch.t[i]]);
  return out;
}

/** Checks that 1-byte, 7-byte and 64 KiB chunked decodes equal the whole-buffer decode. */
export function expectChunkingInvariant(make: () => EventDecoder, bytes: Uint8Array, whole: EventBatch): void {
  for (const size of [1, 7, 65536]) {
    expectSameEvents(decodeInChunks(make, bytes, size), whole, `chunks of ${size} B`);
  }
}
