import { expect } from 'chai';
import { FormatError, looksLikePropheseeDat, PropheseeDatDecoder } from 'aedat-parser-ts';
import { checkRealRecording, decodeInChunks, expectChunkingInvariant, expectFormatErrorOf, expectOnlyFormatErrors, firstEvents } from './helpers/decode';

const make = (): PropheseeDatDecoder => new PropheseeDatDecoder();

function dat(headerLines: string[], recs: Array<[number, number, number, number]>, type = 0, size = 8): Uint8Array {
  const h = Buffer.from(headerLines.map((l) => l + '\n').join(''), 'latin1');
  const b = new Uint8Array(h.length + 2 + recs.length * 8);
  b.set(h);
  b[h.length] = type;
  b[h.length + 1] = size;
  const dv = new DataView(b.buffer);
  recs.forEach(([x, y, p, t], i) => {
    const o = h.length + 2 + i * 8;
    dv.setUint32(o, t >>> 0, true);
    dv.setUint32(o + 4, (x | (y << 14) | (p << 28)) >>> 0, true);
  });
  return b;
}

const expectFormatError = (fn: () => unknown, offset?: number): FormatError => expectFormatErrorOf('prophesee-dat', fn, offset);

describe('formats/prophesee-dat', () => {
  // no geometry in its header
  checkRealRecording('ncars_tonic_sample.dat', make, {
    count: 2009,
    on: 1350,
    tFirst: 0,
    tLast: 99952,
    first: [
      [25, 8, 0, 0],
      [67, 35, 0, 35],
      [56, 27, 1, 152],
    ],
    geometry: undefined,
    decoded: (dec, whole) => {
      let mx = 0;
      let my = 0;
      for (let i = 0; i < whole.length; i++) {
        mx = Math.max(mx, whole.x[i]);
        my = Math.max(my, whole.y[i]);
      }
      expect([mx, my]).to.deep.equal([77, 41]);
      expect(dec.eventType).to.equal(0);
    },
    sniffed: (bytes) => {
      expect(looksLikePropheseeDat(bytes)).to.equal(true);
    },
  });

  it('takes geometry from % Width / % Height, from % geometry, or from the option', () => {
    const a = make();
    decodeInChunks(() => a, dat(['% Data file containing Event2D events.', '% Version 2', '% Width 304', '% Height 240'], []));
    expect(a.geometry).to.deep.equal({ width: 304, height: 240 });
    const b = make();
    decodeInChunks(() => b, dat(['% geometry 1280x720'], []), 1);
    expect(b.geometry).to.deep.equal({ width: 1280, height: 720 });
    const c = new PropheseeDatDecoder({ geometry: { width: 64, height: 48 } });
    decodeInChunks(() => c, dat(['% Version 2'], []));
    expect(c.geometry).to.deep.equal({ width: 64, height: 48 });
  });

  it('decodes x, y (14 bits), any non-zero 4-bit p as ON, and unwraps uint32 time', () => {
    const bytes = dat(['% Version 2'], [
      [16383, 16383, 0, 0xfffffff0],
      [1, 2, 5, 0x10],
      [3, 4, 1, 0x20],
    ]);
    const whole = decodeInChunks(make, bytes);
    expect(firstEvents(whole, 3)).to.deep.equal([
      [16383, 16383, 0, 0xfffffff0],
      [1, 2, 1, 2 ** 32 + 0x10],
      [3, 4, 1, 2 ** 32 + 0x20],
    ]);
    expectChunkingInvariant(make, bytes, whole);
  });

  it('rejects bad magic, RAW headers, and event sizes other than 8', () => {
    expectFormatError(() => make().push(Uint8Array.from([0, 8, 1, 2])), 0);
    expectFormatError(() => make().push(Uint8Array.from(Buffer.from('% evt 2.0\n'))), 0);
    expectFormatError(() => decodeInChunks(make, dat(['% Version 2'], [], 0, 16)), 13);
    expect(looksLikePropheseeDat(Uint8Array.from(Buffer.from('% evt 3.0\n')))).to.equal(false);
    expect(looksLikePropheseeDat(dat(['% Version 2'], [], 0, 16))).to.equal(false);
  });

  it('throws a FormatError at end() mid-record, mid-header, and before the type/size bytes', () => {
    const good = dat(['% Version 2'], [[1, 1, 1, 1]]);
    const dec = make();
    dec.push(good);
    dec.push(Uint8Array.from([1, 2, 3]));
    expectFormatError(() => dec.end(), good.length);
    const h = make();
    h.push(Uint8Array.from(Buffer.from('% Version')));
    expectFormatError(() => h.end());
    const ts = make();
    ts.push(Uint8Array.from(Buffer.from('% Version 2\n\u0000')));
    expectFormatError(() => ts.end());
  });

  it('never throws anything but FormatError on corrupted input', () => {
    const good = dat(['% Version 2', '% Width 10', '% Height 10'], [[1, 1, 1, 1], [2, 2, 0, 2]]);
    expectOnlyFormatErrors(make, good, 99);
  });
});
