import { expect } from 'chai';
import { Evt2Decoder, FormatError, looksLikeEvt2, looksLikeEvt3, looksLikePropheseeDat } from 'aedat-parser-ts';
import { checkRealRecording, decodeInChunks, expectChunkingInvariant, expectFormatErrorOf, expectOnlyFormatErrors, firstEvents } from './helpers/decode';

const make = (): Evt2Decoder => new Evt2Decoder();

const cd = (p: number, x: number, y: number, tlow: number): number => ((p << 28) | (tlow << 22) | (x << 11) | y) >>> 0;
const timeHigh = (th: number): number => ((8 << 28) | th) >>> 0;

function raw(headerLines: string[], words: number[]): Uint8Array {
  const h = Buffer.from(headerLines.map((l) => l + '\n').join(''), 'latin1');
  const b = new Uint8Array(h.length + words.length * 4);
  b.set(h);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(h.length + i * 4, w >>> 0, true));
  return b;
}

const expectFormatError = (fn: () => unknown, offset?: number): FormatError => expectFormatErrorOf('evt2', fn, offset);

describe('formats/evt2', () => {
  checkRealRecording('prophesee_evt2_expelliarmus_sample.raw', make, {
    count: 539481,
    on: 367855,
    tFirst: 1317888,
    tLast: 1367888,
    first: [
      [237, 121, 1, 1317888],
      [246, 121, 1, 1317888],
      [248, 132, 1, 1317888],
    ],
    // no geometry line: from the plugin name hal_plugin_gen3_fx3
    geometry: { width: 640, height: 480 },
    decoded: (dec) => {
      expect(dec.header.evt).to.equal('2.0');
      expect(dec.orphanEvents + dec.unknownWords + dec.timeReversals).to.equal(0);
    },
    sniffed: (bytes) => {
      const head = bytes.subarray(0, 65536);
      expect([looksLikeEvt2(head), looksLikeEvt3(head), looksLikePropheseeDat(head)]).to.deep.equal([true, false, false]);
    },
  });

  it('decodes CD events against TIME_HIGH, drops CD before the first TIME_HIGH, counts other words', () => {
    const words = [
      cd(1, 5, 5, 0), // orphan
      timeHigh(100),
      cd(1, 639, 479, 63),
      cd(0, 0, 1, 2),
      (0xa << 28) >>> 0, // trigger
      (0xe << 28) >>> 0, // other
      (0xf << 28) >>> 0, // continued
      (0x3 << 28) >>> 0, // unknown type
      timeHigh(101),
      cd(0, 7, 8, 1),
    ];
    const bytes = raw(['% evt 2.0', '% format EVT2;height=480;width=640'], words);
    const dec = make();
    const whole = decodeInChunks(() => dec, bytes, 3);
    expect(firstEvents(whole, 9)).to.deep.equal([
      [639, 479, 1, 6400 + 63],
      [0, 1, 0, 6402],
      [7, 8, 0, 6464 + 1],
    ]);
    expect([dec.orphanEvents, dec.triggerWords, dec.otherWords, dec.unknownWords]).to.deep.equal([1, 1, 2, 1]);
    expect(dec.geometry).to.deep.equal({ width: 640, height: 480 });
    expectChunkingInvariant(make, bytes, whole);
  });

  it('unwraps the 34-bit time when TIME_HIGH wraps', () => {
    const bytes = raw(['% evt 2.0'], [timeHigh(0x0fffffff), cd(1, 1, 1, 63), timeHigh(0), cd(1, 2, 2, 0), timeHigh(1), cd(1, 3, 3, 5)]);
    const whole = decodeInChunks(make, bytes);
    expect(Array.from(whole.t)).to.deep.equal([2 ** 34 - 1, 2 ** 34, 2 ** 34 + 64 + 5]);
  });

  it('ends the header at "% end" even when the body starts with a % byte', () => {
    const bytes = raw(['% evt 2.0', '% geometry 1280x720', '% end'], [timeHigh(1), cd(0, 0, 0x25, 0)]);
    // rewrite so that the first body byte is '%': a TIME_HIGH whose low byte is 0x25
    const b2 = raw(['% evt 2.0', '% geometry 1280x720', '% end'], [timeHigh(0x25), cd(0, 3, 4, 0)]);
    expect(b2[b2.length - 8]).to.equal(0x25);
    const dec = make();
    const whole = decodeInChunks(() => dec, b2, 1);
    expect(firstEvents(whole, 2)).to.deep.equal([[3, 4, 0, 0x25 * 64]]);
    expect(dec.geometry).to.deep.equal({ width: 1280, height: 720 });
    expect(decodeInChunks(make, bytes).length).to.equal(1);
  });

  it('rejects a missing header, another EVT version, and a header without "% evt"', () => {
    expectFormatError(() => decodeInChunks(make, Uint8Array.from([1, 2, 3, 4])), 0);
    expectFormatError(() => decodeInChunks(make, raw(['% evt 3.0'], [timeHigh(1)])));
    expectFormatError(() => decodeInChunks(make, raw(['% Date today'], [timeHigh(1)])));
    const lenient = new Evt2Decoder({ allowMissingHeader: true, geometry: { width: 10, height: 10 } });
    expect(decodeInChunks(() => lenient, raw([], [timeHigh(1), cd(1, 1, 1, 1)])).length).to.equal(1);
    expect(lenient.geometry).to.deep.equal({ width: 10, height: 10 });
  });

  it('throws a FormatError at end() inside a word or inside the header', () => {
    const good = raw(['% evt 2.0'], [timeHigh(1)]);
    const dec = make();
    dec.push(good);
    dec.push(Uint8Array.from([1, 2]));
    expectFormatError(() => dec.end(), good.length);
    const h = make();
    h.push(Uint8Array.from(Buffer.from('% evt 2.')));
    expectFormatError(() => h.end());
    expectFormatError(() => make().end(), 0);
  });

  it('accepts a header-only input (0 events)', () => {
    expect(decodeInChunks(make, raw(['% evt 2.0'], [])).length).to.equal(0);
  });

  it('never throws anything but FormatError on corrupted input', () => {
    const good = raw(['% evt 2.0', '% geometry 640x480'], [timeHigh(5), cd(1, 1, 1, 1), cd(0, 2, 2, 2), timeHigh(6), cd(1, 3, 3, 3)]);
    expectOnlyFormatErrors(make, good, 7);
  });
});
