import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { Aedat31Writer, Aedat3Decoder, concatBatches, type EventBatch, FormatError, sliceByTime } from 'aedat-parser-ts';
import { indexAedat3File, readAedat3Window } from 'aedat-parser-ts/node';
import { concatBytes, seededEvents as makeEvents } from './helpers/fixtures';
import { decodeInChunks, expectSameEvents } from './helpers/decode';
import { makeTempDir } from './helpers/recordings';

const DVS128 = { width: 128, height: 128 };
const TWO_POW_31 = 2 ** 31;

function packet(type: number, size: number, capacity: number, body: Uint8Array, valid = capacity, overflow = 0): Uint8Array {
  const out = new Uint8Array(28 + body.length);
  const dv = new DataView(out.buffer);
  dv.setInt16(0, type, true);
  dv.setInt16(2, 1, true);
  dv.setInt32(4, size, true);
  dv.setInt32(8, 4, true);
  dv.setInt32(12, overflow, true);
  dv.setInt32(16, capacity, true);
  dv.setInt32(20, capacity, true);
  dv.setInt32(24, valid, true);
  out.set(body, 28);
  return out;
}

async function collect(it: AsyncIterable<EventBatch>): Promise<EventBatch> {
  const parts: EventBatch[] = [];
  for await (const b of it) {
    expect(b.length).to.be.greaterThan(0);
    parts.push(b);
  }
  return concatBatches(parts);
}

describe('AEDAT 3.1 packet index and windowed reads', () => {
  let dir: string;
  let file: string;
  let events: EventBatch;
  let bytes: Uint8Array;
  let headerBytes: number;

  before(() => {
    dir = makeTempDir('spikestream-aedat3-index-');
    events = makeEvents(60_000, { t0: TWO_POW_31 - 60_000, meanGap: 4, seed: 11 });
    const w = new Aedat31Writer({ geometry: DVS128, eventsPerPacket: 1000 });
    const head = w.header();
    headerBytes = head.length;
    const imu = packet(3, 60, 2, new Uint8Array(120).fill(9));
    bytes = concatBytes([head, w.encode(sliceByTime(events, 0, TWO_POW_31 - 30_000)), imu, w.encode(sliceByTime(events, TWO_POW_31 - 30_000, Infinity))]);
    file = path.join(dir, 'rec.aedat');
    fs.writeFileSync(file, bytes);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('indexes packets from their headers and first/last events, reading a small part of the file', async () => {
    let read = 0;
    const idx = await indexAedat3File(file, { onBytesRead: (n) => (read += n) });
    expect(idx.headerBytes).to.equal(headerBytes);
    expect(idx.geometry).to.deep.equal(DVS128);
    const pol = idx.packets.filter((p) => p.eventType === 1);
    expect(pol.reduce((n, p) => n + p.eventCount, 0)).to.equal(events.length);
    expect(idx.packets.filter((p) => p.eventType === 3)).to.have.length(1);
    let at = headerBytes;
    let ev = 0;
    for (const p of idx.packets) {
      expect(p.offset).to.equal(at);
      at += p.byteLength;
      if (p.eventType !== 1) {
        expect(p.firstT).to.be.NaN;
        continue;
      }
      expect(p.firstT).to.equal(events.t[ev]);
      expect(p.lastT).to.equal(events.t[ev + p.eventCount - 1]);
      ev += p.eventCount;
    }
    expect(at).to.equal(bytes.length);
    // Header reads (4 KiB) + 36 + 8 bytes per polarity packet.
    expect(read).to.be.below(4096 + idx.packets.length * 44 + 1);
    expect(read).to.be.below(bytes.length / 10);
  });

  it('reads exactly the events of a window, decoding only overlapping packets', async () => {
    const idx = await indexAedat3File(file);
    const t0 = events.t[0];
    const tLast = events.t[events.length - 1];
    const windows: [number, number][] = [
      [t0, tLast + 1],
      [0, Number.MAX_SAFE_INTEGER],
      [t0 + 1000, t0 + 5000],
      [TWO_POW_31 - 1000, TWO_POW_31 + 1000], // across the overflow boundary
      [events.t[12_345], events.t[12_345] + 1],
      [tLast + 1, tLast + 100],
      [5, 5],
    ];
    for (const [a, b] of windows) {
      let read = 0;
      const got = await collect(readAedat3Window(file, idx, a, b, { onBytesRead: (n) => (read += n) }));
      expectSameEvents(got, sliceByTime(events, a, b), `window [${a}, ${b})`);
      for (let i = 0; i < got.length; i++) if (got.t[i] < a || got.t[i] >= b) expect.fail(`event ${i} outside the window`);
      if (b - a < 10_000) expect(read, `bytes read for [${a}, ${b})`).to.be.below(3 * (28 + 8000));
    }
    // The windows' decode agrees with the streaming decoder on the whole file.
    expectSameEvents(decodeInChunks(() => new Aedat3Decoder(), bytes, 65536), events);
  });

  it('closes its file handle when the consumer stops early', async () => {
    const idx = await indexAedat3File(file);
    const fsp = fs.promises as { open: typeof fs.promises.open };
    const orig = fsp.open;
    let opened = 0;
    let closed = 0;
    fsp.open = (async (...args: Parameters<typeof fs.promises.open>) => {
      const fh = await orig(...args);
      opened++;
      const close = fh.close.bind(fh);
      fh.close = async () => {
        closed++;
        return close();
      };
      return fh;
    }) as typeof fs.promises.open;
    try {
      let batches = 0;
      for await (const b of readAedat3Window(file, idx, 0, Number.MAX_SAFE_INTEGER)) {
        expect(b.length).to.be.greaterThan(0);
        if (++batches === 1) break;
      }
      const it = readAedat3Window(file, idx, 0, Number.MAX_SAFE_INTEGER)[Symbol.asyncIterator]();
      await it.next();
      await it.return?.();
    } finally {
      fsp.open = orig;
    }
    expect(opened).to.equal(2);
    expect(closed).to.equal(2);
  });

  it('bounds packets with invalid first or last slots by their valid events', async () => {
    const d = (x: number, y: number, valid: number) => ((x << 17) | (y << 2) | valid) >>> 0;
    const body = new Uint8Array(4 * 8);
    const dv = new DataView(body.buffer);
    [[d(1, 1, 0), 5], [d(2, 2, 1), 10], [d(3, 3, 1), 20], [d(4, 4, 0), 0]].forEach(([w, ts], i) => {
      dv.setUint32(i * 8, w, true);
      dv.setInt32(i * 8 + 4, ts, true);
    });
    const f = path.join(dir, 'invalid.aedat');
    fs.writeFileSync(f, concatBytes([new Aedat31Writer({ geometry: DVS128 }).header(), packet(1, 8, 4, body, 2)]));
    const idx = await indexAedat3File(f);
    expect(idx.packets).to.have.length(1);
    expect(idx.packets[0]).to.include({ firstT: 10, lastT: 20, eventCount: 2 });
    const got = await collect(readAedat3Window(f, idx, 0, 100));
    expect(Array.from(got.x)).to.deep.equal([2, 3]);
    const empty = await collect(readAedat3Window(f, idx, 11, 20));
    expect(empty.length).to.equal(0);
  });

  it('reports truncated or corrupt files as FormatErrors naming the file', async () => {
    const trunc = path.join(dir, 'trunc.aedat');
    fs.writeFileSync(trunc, bytes.subarray(0, bytes.length - 3));
    try {
      await indexAedat3File(trunc);
      expect.fail('expected a FormatError');
    } catch (err) {
      expect(err).to.be.instanceOf(FormatError);
      expect((err as FormatError).file).to.equal(trunc);
      expect((err as FormatError).reason).to.match(/inside the body/);
    }
    const corrupt = path.join(dir, 'corrupt.aedat');
    const c = bytes.slice();
    new DataView(c.buffer).setInt32(headerBytes + 4, 0, true); // first packet's eventSize = 0
    fs.writeFileSync(corrupt, c);
    try {
      await indexAedat3File(corrupt);
      expect.fail('expected a FormatError');
    } catch (err) {
      expect(err).to.be.instanceOf(FormatError);
      expect((err as FormatError).offset).to.equal(headerBytes);
      expect((err as FormatError).file).to.equal(corrupt);
    }
    const noHeader = path.join(dir, 'noheader.aedat');
    fs.writeFileSync(noHeader, bytes.subarray(0, 20));
    try {
      await indexAedat3File(noHeader);
      expect.fail('expected a FormatError');
    } catch (err) {
      expect(err).to.be.instanceOf(FormatError);
      expect((err as FormatError).reason).to.match(/inside the header/);
    }
  });
});
