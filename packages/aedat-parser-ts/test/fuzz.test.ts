import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { allocBatch, createDecoder, detectFormat, encodeAedat31, type EventBatch, FormatError } from 'aedat-parser-ts';
import { SHARED_MISSING, sharedDir } from './helpers/recordings';
import { mulberry32 } from './helpers/prng';

/** No real AEDAT 3.1 file exists in ../shared, so the fuzz also covers one our writer made. */
function generatedAedat3(): Uint8Array {
  const b = allocBatch(20000);
  for (let i = 0; i < b.length; i++) {
    b.x[i] = (i * 37) & 127;
    b.y[i] = (i * 91) & 127;
    b.p[i] = i & 1;
    b.t[i] = 2 ** 31 - 5000 + i; // crosses an eventTSOverflow boundary
  }
  return encodeAedat31(b, { geometry: { width: 128, height: 128 }, eventsPerPacket: 512 });
}

/**
 * What a decoder that did not throw must have produced: events whose columns hold them, with
 * polarity 0 or 1 and finite, non-negative timestamps, and no more of them than the bytes could
 * carry (EVT 3's densest vector word is 12 events in 2 bytes). Corrupt input may well decode to
 * events out of time order, so order is not asked for here.
 */
function decodedEventCheck(what: string, inputBytes: number): (b: EventBatch) => void {
  let events = 0;
  return (b) => {
    expect(b.x.length >= b.length && b.y.length >= b.length && b.p.length >= b.length && b.t.length >= b.length, `${what}: columns shorter than the batch`).to.equal(true);
    for (let i = 0; i < b.length; i++) {
      if ((b.p[i] !== 0 && b.p[i] !== 1) || !Number.isFinite(b.t[i]) || b.t[i] < 0) expect.fail(`${what}: event ${i} has p ${b.p[i]}, t ${b.t[i]}`);
    }
    events += b.length;
    expect(events, `${what}: events decoded from ${inputBytes} bytes`).to.be.at.most(6 * inputBytes);
  };
}

const FUZZ_PREFIX_BYTES = 192 * 1024;
const CASES_PER_FILE = 300;
const CHUNK_SIZES = [1 << 16, 4093, 7];

describe('decoders under corrupted input (seeded fuzz)', function () {
  this.timeout(300_000);
  const dir = path.join(sharedDir, 'recordings');
  // Without ../shared only the generated file is fuzzed, and the test below fails saying why.
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.(aedat4?|bin|dat|raw)$/.test(f)) : [];
  const load = (name: string): Uint8Array => (name === GENERATED ? generatedAedat3() : new Uint8Array(fs.readFileSync(path.join(dir, name))));
  const GENERATED = 'generated-by-our-writer.aedat (AEDAT 3.1)';

  it('finds the real recordings', () => {
    expect(files.length, fs.existsSync(dir) ? dir : SHARED_MISSING).to.be.greaterThan(8);
  });

  for (const name of [...files, GENERATED]) {
    it(`${name}: random byte flips and truncations give events or a FormatError, nothing else`, () => {
      const whole = load(name);
      const format = detectFormat(whole.subarray(0, 65536), name, whole.length);
      const base = whole.subarray(0, Math.min(whole.length, FUZZ_PREFIX_BYTES));
      const rnd = mulberry32(0x5eed ^ whole.length); // seeded so every run fuzzes the same cases
      const rssBefore = process.memoryUsage().rss;
      let formatErrors = 0;
      for (let c = 0; c < CASES_PER_FILE; c++) {
        const bytes = base.slice();
        const kind = rnd();
        let len = bytes.length;
        if (kind < 0.4 || kind >= 0.8) {
          // Flip 1–16 random bytes, biased toward the header where lengths and sizes live.
          const flips = 1 + Math.floor(rnd() * 16);
          for (let k = 0; k < flips; k++) {
            const at = rnd() < 0.5 ? Math.floor(rnd() * Math.min(len, 8192)) : Math.floor(rnd() * len);
            bytes[at] = Math.floor(rnd() * 256);
          }
        }
        if (kind >= 0.4) len = Math.floor(rnd() * bytes.length);
        const input = bytes.subarray(0, len);
        const chunk = CHUNK_SIZES[c % CHUNK_SIZES.length];
        const started = Date.now();
        try {
          const dec = createDecoder(format);
          const check = decodedEventCheck(`case ${c} (${name}, chunk ${chunk})`, input.length);
          for (let at = 0; at < input.length; at += chunk) check(dec.push(input.subarray(at, at + chunk)));
          check(dec.end());
        } catch (err) {
          if (!(err instanceof FormatError)) {
            throw new Error(`case ${c} (${name}, ${len} B, chunk ${chunk}): ${err instanceof Error ? err.stack : String(err)}`);
          }
          expect(err.offset, `case ${c}: offset`).to.be.within(0, input.length + 1_000_000);
          formatErrors++;
        }
        expect(Date.now() - started, `case ${c} took too long (a hang?)`).to.be.below(10_000);
      }
      // Decoders must never allocate from a corrupt length: memory stays near where it was.
      expect(process.memoryUsage().rss - rssBefore).to.be.below(1024 * 1024 * 1024);
      expect(formatErrors, 'some corruptions must be detected').to.be.greaterThan(0);
    });
  }
});
