import { expect } from 'chai';
import { ByteBuffer } from 'flatbuffers';
import * as lz4js from 'lz4js';
import {
  Aedat4Decoder,
  aedat4Description,
  Aedat4Writer,
  batchFromArrays,
  encodeAedat4,
  encodeAedat4Header,
  encodeEventPacket,
  type EventBatch,
  FormatError,
  looksLikeAedat4,
  lz4CompressFrame,
  Lz4FrameDecoder,
  readAedat4Header,
  readAedat4Streams,
  xxh32,
} from 'aedat-parser-ts';
import { checkRealRecording, decodeInChunks, expectChunkingInvariant, expectSameEvents } from './helpers/decode';
import { readSharedRecording } from './helpers/recordings';
import { concatBytes } from './helpers/fixtures';
import { randomEvents as seededEvents } from './helpers/fixtures';
import { mulberry32 } from './helpers/prng';

const make = (): Aedat4Decoder => new Aedat4Decoder();

function decodeAll(bytes: Uint8Array, dec = new Aedat4Decoder()): EventBatch {
  return decodeInChunks(() => dec, bytes);
}

const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

function packet(streamId: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  const dv = new DataView(head.buffer);
  dv.setInt32(0, streamId, true);
  dv.setUint32(4, payload.length, true);
  return concat(head, payload);
}

/** Runs `f` and returns the FormatError it throws (fails the test otherwise). */
function formatError(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${e instanceof Error ? e.stack : String(e)}`);
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

/** Seeded pseudo-random events with increasing Unix-µs timestamps (steps of 0…39 µs). */
function randomEvents(n: number, w: number, h: number, seed = 1): EventBatch {
  return seededEvents(n, w, h, seed, 20, 1_718_925_184_590_631);
}

/** A zstd frame holding `data` in Raw_Blocks (≤ 128 KiB each), with a 4-byte content size. */
function zstdRawFrame(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  // magic FD2FB528, FHD: FCS_Field_Size=2 (4 bytes), Single_Segment=1, no checksum, no dict.
  const head = new Uint8Array(9);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, 0xfd2fb528, true);
  head[4] = 0xa0;
  dv.setUint32(5, data.length, true);
  parts.push(head);
  const max = 128 * 1024;
  for (let s = 0; s < data.length || s === 0; s += max) {
    const e = Math.min(data.length, s + max);
    const last = e === data.length ? 1 : 0;
    const h = ((e - s) << 3) | (0 << 1) | last; // Block_Type 0 = Raw_Block
    parts.push(Uint8Array.of(h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff), data.subarray(s, e));
    if (last) break;
  }
  return concat(...parts);
}

interface RealFile {
  name: string;
  events: number;
  on: number;
  tFirst: number;
  tLast: number;
  first?: number[][];
  geometry: { width: number; height: number };
  streams: [number, string][];
  source: string;
  dataTable: boolean;
}

const REAL: RealFile[] = [
  {
    name: 'dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4',
    events: 149_629,
    on: 66_767,
    tFirst: 1718925184590631,
    tLast: 1718925190610468,
    first: [
      [23, 51, 1, 1718925184590631],
      [23, 50, 1, 1718925184590832],
      [26, 74, 1, 1718925184590833],
    ],
    geometry: { width: 128, height: 128 },
    streams: [
      [0, 'EVTS'],
      [3, 'TRIG'],
    ],
    source: 'DVS128_0279',
    dataTable: true,
  },
  {
    name: 'dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4',
    events: 18_342,
    on: 8_297,
    tFirst: 1718320899149165,
    tLast: 1718320904608663,
    geometry: { width: 128, height: 128 },
    streams: [
      [0, 'EVTS'],
      [3, 'TRIG'],
    ],
    source: 'DVS128_0279',
    dataTable: true,
  },
  {
    name: 'dvxplorer_tonic_sample.aedat4',
    events: 111_954,
    on: 55_023,
    tFirst: 1605537493718345,
    tLast: 1605537494308262,
    first: [
      [154, 204, 0, 1605537493718345],
      [149, 206, 0, 1605537493718348],
      [148, 199, 1, 1605537493718349],
    ],
    geometry: { width: 320, height: 240 },
    streams: [
      [0, 'EVTS'],
      [2, 'IMUS'],
      [3, 'TRIG'],
    ],
    source: 'DVXplorer_DXB00010',
    dataTable: true,
  },
];

describe('AEDAT 4.0 decoder: real DV recordings', function () {
  this.timeout(120_000);
  for (const f of REAL) {
    checkRealRecording(f.name, make, {
      count: f.events,
      on: f.on,
      tFirst: f.tFirst,
      tLast: f.tLast,
      first: f.first,
      geometry: f.geometry,
      decoded: (dec, _whole, bytes) => {
        // header and stream table
        expect(dec.streamId).to.equal(0);
        const h = readAedat4Header(bytes.subarray(0, 8192));
        expect(h.compression).to.equal('lz4');
        expect(h.description).to.match(/^<dv version="2.0">/);
        if (f.dataTable) {
          expect(h.dataTablePosition).to.be.greaterThan(h.headerBytes);
          expect(h.dataTablePosition).to.be.lessThan(bytes.length);
        }
        const streams = readAedat4Streams(bytes.subarray(0, 8192));
        expect(streams.map((s) => [s.id, s.typeIdentifier])).to.deep.equal(f.streams);
        expect(streams[0]).to.include({ width: f.geometry.width, height: f.geometry.height, source: f.source, name: 'events' });
      },
      sniffed: (bytes) => {
        expect(looksLikeAedat4(bytes.subarray(0, 64))).to.equal(true);
      },
    });
  }

  it('dvxplorer sample: 59 event packets, data table at 945 243, IMU/trigger packets skipped', () => {
    const bytes = readSharedRecording('dvxplorer_tonic_sample.aedat4');
    const dec = new Aedat4Decoder();
    decodeAll(bytes, dec);
    expect(dec.packetCount).to.equal(59);
    expect(dec.header?.dataTablePosition).to.equal(945_243);
    expect(readAedat4Header(bytes.subarray(0, 4096)).headerBytes).to.equal(18 + 2316);
  });

  it('dvs128 2024-06-20: 602 event packets', () => {
    const dec = new Aedat4Decoder();
    decodeAll(readSharedRecording('dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4'), dec);
    expect(dec.packetCount).to.equal(602);
  });

  it('asking for a stream that is not EVTS is a FormatError', () => {
    const bytes = readSharedRecording('dvxplorer_tonic_sample.aedat4');
    const e = formatError(() => new Aedat4Decoder({ streamId: 2 }).push(bytes));
    expect(e.reason).to.match(/no EVTS stream with id 2/);
    expect(decodeAll(bytes, new Aedat4Decoder({ streamId: 0 })).length).to.equal(111_954);
  });

  it('bytes after the data table position are ignored', () => {
    const bytes = readSharedRecording('dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4');
    const junk = concat(bytes, new Uint8Array(1000).fill(0xee));
    expect(decodeAll(junk).length).to.equal(18_342);
  });

  it('our LZ4 frame decoder agrees with lz4js on DV packets', () => {
    const bytes = readSharedRecording('dvxplorer_tonic_sample.aedat4');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    let p = 18 + dv.getUint32(14, true);
    const ours = new Lz4FrameDecoder();
    for (let k = 0; k < 40; k++) {
      const size = dv.getUint32(p + 4, true);
      const payload = bytes.subarray(p + 8, p + 8 + size);
      expect(Array.from(ours.decode(payload))).to.deep.equal(Array.from(lz4js.decompress(payload)));
      p += 8 + size;
    }
  });
});

describe('AEDAT 4.0 writer round trips', function () {
  this.timeout(120_000);
  const geometry = { width: 346, height: 260 };
  const events = randomEvents(20_000, geometry.width, geometry.height, 7);

  for (const compression of ['none', 'lz4'] as const) {
    it(`${compression}: decodes back exactly, whole and chunked`, () => {
      const bytes = encodeAedat4(events, { geometry, compression, eventsPerPacket: 3000, sourceName: 'test <cam> & "co"' });
      const dec = new Aedat4Decoder();
      const back = decodeAll(bytes, dec);
      expectSameEvents(back, events, compression);
      expect(dec.geometry).to.deep.equal(geometry);
      expect(dec.packetCount).to.equal(7);
      expect(dec.header).to.include({ compression, dataTablePosition: -1 });
      expect(dec.streams).to.deep.equal([
        { id: 0, typeIdentifier: 'EVTS', name: 'events', compression: compression === 'lz4' ? 'LZ4' : 'NONE', width: 346, height: 260, source: 'test <cam> & "co"' },
      ]);
      expectChunkingInvariant(make, bytes, back);
    });
  }

  it('the writer streams: header, encode per batch, finish; large packets span several LZ4 blocks', () => {
    const w = new Aedat4Writer({ geometry, compression: 'lz4', eventsPerPacket: 10_000 });
    const parts = [w.header(), w.encode(sliceFirst(events, 12_345)), w.encode(sliceFrom(events, 12_345)), w.finish()];
    expect(parts[3].length).to.equal(0);
    expect(w.encode(sliceFirst(events, 0)).length).to.equal(0);
    const dec = new Aedat4Decoder();
    expectSameEvents(decodeAll(concat(...parts), dec), events);
    expect(dec.packetCount).to.equal(3); // 10 000 + 2 345 + 7 655
  });

  it('LZ4 frames: ours decode with lz4js, lz4js frames decode with ours; incompressible data is stored raw', () => {
    const fb = encodeEventPacket(events, 0, 9000); // 144 KiB → 3 blocks
    const ours = lz4CompressFrame(fb);
    expect(ours.length).to.be.lessThan(fb.length);
    expect(Array.from(lz4js.decompress(ours))).to.deep.equal(Array.from(fb));
    const theirs = lz4js.compress(fb);
    expect(Array.from(new Lz4FrameDecoder().decode(theirs))).to.deep.equal(Array.from(fb));
    // header checksum agrees with lz4js's for its descriptor
    expect(theirs[6]).to.equal((xxh32(theirs, 4, 6) >>> 8) & 0xff);
    let a = 12345;
    const noise = Uint8Array.from({ length: 70_000 }, () => ((a = Math.imul(a, 1103515245) + 12345) >>> 16) & 0xff);
    const raw = lz4CompressFrame(noise);
    expect(new DataView(raw.buffer).getUint32(7, true) >>> 31).to.equal(1); // first block stored uncompressed
    expect(Array.from(new Lz4FrameDecoder().decode(raw))).to.deep.equal(Array.from(noise));
    expect(Array.from(new Lz4FrameDecoder().decode(lz4CompressFrame(new Uint8Array(0))))).to.deep.equal([]);
  });

  it('the IOHeader and EventPacket read back through the flatbuffers library', () => {
    const h = encodeAedat4Header(1, aedat4Description(geometry), -1);
    const bb = new ByteBuffer(h.subarray(18));
    expect(bb.getBufferIdentifier()).to.equal('IOHE');
    const root = bb.readInt32(0);
    expect(bb.readInt32(root + bb.__offset(root, 4))).to.equal(1);
    expect(bb.readInt64(root + bb.__offset(root, 6))).to.equal(BigInt(-1));
    expect(bb.__string(root + bb.__offset(root, 8))).to.match(/typeIdentifier" type="string">EVTS</);
    const fb = encodeEventPacket(events, 0, 3);
    const pb = new ByteBuffer(fb.subarray(4));
    expect(pb.getBufferIdentifier()).to.equal('EVTS');
    const proot = pb.readInt32(0);
    const vec = pb.__vector(proot + pb.__offset(proot, 4));
    expect(pb.__vector_len(proot + pb.__offset(proot, 4))).to.equal(3);
    expect(Number(pb.readInt64(vec + 16))).to.equal(events.t[1]);
    expect(pb.readInt16(vec + 16 + 8)).to.equal(events.x[1]);
    expect(pb.readInt16(vec + 16 + 10)).to.equal(events.y[1]);
    expect(pb.readInt8(vec + 16 + 12)).to.equal(events.p[1]);
  });

  it('rejects events outside the sensor and non-integer timestamps', () => {
    const w = new Aedat4Writer({ geometry: { width: 10, height: 10 } });
    expect(() => w.encode(batchFromArrays({ x: [10], y: [0], p: [1], t: [5] }))).to.throw(RangeError);
    expect(() => w.encode(batchFromArrays({ x: [1], y: [0], p: [1], t: [5.5] }))).to.throw(RangeError);
  });
});

function sliceFirst(b: EventBatch, n: number): EventBatch {
  return { x: b.x.subarray(0, n), y: b.y.subarray(0, n), p: b.p.subarray(0, n), t: b.t.subarray(0, n), length: n };
}
function sliceFrom(b: EventBatch, n: number): EventBatch {
  return { x: b.x.subarray(n), y: b.y.subarray(n), p: b.p.subarray(n), t: b.t.subarray(n), length: b.length - n };
}

describe('AEDAT 4.0 ZSTD path (hand-made Raw_Block frames)', function () {
  this.timeout(60_000);
  // fzstd only decompresses and nothing installed compresses zstd, so the frames are built by
  // hand from the zstd format: frame header with content size, then Raw_Blocks (type 0).
  const geometry = { width: 128, height: 128 };
  const events = randomEvents(12_000, 128, 128, 3);

  for (const code of [3, 4]) {
    it(`compression ${code}: decodes packets wrapped in zstd frames, whole and chunked`, () => {
      const parts = [encodeAedat4Header(code, aedat4Description(geometry, { compression: 'ZSTD' }))];
      for (let s = 0; s < events.length; s += 5000) {
        parts.push(packet(0, zstdRawFrame(encodeEventPacket(events, s, Math.min(events.length, s + 5000)))));
      }
      const bytes = concat(...parts);
      const dec = new Aedat4Decoder();
      const back = decodeAll(bytes, dec);
      expect(dec.header?.compression).to.equal(code === 3 ? 'zstd' : 'zstd-high');
      expectSameEvents(back, events);
      expectChunkingInvariant(make, bytes, back);
    });
  }

  it('corrupt zstd frames are FormatErrors at the payload', () => {
    const head = encodeAedat4Header(3, aedat4Description(geometry));
    const frame = zstdRawFrame(encodeEventPacket(events, 0, 10));
    const badMagic = frame.slice();
    badMagic[0] ^= 0xff;
    let e = formatError(() => decodeAll(concat(head, packet(0, badMagic))));
    expect(e.offset).to.equal(head.length + 8);
    expect(e.reason).to.match(/zstd frame magic/);
    const truncated = frame.subarray(0, frame.length - 10);
    e = formatError(() => decodeAll(concat(head, packet(0, truncated))));
    expect(e.reason).to.match(/zstd frame truncated/);
    const hugeWindow = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00); // 2^41-byte window
    e = formatError(() => decodeAll(concat(head, packet(0, hugeWindow))));
    expect(e.reason).to.match(/window/);
  });
});

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
