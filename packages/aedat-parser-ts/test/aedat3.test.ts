import { expect } from 'chai';
import {
  Aedat31Writer,
  Aedat3Decoder,
  batchFromArrays,
  concatBatches,
  encodeAedat31,
  FormatError,
  geometryFromSourceName,
  looksLikeAedat3,
} from 'aedat-parser-ts';
import { concatBytes, eventWords, rawPacket, seededEvents as makeEvents } from './helpers/fixtures';
import { decodeInChunks, expectChunkingInvariant, expectSameEvents } from './helpers/decode';

const DVS128 = { width: 128, height: 128 };
const TWO_POW_31 = 2 ** 31;

const polarityData = (x: number, y: number, p: number, valid = 1): number => ((x << 17) | (y << 2) | (p << 1) | valid) >>> 0;

const header = (): Uint8Array => new Aedat31Writer({ geometry: DVS128 }).header();
const make = (): Aedat3Decoder => new Aedat3Decoder();

function expectFormatError(fn: () => unknown, offset?: number, reason?: RegExp): FormatError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(FormatError);
    const fe = err as FormatError;
    expect(fe.format).to.equal('aedat3');
    if (offset !== undefined) expect(fe.offset, fe.message).to.equal(offset);
    if (reason) expect(fe.reason).to.match(reason);
    return fe;
  }
  expect.fail('expected a FormatError');
}

describe('AEDAT 3.1 writer and decoder', () => {
  it('writes the documented header and is detected', () => {
    const h = new TextDecoder('latin1').decode(header());
    expect(h).to.equal('#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#Start-Time: 1970-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n');
    expect(looksLikeAedat3(header())).to.equal(true);
    expect(looksLikeAedat3(new TextEncoder().encode('#!AER-DAT2.0\r\n'))).to.equal(false);
    expect(looksLikeAedat3(new TextEncoder().encode('#!AER-DAT3.1'))).to.equal(false);
    expect(geometryFromSourceName('DAVIS240C')).to.deep.equal({ width: 240, height: 180 });
    expect(geometryFromSourceName('DVS128')).to.deep.equal({ width: 128, height: 128 });
    expect(geometryFromSourceName('Prophesee')).to.equal(undefined);
  });

  it('round-trips events exactly, in several packets', () => {
    const ev = makeEvents(10_000, { t0: 1_000 });
    const bytes = encodeAedat31(ev, { geometry: DVS128, eventsPerPacket: 777 });
    expect(bytes.length).to.equal(header().length + Math.ceil(10_000 / 777) * 28 + 10_000 * 8);
    const dec = make();
    const out = concatBatches([dec.push(bytes), dec.end()]);
    expectSameEvents(out, ev);
    expect(dec.geometry).to.deep.equal(DVS128);
    expect(dec.bytesConsumed).to.equal(bytes.length);
    expect(dec.packetsSeen).to.equal(Math.ceil(10_000 / 777));
  });

  it('handles t ≥ 2^31 through eventTSOverflow, never straddling an overflow boundary', () => {
    const ev = makeEvents(5_000, { t0: TWO_POW_31 - 4_000, meanGap: 2 });
    const far = makeEvents(1_000, { t0: 5 * TWO_POW_31 + 123, seed: 9 });
    const all = concatBatches([ev, far]);
    expect(all.t[0]).to.be.below(TWO_POW_31);
    expect(all.t[all.length - 1]).to.be.above(5 * TWO_POW_31);
    const bytes = encodeAedat31(all, { geometry: DVS128, eventsPerPacket: 4096 });
    expectSameEvents(decodeInChunks(make, bytes), all);
    // Walk the packets: each one's events share one overflow value.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let at = header().length;
    const overflows: number[] = [];
    let seen = 0;
    while (at < bytes.length) {
      const ov = dv.getInt32(at + 12, true);
      const cap = dv.getInt32(at + 16, true);
      overflows.push(ov);
      for (let i = 0; i < cap; i++) {
        expect(Math.floor(all.t[seen + i] / TWO_POW_31)).to.equal(ov);
      }
      seen += cap;
      at += 28 + cap * 8;
    }
    expect(seen).to.equal(all.length);
    expect(overflows).to.include.members([0, 1, 5]);
  });

  it('rejects events the format cannot hold (RangeError)', () => {
    const w = () => new Aedat31Writer({ geometry: DVS128 });
    expect(() => w().encode(batchFromArrays({ x: [1, 2], y: [1, 1], p: [0, 1], t: [10, 9] }))).to.throw(RangeError, /non-decreasing/);
    expect(() => w().encode(batchFromArrays({ x: [1], y: [1], p: [0], t: [-1] }))).to.throw(RangeError);
    expect(() => w().encode(batchFromArrays({ x: [1], y: [1], p: [0], t: [1.5] }))).to.throw(RangeError);
    expect(() => w().encode(batchFromArrays({ x: [128], y: [1], p: [0], t: [1] }))).to.throw(RangeError, /outside/);
    expect(() => w().encode(batchFromArrays({ x: [1], y: [128], p: [0], t: [1] }))).to.throw(RangeError, /outside/);
    expect(() => w().encode(batchFromArrays({ x: [1], y: [1], p: [2], t: [1] }))).to.throw(RangeError, /polarity/);
    const across = w();
    across.encode(batchFromArrays({ x: [1], y: [1], p: [0], t: [100] }));
    expect(() => across.encode(batchFromArrays({ x: [1], y: [1], p: [0], t: [99] }))).to.throw(RangeError);
    expect(() => new Aedat31Writer({ geometry: { width: 240, height: 180 }, sourceName: 'DVS128' })).to.throw(RangeError, /128×128/);
    expect(() => new Aedat31Writer({ geometry: DVS128, eventsPerPacket: 0 })).to.throw(RangeError);
  });

  it('carries a geometry that no source name implies (#Sensor-Size), and honours a geometry option', () => {
    const g = { width: 34, height: 34 };
    const ev = makeEvents(500, { width: 34, height: 34 });
    const bytes = encodeAedat31(ev, { geometry: g });
    const dec = make();
    expectSameEvents(concatBatches([dec.push(bytes), dec.end()]), ev);
    expect(dec.geometry).to.deep.equal(g);
    const davis = encodeAedat31(makeEvents(10, { width: 240, height: 180 }), { geometry: { width: 240, height: 180 }, sourceName: 'DAVIS240C' });
    const d2 = make();
    d2.push(davis);
    expect(d2.geometry).to.deep.equal({ width: 240, height: 180 });
    const d3 = new Aedat3Decoder({ geometry: { width: 300, height: 200 } });
    d3.push(davis);
    expect(d3.geometry).to.deep.equal({ width: 300, height: 200 });
  });

  it('skips invalid events (valid bit 0) and reads every slot up to eventCapacity', () => {
    const body = eventWords([
      [polarityData(1, 2, 1), 10],
      [polarityData(3, 4, 0, 0), 11], // invalid
      [polarityData(5, 6, 0), 12],
      [polarityData(7, 8, 1), 13], // beyond eventNumber, but valid: decoded
    ]);
    const bytes = concatBytes([header(), rawPacket({ type: 1, size: 8, capacity: 4, number: 3, valid: 2, overflow: 1 }, body)]);
    const out = decodeInChunks(make, bytes);
    expect(Array.from(out.x)).to.deep.equal([1, 5, 7]);
    expect(Array.from(out.y)).to.deep.equal([2, 6, 8]);
    expect(Array.from(out.p)).to.deep.equal([1, 0, 1]);
    expect(Array.from(out.t)).to.deep.equal([TWO_POW_31 + 10, TWO_POW_31 + 12, TWO_POW_31 + 13]);
  });

  it('skips non-polarity packets by their size, also big ones, without buffering them', () => {
    const a = makeEvents(300, { seed: 2 });
    const b = makeEvents(300, { seed: 3, t0: 10_000 });
    const frame = new Uint8Array(3 * 1000).fill(0xab); // type 2, 3 events of 1000 bytes
    const imu = new Uint8Array(2 * 60).fill(0x01); // type 3, eventSize 60
    const bigBody = new Uint8Array(5 * 629_146).fill(0x7f); // type 9, 5-byte events
    const w = new Aedat31Writer({ geometry: DVS128, eventsPerPacket: 128 });
    const head = w.header();
    const pa = w.encode(a);
    const others = [rawPacket({ type: 2, size: 1000, tsOffset: 8, capacity: 3 }, frame), rawPacket({ type: 3, size: 60, tsOffset: 4, capacity: 2 }, imu)];
    const big = rawPacket({ type: 9, size: 5, tsOffset: 0, capacity: bigBody.length / 5 }, bigBody);
    const pb = w.encode(b);
    const expected = concatBatches([a, b]);
    const small = concatBytes([head, pa, ...others, pb]);
    const whole = decodeInChunks(make, small);
    expectSameEvents(whole, expected);
    expectChunkingInvariant(make, small, whole);
    const bytes = concatBytes([head, pa, ...others, big, pb]);
    for (const size of [7, 65536]) expectSameEvents(decodeInChunks(make, bytes, size), expected, `chunks of ${size}`);
    // Inside the big skipped packet, every pushed byte is consumed at once (nothing carried).
    const bigStart = head.length + pa.length + others[0].length + others[1].length;
    const dec = make();
    for (let at = 0; at < bigStart + 2_000_000; at += 65536) {
      dec.push(bytes.subarray(at, Math.min(at + 65536, bigStart + 2_000_000)));
      if (at > bigStart + 28) expect(dec.bytesConsumed).to.equal(Math.min(at + 65536, bigStart + 2_000_000));
    }
  });

  it('reads special events: counts timestamp resets; keeps file times or continues them', () => {
    const before = batchFromArrays({ x: [1, 2], y: [1, 2], p: [1, 0], t: [1000, 2000] });
    const after = batchFromArrays({ x: [3, 4], y: [3, 4], p: [1, 1], t: [5, 50] });
    const special = rawPacket({ type: 0, size: 8, capacity: 2 }, eventWords([
      [(1 << 1) | 1, 0x7fffffff], // timestamp reset
      [(0 << 1) | 1, 0], // timestamp wrap (ignored)
    ]));
    const bytes = concatBytes([
      header(),
      new Aedat31Writer({ geometry: DVS128 }).encode(before),
      special,
      new Aedat31Writer({ geometry: DVS128 }).encode(after),
    ]);
    const keep = make();
    const kept = concatBatches([keep.push(bytes), keep.end()]);
    expect(Array.from(kept.t)).to.deep.equal([1000, 2000, 5, 50]);
    expect(keep.timestampResets).to.equal(1);
    const cont = () => new Aedat3Decoder({ timestampReset: 'continue' });
    const continued = decodeInChunks(cont, bytes, 3);
    expect(Array.from(continued.t)).to.deep.equal([1000, 2000, 2005, 2050]);
    expect(() => decodeInChunks(make, concatBytes([header(), rawPacket({ type: 0, size: 12, tsOffset: 4, capacity: 1 }, new Uint8Array(12))]))).to.throw(FormatError, /special packet with eventSize 12/);
  });

  it('gives the same events in chunks of 1, 7 and 65536 bytes (120k events)', function () {
    this.timeout(120_000);
    const ev = makeEvents(120_000, { seed: 7, t0: TWO_POW_31 - 100_000 });
    const bytes = encodeAedat31(ev, { geometry: DVS128 });
    const whole = decodeInChunks(make, bytes);
    expectSameEvents(whole, ev);
    expectChunkingInvariant(make, bytes, whole);
  });

  it('reports corrupt headers with the byte offset', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expectFormatError(() => decodeInChunks(make, enc('#!AER-DAT2.0\r\n')), 9, /not an AEDAT 3.1/);
    expectFormatError(() => decodeInChunks(make, enc('#!AER-DAT3.1\r\n#Format: RAW\r\nSource\r\n')), 28, /does not begin with '#'/);
    expectFormatError(() => decodeInChunks(make, enc('#!AER-DAT3.1\r\n#Format: COMPRESSED\r\n#!END-HEADER\r\n')), 14, /unsupported #Format/);
    expectFormatError(() => decodeInChunks(make, enc('#!AER-DAT3.10\r\n#!END-HEADER\r\n')), 0, /first line/);
    // A header that never ends: bounded, then an error.
    const endless = new Uint8Array(2 * 1024 * 1024).fill(0x23);
    expectFormatError(() => decodeInChunks(make, concatBytes([enc('#!AER-DAT3.1\r\n'), endless]), 4096), undefined, /longer than/);
  });

  it('reports corrupt packet headers with the packet offset, never allocating from them', () => {
    const h = header();
    const at = h.length;
    const cases: [Parameters<typeof rawPacket>[0], RegExp][] = [
      [{ type: 1, size: 0, capacity: 1 }, /eventSize 0/],
      [{ type: 1, size: 16, capacity: 1 }, /polarity packet with eventSize 16/],
      [{ type: 2, size: 0x7fffffff, capacity: 1 }, /eventSize/],
      [{ type: 1, size: 8, capacity: 0x7fffffff }, /exceeds/],
      [{ type: 2, size: 4096, tsOffset: 0, capacity: 1 << 20 }, /exceeds/],
      [{ type: 1, size: 8, capacity: -5 }, /negative eventCapacity/],
      [{ type: 1, size: 8, capacity: 4, number: 5 }, /eventNumber 5/],
      [{ type: 1, size: 8, capacity: 4, number: 2, valid: 3 }, /eventValid 3/],
      [{ type: 1, size: 8, capacity: 1, overflow: -1 }, /eventTSOverflow/],
      [{ type: -3, size: 8, capacity: 1 }, /negative eventType/],
      [{ type: 1, size: 8, capacity: 1, tsOffset: 0 }, /eventTSOffset/],
      [{ type: 5, size: 8, capacity: 1, tsOffset: 6 }, /eventTSOffset/],
    ];
    const good = new Aedat31Writer({ geometry: DVS128 }).encode(makeEvents(10));
    for (const [ph, re] of cases) {
      const bytes = concatBytes([h, good, rawPacket(ph, new Uint8Array(64))]);
      for (const chunk of [1, 7, 65536]) expectFormatError(() => decodeInChunks(make, bytes, chunk), at + good.length, re);
    }
  });

  it('reports events outside the sensor and negative timestamps', () => {
    const bytes = concatBytes([header(), rawPacket({ type: 1, size: 8, capacity: 2 }, eventWords([[polarityData(1, 1, 1), 5], [polarityData(130, 1, 1), 6]]))]);
    expectFormatError(() => decodeInChunks(make, bytes), header().length + 28 + 8, /outside the 128×128/);
    const neg = concatBytes([header(), rawPacket({ type: 1, size: 8, capacity: 1 }, eventWords([[polarityData(1, 1, 1), -4]]))]);
    expectFormatError(() => decodeInChunks(make, neg), header().length + 28, /negative timestamp/);
  });

  it('reports truncation inside the header, a packet header or a packet body', () => {
    const bytes = encodeAedat31(makeEvents(100), { geometry: DVS128, eventsPerPacket: 50 });
    const h = header().length;
    expectFormatError(() => decodeInChunks(make, bytes.subarray(0, 20), 3), 20, /inside the header/);
    expectFormatError(() => decodeInChunks(make, bytes.subarray(0, h + 10), 3), h, /inside a packet header/);
    const fe = expectFormatError(() => decodeInChunks(make, bytes.subarray(0, h + 28 + 13), 5), h + 28 + 13, /inside the body/);
    expect(fe.message).to.contain(`packet at byte ${h}`);
    // Header only, and header plus whole packets, end cleanly.
    expect(decodeInChunks(make, header()).length).to.equal(0);
    expect(decodeInChunks(make, bytes.subarray(0, h + 28 + 50 * 8)).length).to.equal(50);
  });
});
