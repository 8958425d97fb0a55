import { expect } from 'chai';
import { batchFromArrays, concatBatches } from '../../src/events/event-batch';
import { Aedat31Writer } from 'aedat-parser-ts';
import {
  WireDecoder,
  WireError,
  WIRE_HEADER_BYTES,
  closeCodeFor,
  decodeEventMessage,
  decodeStandaloneMessage,
  encodeAedat31Message,
  encodeEventMessage,
  readWireHeader,
} from '../../src/formats/wire';
import { makeBatch, sameBatch } from '../server/helpers';
import { eventWords, rawPacket } from '../../packages/aedat-parser-ts/test/helpers/fixtures';

const G = { width: 128, height: 128 };

function expectWireError(fn: () => unknown, code: string, offset?: number): WireError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(WireError);
    const w = e as WireError;
    expect(w.code, w.message).to.equal(code);
    if (offset !== undefined) expect(w.offset, w.message).to.equal(offset);
    return w;
  }
  throw new Error(`expected WireError ${code}`);
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

describe('formats/wire', () => {
  describe('round trip', () => {
    for (const deltas of ['varint', 'u32'] as const) {
      for (const n of [0, 1, 7, 8, 9, 1000]) {
        it(`${n} events, ${deltas} deltas`, () => {
          const b = makeBatch(n, G, n + 3);
          const msg = encodeEventMessage(b, G, { deltas });
          const { geometry, batch } = decodeEventMessage(msg);
          expect(geometry).to.deep.equal(G);
          expect(sameBatch(batch, b)).to.equal(true);
        });
      }
    }

    it('large gaps and times near 2^53 survive varint deltas', () => {
      const t = [0, 127, 128, 16511, 2 ** 32 + 16511, 2 ** 52, Number.MAX_SAFE_INTEGER];
      const b = batchFromArrays({ x: t.map(() => 1), y: t.map(() => 2), p: t.map((_, i) => i & 1), t });
      const { batch } = decodeEventMessage(encodeEventMessage(b, G));
      expect(Array.from(batch.t)).to.deep.equal(t);
    });

    it('is compact: about 5.1 bytes per event for small gaps (varint), 8.1 with u32 deltas', () => {
      const b = makeBatch(10000, G, 9, 0, 100);
      const v = encodeEventMessage(b, G).length;
      const u = encodeEventMessage(b, G, { deltas: 'u32' }).length;
      expect(v / b.length).to.be.lessThan(5.3);
      expect(u).to.equal(WIRE_HEADER_BYTES + 4 * 10000 + 1250 + 4 * 9999);
    });

    it('decodes from an unaligned Buffer slice', () => {
      const b = makeBatch(33, G, 5);
      const msg = encodeEventMessage(b, G);
      const padded = Buffer.alloc(msg.length + 1);
      padded.set(msg, 1);
      const { batch } = decodeEventMessage(padded.subarray(1));
      expect(sameBatch(batch, b)).to.equal(true);
    });
  });

  describe('validation errors', () => {
    const good = (): Uint8Array => encodeEventMessage(makeBatch(10, G, 2), G);

    it('empty message', () => expectWireError(() => decodeEventMessage(new Uint8Array(0)), 'truncated', 0));
    it('unknown version', () => {
      const m = good();
      m[0] = 2;
      expectWireError(() => decodeEventMessage(m), 'version', 0);
    });
    it('shorter than the header', () => expectWireError(() => decodeEventMessage(good().subarray(0, 10)), 'truncated', 10));
    it('unknown kind', () => {
      const m = good();
      m[1] = 0x03;
      expectWireError(() => decodeEventMessage(m), 'kind', 1);
    });
    it('unknown flag bits', () => {
      const m = good();
      m[1] = 0x21;
      expectWireError(() => decodeEventMessage(m), 'kind', 1);
    });
    it('zero width / height', () => {
      const m = good();
      dv(m).setUint16(2, 0, true);
      expectWireError(() => decodeEventMessage(m), 'geometry', 2);
      const m2 = good();
      dv(m2).setUint16(4, 0, true);
      expectWireError(() => decodeEventMessage(m2), 'geometry', 4);
    });
    it('count over the limit → close code 1009', () => {
      const m = good();
      const e = expectWireError(() => decodeEventMessage(m, { maxEvents: 9 }), 'count', 6);
      expect(closeCodeFor(e)).to.equal(1009);
      const m2 = good();
      dv(m2).setUint32(6, 0xffffffff, true);
      expectWireError(() => decodeEventMessage(m2), 'count', 6);
    });
    it('count larger than the bytes present', () => {
      const m = good();
      dv(m).setUint32(6, 11, true);
      const e = expectWireError(() => decodeEventMessage(m), 'truncated');
      expect(closeCodeFor(e)).to.equal(1007);
    });
    it('payload cut short', () => expectWireError(() => decodeEventMessage(good().subarray(0, 40)), 'truncated', 40));
    it('trailing bytes', () => {
      const m = good();
      const longer = new Uint8Array(m.length + 1);
      longer.set(m);
      expectWireError(() => decodeEventMessage(longer), 'trailing', m.length);
    });
    it('bad t0: NaN, negative, fractional, over 2^53, non-zero for an empty batch', () => {
      for (const t0 of [NaN, -1, 1.5, 2 ** 53 + 2]) {
        const m = good();
        dv(m).setFloat64(10, t0, true);
        expectWireError(() => decodeEventMessage(m), 'time', 10);
      }
      const e = encodeEventMessage(makeBatch(0, G), G);
      dv(e).setFloat64(10, 5, true);
      expectWireError(() => decodeEventMessage(e), 'time', 10);
    });
    it('x ≥ width and y ≥ height, with the offset of the coordinate', () => {
      const m = good();
      dv(m).setUint16(WIRE_HEADER_BYTES + 2 * 3, 128, true);
      expectWireError(() => decodeEventMessage(m), 'coordinate', WIRE_HEADER_BYTES + 6);
      const m2 = good();
      dv(m2).setUint16(WIRE_HEADER_BYTES + 20 + 2 * 4, 500, true);
      expectWireError(() => decodeEventMessage(m2), 'coordinate', WIRE_HEADER_BYTES + 28);
    });
    it('non-zero polarity padding bits', () => {
      const m = good(); // 10 events: 2 polarity bytes, 6 unused bits
      const pAt = WIRE_HEADER_BYTES + 40;
      m[pAt + 1] |= 0x80;
      expectWireError(() => decodeEventMessage(m), 'padding', pAt + 1);
    });
    it('varints: truncated, non-minimal, longer than 8 bytes', () => {
      const base = batchFromArrays({ x: [1, 2], y: [1, 2], p: [1, 0], t: [10, 10 + 300] });
      const m = encodeEventMessage(base, G); // last delta = 300 → 2 bytes (0xac 0x02)
      const cut = m.slice(0, m.length - 1);
      expectWireError(() => decodeEventMessage(cut), 'varint', m.length - 2);
      const nonMin = new Uint8Array(m.length + 1);
      nonMin.set(m.subarray(0, m.length - 1));
      nonMin[m.length - 1] = 0x82; // 2 | 0x80 then a 0 byte
      nonMin[m.length] = 0x00;
      expectWireError(() => decodeEventMessage(nonMin), 'varint', m.length - 2);
      const head = m.subarray(0, m.length - 2);
      const long = new Uint8Array(head.length + 9);
      long.set(head);
      long.fill(0x81, head.length, head.length + 8);
      long[head.length + 8] = 0x01;
      expectWireError(() => decodeEventMessage(long), 'varint', head.length);
    });
    it('time past 2^53 − 1', () => {
      const b = batchFromArrays({ x: [1, 2], y: [1, 2], p: [1, 0], t: [Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER] });
      const m = encodeEventMessage(b, G);
      m[m.length - 1] = 2;
      expectWireError(() => decodeEventMessage(m), 'time');
      const u = encodeEventMessage(b, G, { deltas: 'u32' });
      dv(u).setUint32(u.length - 4, 5, true);
      expectWireError(() => decodeEventMessage(u), 'time');
    });
    it('u32 deltas: trailing bytes', () => {
      const u = encodeEventMessage(makeBatch(5, G), G, { deltas: 'u32' });
      const longer = new Uint8Array(u.length + 2);
      longer.set(u);
      expectWireError(() => decodeEventMessage(longer), 'trailing');
    });
    it('the encoder refuses what it cannot represent (backwards time, fractions, outside geometry)', () => {
      const mk = (t: number[], x = [1, 1]) => batchFromArrays({ x, y: [1, 1], p: [0, 1], t });
      expectWireError(() => encodeEventMessage(mk([10, 9]), G), 'encode');
      expectWireError(() => encodeEventMessage(mk([10, 10.5]), G), 'encode');
      expectWireError(() => encodeEventMessage(mk([10, 11], [1, 128]), G), 'encode');
      expectWireError(() => encodeEventMessage(mk([0, 2 ** 32 + 5]), G, { deltas: 'u32' }), 'encode');
    });
  });

  describe('WireDecoder (per connection)', () => {
    it('keeps the first geometry and refuses a change', () => {
      const d = new WireDecoder();
      d.decode(encodeEventMessage(makeBatch(3, G), G));
      expectWireError(() => d.decode(encodeEventMessage(makeBatch(3, G), { width: 64, height: 128 })), 'geometry', 2);
    });
    it('refuses time going backwards between messages (deltas never negative)', () => {
      const d = new WireDecoder();
      d.decode(encodeEventMessage(makeBatch(3, G, 1, 5000), G));
      expectWireError(() => d.decode(encodeEventMessage(makeBatch(3, G, 1, 10), G)), 'time', 10);
    });
    it('decodes raw AEDAT 3.1 packets split at any byte across messages', () => {
      const b = makeBatch(3000, G, 4, 2 ** 31 - 20000, 30); // crosses a 2^31 overflow boundary
      const packets = new Aedat31Writer({ geometry: G, eventsPerPacket: 700 }).encode(b);
      for (const step of [1, 29, 1000, packets.length]) {
        const d = new WireDecoder();
        const out = [];
        for (let i = 0; i < packets.length; i += step) out.push(d.decode(encodeAedat31Message(packets.subarray(i, i + step), G)).batch);
        expect(sameBatch(concatBatches(out), b), `step ${step}`).to.equal(true);
        expect(d.pendingAedatBytes).to.equal(false);
      }
      const d = new WireDecoder();
      d.decode(encodeAedat31Message(packets.subarray(0, 50), G));
      expect(d.pendingAedatBytes).to.equal(true);
    });
    it('AEDAT 3.1 payload errors: corrupt header, coordinates outside, length mismatch', () => {
      const b = makeBatch(10, G);
      const packets = new Aedat31Writer({ geometry: G }).encode(b);
      const bad = packets.slice();
      dv(bad).setInt32(4, 9, true); // polarity eventSize must be 8
      expectWireError(() => new WireDecoder().decode(encodeAedat31Message(bad, G)), 'aedat3', WIRE_HEADER_BYTES);
      expectWireError(() => new WireDecoder().decode(encodeAedat31Message(packets, { width: 16, height: 16 })), 'aedat3');
      const m = encodeAedat31Message(packets, G);
      expectWireError(() => new WireDecoder().decode(m.subarray(0, m.length - 1)), 'truncated');
      dv(m).setUint32(6, packets.length - 1, true);
      expectWireError(() => new WireDecoder().decode(m), 'trailing');
      expectWireError(() => decodeEventMessage(encodeAedat31Message(packets, G)), 'kind', 1);
      const t0 = encodeAedat31Message(packets, G);
      dv(t0).setFloat64(10, 3, true);
      expectWireError(() => readWireHeader(t0), 'time', 10);
    });
  });

  it('a wire kind-2 message decodes alone only with whole packets and no timestamp reset before it (WireDecoder.lastStandalone)', () => {
    const before = batchFromArrays({ x: [1, 2], y: [1, 2], p: [1, 0], t: [1000, 2000] });
    const after = batchFromArrays({ x: [3, 4], y: [3, 4], p: [1, 1], t: [5, 50] });
    const reset = rawPacket({ type: 0, size: 8, capacity: 1 }, eventWords([[(1 << 1) | 1, 0x7fffffff]]));
    const message = (payload: Uint8Array): Uint8Array => encodeAedat31Message(payload, G);
    const wire = new WireDecoder({ geometry: G });
    const whole = message(new Aedat31Writer({ geometry: G }).encode(before));
    expect(Array.from(wire.decode(whole).batch.t)).to.deep.equal([1000, 2000]);
    expect(wire.lastStandalone, 'whole packets').to.equal(true);
    expect(Array.from(decodeStandaloneMessage(whole).batch.t)).to.deep.equal([1000, 2000]);
    wire.decode(message(reset));
    expect(wire.lastStandalone, 'the reset itself').to.equal(false);
    const shifted = message(new Aedat31Writer({ geometry: G }).encode(after));
    expect(Array.from(wire.decode(shifted).batch.t)).to.deep.equal([2005, 2050]);
    expect(wire.lastStandalone, 'after a reset: the shift is the connection\u2019s').to.equal(false);
    expect(Array.from(decodeStandaloneMessage(shifted).batch.t), 'alone it would lose the shift').to.deep.equal([5, 50]);
    const split = new WireDecoder({ geometry: G });
    const payload = new Aedat31Writer({ geometry: G }).encode(before);
    const halves = [payload.subarray(0, 30), payload.subarray(30)].map(message);
    expect(halves.map((m) => (split.decode(m), split.lastStandalone))).to.deep.equal([false, false]);
    expect(() => decodeStandaloneMessage(halves[0])).to.throw(WireError, /ends inside a packet/);
  });
});

describe('formats/wire throughput (figure, not a gate)', () => {
  it('encodes and decodes 500k events', () => {
    const b = makeBatch(500000, G, 3, 0, 50);
    const t0 = performance.now();
    const msg = encodeEventMessage(b, G);
    const t1 = performance.now();
    const { batch } = decodeEventMessage(msg);
    const t2 = performance.now();
    expect(batch.length).to.equal(b.length);
    const rate = (ms: number) => ((b.length / ms) * 1000 / 1e6).toFixed(1);
    console.log(`      wire: ${(msg.length / b.length).toFixed(2)} B/event; encode ${rate(t1 - t0)} M events/s, decode ${rate(t2 - t1)} M events/s`);
  });
});
