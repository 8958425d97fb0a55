import { expect } from 'chai';
import { batchFromArrays, countOn, encodeNmnist, FormatError, looksLikeNmnist, NmnistDecoder } from 'aedat-parser-ts';
import { decodeInChunks, expectChunkingInvariant, expectSameEvents, firstEvents } from './helpers/decode';
import { readSharedRecording } from './helpers/recordings';

const make = (): NmnistDecoder => new NmnistDecoder();

/** One raw 5-byte record. */
function rec(x: number, y: number, p: number, t: number): number[] {
  return [x, y, (p << 7) | ((t >>> 16) & 0x7f), (t >>> 8) & 0xff, t & 0xff];
}

describe('formats/nmnist', () => {
  describe('nmnist_tonic_sample.bin', function () {
    this.timeout(120000);
    it('has the documented count, ON count, times, first events and geometry; chunking does not matter', () => {
      const bytes = readSharedRecording('nmnist_tonic_sample.bin');
      const dec = make();
      const whole = decodeInChunks(() => dec, bytes);
      expect(whole.length).to.equal(4325);
      expect(countOn(whole)).to.equal(2145);
      expect(whole.t[0]).to.equal(654);
      expect(whole.t[whole.length - 1]).to.equal(311175);
      expect(firstEvents(whole, 3)).to.deep.equal([
        [7, 15, 1, 654],
        [19, 18, 0, 2999],
        [21, 17, 0, 3017],
      ]);
      expect(dec.geometry).to.deep.equal({ width: 34, height: 34 });
      expect(dec.overflowMarkers).to.equal(0);
      expect(dec.bytesConsumed).to.equal(bytes.length);
      for (let i = 0; i < whole.length; i++) if (whole.x[i] >= 34 || whole.y[i] >= 34) expect.fail(`event ${i} outside 34×34`);
      for (let i = 1; i < whole.length; i++) if (whole.t[i] < whole.t[i - 1]) expect.fail(`time decreases at ${i}`);
      expectChunkingInvariant(make, bytes, whole);
      expect(looksLikeNmnist(bytes.subarray(0, 65536))).to.equal(true);
    });
  });

  it('an overflow marker (y = 240) adds 2^13 µs to every following event and is not an event', () => {
    const bytes = Uint8Array.from([...rec(1, 2, 1, 100), ...rec(0, 240, 0, 0), ...rec(3, 4, 0, 50), ...rec(0, 240, 0, 7), ...rec(5, 6, 1, 60)]);
    const dec = make();
    const b = decodeInChunks(() => dec, bytes, 3);
    expect(firstEvents(b, 9)).to.deep.equal([
      [1, 2, 1, 100],
      [3, 4, 0, 8192 + 50],
      [5, 6, 1, 16384 + 60],
    ]);
    expect(dec.overflowMarkers).to.equal(2);
  });

  it('reports 34×34 by default and an explicit geometry when given (N-Caltech101)', () => {
    expect(new NmnistDecoder().geometry).to.deep.equal({ width: 34, height: 34 });
    expect(new NmnistDecoder({ geometry: { width: 240, height: 180 } }).geometry).to.deep.equal({ width: 240, height: 180 });
  });

  it('throws a FormatError at end() for a record cut short', () => {
    const dec = make();
    dec.push(Uint8Array.from([...rec(1, 2, 1, 3), 9, 9]));
    try {
      dec.end();
      expect.fail('expected a FormatError');
    } catch (e) {
      expect(e).to.be.instanceOf(FormatError);
      expect((e as FormatError).offset).to.equal(5);
    }
  });

  it('sniffs weakly: rejects text headers and times that go backwards', () => {
    expect(looksLikeNmnist(Uint8Array.from(Buffer.from('#!AER-DAT2.0\r\n# hello')))).to.equal(false);
    expect(looksLikeNmnist(Uint8Array.from([...rec(1, 1, 0, 500), ...rec(1, 1, 0, 100)]))).to.equal(false);
    expect(looksLikeNmnist(Uint8Array.from([...rec(1, 1, 0, 500), ...rec(0, 240, 0, 0), ...rec(1, 1, 0, 100)]))).to.equal(true);
  });

  describe('encodeNmnist', () => {
    it('round-trips through NmnistDecoder, inserting overflow markers for t >= 2^23', () => {
      const n = 2000;
      const x: number[] = [];
      const y: number[] = [];
      const p: number[] = [];
      const t: number[] = [];
      for (let i = 0; i < n; i++) {
        x.push((i * 7) % 256);
        y.push((i * 13) % 240);
        p.push(i & 1);
        t.push(i * 20000); // up to ~4e7 µs, well past 2^23
      }
      t[5] = t[4]; // equal times are fine
      const batch = batchFromArrays({ x, y, p, t });
      const bytes = encodeNmnist(batch);
      const dec = make();
      const back = decodeInChunks(() => dec, bytes, 7);
      expectSameEvents(back, batch);
      expect(dec.overflowMarkers).to.equal(Math.ceil((t[n - 1] - (2 ** 23 - 1)) / 8192));
      expect(bytes.length).to.equal(5 * (n + dec.overflowMarkers));
    });

    it('writes no markers below 2^23 and floors fractional µs', () => {
      const bytes = encodeNmnist(batchFromArrays({ x: [1, 2], y: [3, 4], p: [0, 1], t: [10.7, 2 ** 23 - 1] }));
      expect(bytes.length).to.equal(10);
      expect(firstEvents(decodeInChunks(make, bytes), 2)).to.deep.equal([
        [1, 3, 0, 10],
        [2, 4, 1, 2 ** 23 - 1],
      ]);
      expect(encodeNmnist(batchFromArrays({ x: [], y: [], p: [], t: [] })).length).to.equal(0);
    });

    it('throws RangeError for coordinates >= 256, y = 240, negative, non-finite or decreasing times', () => {
      const one = (x: number, y: number, t: number) => batchFromArrays({ x: [x], y: [y], p: [1], t: [t] });
      expect(() => encodeNmnist(one(256, 0, 0))).to.throw(RangeError);
      expect(() => encodeNmnist(one(0, 300, 0))).to.throw(RangeError);
      expect(() => encodeNmnist(one(0, 240, 0))).to.throw(RangeError);
      expect(() => encodeNmnist(one(0, 0, -1))).to.throw(RangeError);
      expect(() => encodeNmnist(one(0, 0, NaN))).to.throw(RangeError);
      expect(() => encodeNmnist(batchFromArrays({ x: [0, 0], y: [0, 0], p: [0, 0], t: [5, 4] }))).to.throw(RangeError);
    });
  });
});
