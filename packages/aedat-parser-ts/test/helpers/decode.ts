import { expect } from 'chai';
import { concatBatches, countOn, type EventBatch, type EventDecoder, FormatError, type FormatName, type Geometry } from 'aedat-parser-ts';
import { readSharedRecording } from './recordings';

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

/**
 * Runs `fn` and checks that it throws a FormatError of `format` (at `offset` when given);
 * returns that error.
 */
export function expectFormatErrorOf(format: FormatName, fn: () => unknown, offset?: number): FormatError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(FormatError);
    const fe = e as FormatError;
    expect(fe.format).to.equal(format);
    if (offset !== undefined) expect(fe.offset).to.equal(offset);
    return fe;
  }
  return expect.fail('expected a FormatError');
}

/**
 * 300 corruptions of `good` (a random prefix with up to four random bytes changed, from a
 * linear congruential generator started at `seed`), each decoded in random small chunks: the
 * decoder may only ever throw FormatError.
 */
export function expectOnlyFormatErrors(make: () => EventDecoder, good: Uint8Array, seed: number): void {
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  for (let k = 0; k < 300; k++) {
    const b = good.slice(0, rnd(good.length + 1));
    for (let j = 0; j < 4; j++) if (b.length) b[rnd(b.length)] = rnd(256);
    try {
      decodeInChunks(make, b, 1 + rnd(9));
    } catch (e) {
      expect(e).to.be.instanceOf(FormatError);
    }
  }
}

/** What a real recording in ../shared/recordings must decode to. */
export interface RecordingFacts<D extends EventDecoder> {
  count: number;
  /** Events with p = 1. */
  on: number;
  tFirst?: number;
  tLast?: number;
  /** The first events as [x, y, p, t] (an independent oracle). */
  first?: number[][];
  /** The decoder's geometry; every event must lie inside it when it is defined. */
  geometry: Geometry | undefined;
  /** Further checks of the decoder that read the whole file (counters, header fields) and of its events. */
  decoded?: (dec: D, whole: EventBatch, bytes: Uint8Array) => void;
  /** Checks of format sniffing on the file's bytes. */
  sniffed?: (bytes: Uint8Array) => void;
}

/**
 * A `describe(name)` block for a real recording: the whole-file decode has the documented count,
 * ON count, time range, first events and geometry, consumes every byte, keeps time
 * non-decreasing, and decodes the same in 1-byte, 7-byte and 64 KiB chunks.
 */
export function checkRealRecording<D extends EventDecoder>(name: string, make: () => D, facts: RecordingFacts<D>): void {
  describe(name, function () {
    this.timeout(120_000);
    let bytes: Uint8Array;
    let whole: EventBatch;
    let dec: D;
    before(() => {
      bytes = readSharedRecording(name);
      dec = make();
      whole = decodeInChunks(() => dec, bytes);
    });
    it('has the documented count, ON count, time range and geometry', () => {
      expect(whole.length).to.equal(facts.count);
      expect(countOn(whole)).to.equal(facts.on);
      if (facts.tFirst !== undefined) expect(whole.t[0]).to.equal(facts.tFirst);
      if (facts.tLast !== undefined) expect(whole.t[whole.length - 1]).to.equal(facts.tLast);
      expect(dec.geometry).to.deep.equal(facts.geometry);
      expect(dec.bytesConsumed).to.equal(bytes.length);
      facts.decoded?.(dec, whole, bytes);
      for (let i = 1; i < whole.length; i++) if (whole.t[i] < whole.t[i - 1]) expect.fail(`time decreases at ${i}`);
      const g = facts.geometry;
      if (g !== undefined) {
        for (let i = 0; i < whole.length; i++) {
          if (whole.x[i] >= g.width || whole.y[i] >= g.height) expect.fail(`event ${i} outside the sensor`);
        }
      }
    });
    if (facts.first) {
      it('starts with the oracle events', () => {
        expect(firstEvents(whole, facts.first!.length)).to.deep.equal(facts.first);
      });
    }
    it('decodes the same in 1-byte, 7-byte and 64 KiB chunks', () => {
      expectChunkingInvariant(make, bytes, whole);
    });
    if (facts.sniffed) {
      it('is sniffed as its format', () => {
        facts.sniffed!(bytes);
      });
    }
  });
}
