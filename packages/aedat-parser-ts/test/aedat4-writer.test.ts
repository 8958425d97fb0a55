/** AEDAT 4.0 writing: round trips, LZ4 frames, the flatbuffers layout, and the ZSTD path. */
import { expect } from 'chai';
import { ByteBuffer } from 'flatbuffers';
import * as lz4js from 'lz4js';
import {
  Aedat4Decoder,
  aedat4Description,
  Aedat4Writer,
  batchFromArrays,
  sliceByIndex,
  encodeAedat4,
  encodeAedat4Header,
  encodeEventPacket,
  lz4CompressFrame,
  Lz4FrameDecoder,
  xxh32,
} from 'aedat-parser-ts';
import { expectChunkingInvariant, expectSameEvents } from './helpers/decode';
import { make, decodeAll, concat, packet, formatError, randomEvents, zstdRawFrame } from './helpers/aedat4';

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
    const parts = [w.header(), w.encode(sliceByIndex(events, 0, 12_345)), w.encode(sliceByIndex(events, 12_345)), w.finish()];
    expect(parts[3].length).to.equal(0);
    expect(w.encode(sliceByIndex(events, 0, 0)).length).to.equal(0);
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
