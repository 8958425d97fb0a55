/** AEDAT 4.0 decoding of bad input: one FormatError at the right offset, never a RangeError. */
import { expect } from 'chai';
import {
  Aedat4Decoder,
  aedat4Description,
  Aedat4Writer,
  encodeAedat4,
  encodeAedat4Header,
  FormatError,
  looksLikeAedat4,
} from 'aedat-parser-ts';
import { decodeInChunks } from './helpers/decode';
import { make, decodeAll, concat, packet, formatError, randomEvents } from './helpers/aedat4';

describe('AEDAT 4.0 decoder: bad input', () => {
  const geometry = { width: 64, height: 48 };
  const events = randomEvents(500, 64, 48, 11);
  const good = encodeAedat4(events, { geometry, compression: 'lz4', eventsPerPacket: 200 });
  const headerLen = new Aedat4Writer({ geometry, compression: 'lz4' }).header().length;

  it('wrong magic (an AEDAT 3.1 file) at the first differing byte; looksLikeAedat4 says no', () => {
    const bytes = new TextEncoder().encode('#!AER-DAT3.1\r\n#Format: RAW\r\n');
    expect(looksLikeAedat4(bytes)).to.equal(false);
    const e = formatError(() => decodeInChunks(make, bytes, 1));
    expect(e.offset).to.equal(9);
    expect(e.format).to.equal('aedat4');
  });

  it('unknown compression 7 at the field offset', () => {
    const bytes = concat(encodeAedat4Header(7, aedat4Description(geometry)), good.subarray(headerLen));
    const e = formatError(() => decodeAll(bytes));
    expect(e.reason).to.equal('unknown compression 7');
    expect(e.offset).to.equal(18 + 28);
  });

  it('absurd IOHeader length, absurd packet size, packet past the data table', () => {
    const a = good.slice();
    new DataView(a.buffer).setUint32(14, 0xfffffff0, true);
    let e = formatError(() => decodeAll(a));
    expect(e.offset).to.equal(14);
    const b = good.slice();
    new DataView(b.buffer).setUint32(headerLen + 4, 0x7fffffff, true);
    e = formatError(() => decodeInChunks(make, b, 7));
    expect(e.offset).to.equal(headerLen + 4);
    expect(e.reason).to.match(/packet size 2147483647 exceeds/);
    const c = concat(encodeAedat4Header(1, aedat4Description(geometry), headerLen + 20), good.subarray(headerLen));
    e = formatError(() => decodeAll(c));
    expect(e.reason).to.match(/runs past the file data table/);
    expect(e.offset).to.equal(headerLen + 4);
  });

  it('truncation: inside the header, a packet header, a payload', () => {
    for (const [cut, offset] of [
      [0, 0],
      [10, 10],
      [headerLen - 3, headerLen - 3],
      [headerLen + 5, headerLen],
      [good.length - 1, -1],
    ] as const) {
      const e = formatError(() => decodeInChunks(make, good.subarray(0, cut), 7));
      if (offset >= 0) expect(e.offset, `cut at ${cut}`).to.equal(offset);
      else expect(e.reason).to.match(/truncated packet of stream 0/);
    }
    // a cut exactly between packets is a valid (shorter) stream
    expect(decodeAll(good.subarray(0, headerLen)).length).to.equal(0);
  });

  it('corrupt LZ4 payloads, bad flatbuffers and out-of-sensor events are FormatErrors, never RangeErrors', () => {
    const lz4Bad = good.slice();
    lz4Bad[headerLen + 8] ^= 0x55; // LZ4 magic
    let e = formatError(() => decodeAll(lz4Bad));
    expect(e.offset).to.equal(headerLen + 8);
    expect(e.reason).to.match(/LZ4 frame magic/);

    const plain = encodeAedat4(events, { geometry, compression: 'none', eventsPerPacket: 200 });
    const hl = new Aedat4Writer({ geometry, compression: 'none' }).header().length;
    const badId = plain.slice();
    badId[hl + 8 + 8] = 0x46; // "FVTS"
    e = formatError(() => decodeAll(badId));
    expect(e.offset).to.equal(hl + 8 + 8);
    const badVec = plain.slice();
    new DataView(badVec.buffer).setUint32(hl + 8 + 28, 1_000_000, true); // element count
    e = formatError(() => decodeAll(badVec));
    expect(e.reason).to.match(/elements overrun/);
    const badVt = plain.slice();
    new DataView(badVt.buffer).setInt32(hl + 8 + 20, -100000, true); // soffset to vtable
    e = formatError(() => decodeAll(badVt));
    expect(e.reason).to.match(/vtable/);
    const badX = plain.slice();
    new DataView(badX.buffer).setInt16(hl + 8 + 32 + 16 * 5 + 8, 64, true); // x = width
    e = formatError(() => decodeAll(badX));
    expect(e.offset).to.equal(hl + 8 + 32 + 16 * 5 + 8);
    expect(e.reason).to.match(/event 5 at \(64, .*\) outside the 64×48 sensor/);
    // A negative int64 time (found by the fuzz test: it decoded to t ≈ −2.2·10^18) and one past 2^53 µs.
    const negativeT = plain.slice();
    new DataView(negativeT.buffer).setInt32(hl + 8 + 32 + 16 * 7 + 4, -1, true);
    e = formatError(() => decodeAll(negativeT));
    expect(e.offset).to.equal(hl + 8 + 32 + 16 * 7);
    expect(e.reason).to.match(/event 7's timestamp is negative/);
    const hugeT = plain.slice();
    new DataView(hugeT.buffer).setInt32(hl + 8 + 32 + 16 * 7 + 4, 1 << 21, true);
    expect(formatError(() => decodeAll(hugeT)).reason).to.match(/event 7's timestamp is 2\^53 µs or more/);

    // random garbage after a valid header: FormatError or events, nothing else
    let s = 99;
    for (let k = 0; k < 200; k++) {
      const junk = Uint8Array.from({ length: 200 }, () => ((s = Math.imul(s, 1103515245) + 12345) >>> 16) & 0xff);
      const bytes = concat(good.subarray(0, headerLen), packet(0, junk));
      try {
        decodeAll(bytes);
      } catch (err) {
        if (!(err instanceof FormatError)) throw err;
      }
    }
  });

  it('broken XML descriptions and bad sizes are FormatErrors inside the header', () => {
    for (const xml of ['<dv version="2.0"><node name="outInfo">', '<dv><node name="outInfo"><node name="0"><node name="info"><attr key="sizeX" type="int">-5</attr></node></node></node></dv>', '<notdv/>']) {
      const e = formatError(() => decodeAll(encodeAedat4Header(0, xml)));
      expect(e.offset).to.be.within(18, 18 + 48 + xml.length);
      expect(e.reason).to.match(/description XML/);
    }
  });

  it('a failed decoder keeps failing with the same error; empty input is an error at end()', () => {
    const dec = new Aedat4Decoder();
    const e1 = formatError(() => dec.push(new TextEncoder().encode('#!AER-DAT2.0\r\n')));
    const e2 = formatError(() => dec.push(new Uint8Array(1)));
    expect(e2).to.equal(e1);
    expect(formatError(() => new Aedat4Decoder().end()).offset).to.equal(0);
  });
});
