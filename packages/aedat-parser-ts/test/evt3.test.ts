import { expect } from 'chai';
import { Evt3Decoder, FormatError, looksLikeEvt2, looksLikeEvt3 } from 'aedat-parser-ts';
import { checkRealRecording, decodeInChunks, expectChunkingInvariant, expectFormatErrorOf, expectOnlyFormatErrors, firstEvents } from './helpers/decode';

const make = (): Evt3Decoder => new Evt3Decoder();

const word = (type: number, v: number): number => ((type << 12) | (v & 0xfff)) >>> 0;
const addrY = (y: number): number => word(0x0, y);
const addrX = (x: number, p: number): number => word(0x2, (p << 11) | x);
const vbase = (x: number, p: number): number => word(0x3, (p << 11) | x);
const v12 = (mask: number): number => word(0x4, mask);
const v8 = (mask: number): number => word(0x5, mask);
const tLow = (t: number): number => word(0x6, t);
const tHigh = (t: number): number => word(0x8, t);

function raw(headerLines: string[], words: number[]): Uint8Array {
  const h = Buffer.from(headerLines.map((l) => l + '\n').join(''), 'latin1');
  const b = new Uint8Array(h.length + words.length * 2);
  b.set(h);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint16(h.length + i * 2, w, true));
  return b;
}

const expectFormatError = (fn: () => unknown, offset?: number): FormatError => expectFormatErrorOf('evt3', fn, offset);

describe('formats/evt3', () => {
  checkRealRecording('prophesee_evt3_expelliarmus_sample.raw', make, {
    count: 219596,
    on: 115532, // measured here; no upstream figure
    tFirst: 11718656,
    tLast: 11727457,
    // first words: TIME_HIGH 0xB2D, TIME_LOW 0, ADDR_Y 200, ADDR_X 874 (OFF) …
    first: [
      [874, 200, 0, 11718656],
      [806, 200, 1, 11718656],
      [882, 201, 0, 11718656],
    ],
    // no geometry line: from the plugin name hal_plugin_gen41_evk3
    geometry: { width: 1280, height: 720 },
    decoded: (dec) => {
      expect(dec.orphanEvents + dec.unknownWords + dec.timeReversals).to.equal(0);
    },
    sniffed: (bytes) => {
      const head = bytes.subarray(0, 65536);
      expect([looksLikeEvt3(head), looksLikeEvt2(head)]).to.deep.equal([true, false]);
    },
  });

  it('decodes single events and VECT_12 / VECT_8 vectors, advancing the base x', () => {
    const words = [
      tHigh(1),
      tLow(5),
      addrY(700),
      addrX(1279, 1),
      vbase(100, 0),
      v12(0b100000000101), // x 100, 102, 111
      v8(0x81), // x 112, 119
      word(0xa, 0), // trigger
      word(0xe, 0), // other
      word(0x7, 0), // continued 4
      word(0x9, 0), // unknown
      tLow(6),
      vbase(10, 1),
      v8(0x01), // x 10
      v12(0x800), // x 18 + 11 = 29
    ];
    const bytes = raw(['% evt 3.0', '% format EVT3;height=720;width=1280'], words);
    const dec = make();
    const whole = decodeInChunks(() => dec, bytes, 3);
    const t5 = 4096 + 5;
    const t6 = 4096 + 6;
    expect(firstEvents(whole, 20)).to.deep.equal([
      [1279, 700, 1, t5],
      [100, 700, 0, t5],
      [102, 700, 0, t5],
      [111, 700, 0, t5],
      [112, 700, 0, t5],
      [119, 700, 0, t5],
      [10, 700, 1, t6],
      [29, 700, 1, t6],
    ]);
    expect([dec.triggerWords, dec.otherWords, dec.unknownWords, dec.orphanEvents]).to.deep.equal([1, 2, 1, 0]);
    expect(dec.geometry).to.deep.equal({ width: 1280, height: 720 });
    expectChunkingInvariant(make, bytes, whole);
  });

  it('drops events before a time, a y or a vector base, and counts them', () => {
    const words = [addrY(3), addrX(1, 1), tHigh(0), addrX(2, 1), v12(0xfff), vbase(0, 0), v8(0x3)];
    const dec = make();
    const whole = decodeInChunks(() => dec, raw(['% evt 3.0'], words));
    expect(firstEvents(whole, 5)).to.deep.equal([
      [2, 3, 1, 0],
      [0, 3, 0, 0],
      [1, 3, 0, 0],
    ]);
    expect(dec.orphanEvents).to.equal(1 + 12);
    const noY = make();
    expect(decodeInChunks(() => noY, raw(['% evt 3.0'], [tHigh(0), addrX(1, 1)])).length).to.equal(0);
    expect(noY.orphanEvents).to.equal(1);
  });

  it('unwraps the 24-bit time when TIME_HIGH wraps; TIME_HIGH resets the low bits', () => {
    const words = [tHigh(0xfff), tLow(0xffe), addrY(1), addrX(1, 0), tHigh(0), addrX(2, 0), tLow(3), addrX(3, 0), tHigh(1), addrX(4, 0)];
    const whole = decodeInChunks(make, raw(['% evt 3.0'], words));
    expect(Array.from(whole.t)).to.deep.equal([2 ** 24 - 2, 2 ** 24, 2 ** 24 + 3, 2 ** 24 + 4096]);
  });

  it('rejects another EVT version or a missing header; odd trailing byte is a FormatError at end()', () => {
    expectFormatError(() => decodeInChunks(make, raw(['% evt 2.0'], [tHigh(1)])));
    expectFormatError(() => decodeInChunks(make, Uint8Array.from([0x00, 0x80])), 0);
    const good = raw(['% evt 3.0'], [tHigh(1)]);
    const dec = make();
    dec.push(good);
    dec.push(Uint8Array.from([7]));
    expectFormatError(() => dec.end(), good.length);
  });

  it('never throws anything but FormatError on corrupted input', () => {
    const good = raw(['% evt 3.0', '% geometry 1280x720'], [tHigh(2), tLow(1), addrY(5), addrX(1, 1), vbase(3, 0), v12(0xabc), v8(0x5a), tHigh(3)]);
    expectOnlyFormatErrors(make, good, 3);
  });
});
