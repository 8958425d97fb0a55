import { expect } from 'chai';
import { batchFromArrays } from '../../src/events/event-batch';
import { UdpDatagramDecoder, type UdpFormat } from '../../streams/sources/udp-formats';
import { encodeDatagram } from '../helpers/udp-encoder';

const G = { width: 128, height: 128 };
type Ev = [t: number, x: number, y: number, p: number];

/** A datagram of `events` as its sender lays it out. */
function datagram(format: UdpFormat, events: readonly Ev[]): Uint8Array {
  return encodeDatagram(format, batchFromArrays({ t: events.map((e) => e[0]), x: events.map((e) => e[1]), y: events.map((e) => e[2]), p: events.map((e) => e[3]) }));
}

function events(d: ReturnType<UdpDatagramDecoder['decode']>): Ev[] {
  const out: Ev[] = [];
  for (let i = 0; i < d.batch.length; i++) out.push([d.batch.t[i], d.batch.x[i], d.batch.y[i], d.batch.p[i]]);
  return out;
}

describe('streams/sources/udp-formats: the datagrams AEStream and faery send', () => {
  const sample: Ev[] = [
    [1000, 0, 0, 1],
    [1001, 127, 5, 0],
    [1001, 64, 127, 1],
  ];

  for (const format of ['spif-ts', 't64_x16_y16_on8', 't32_x16_y15_on1'] as const) {
    it(`${format}: events with their own time`, () => {
      const dec = new UdpDatagramDecoder(format, G, () => 0);
      const r = dec.decode(datagram(format, sample));
      expect(r.refused).to.equal(undefined);
      expect(events(r)).to.deep.equal(sample);
    });
  }

  it('spif: words without time are stamped with the arrival clock, one stamp per datagram', () => {
    let now = 5_000_000;
    const dec = new UdpDatagramDecoder('spif', G, () => now);
    expect(events(dec.decode(datagram('spif', sample)))).to.deep.equal(sample.map(([, x, y, p]) => [5_000_000, x, y, p]));
    now += 250;
    expect(dec.decode(datagram('spif', sample)).batch.t[0]).to.equal(5_000_250);
  });

  it('t64 carries Unix-epoch µs exactly (beyond 2^32)', () => {
    const t = 1_718_320_550_772_020;
    const r = new UdpDatagramDecoder('t64_x16_y16_on8', G, () => 0).decode(datagram('t64_x16_y16_on8', [[t, 1, 2, 1]]));
    expect(r.batch.t[0]).to.equal(t);
  });

  for (const format of ['spif-ts', 't32_x16_y15_on1'] as const) {
    it(`${format}: 32-bit time is unwrapped (a step back of more than 2^31 is a wrap)`, () => {
      const dec = new UdpDatagramDecoder(format, G, () => 0);
      dec.decode(datagram(format, [[4294967000, 1, 1, 1]]));
      const r = dec.decode(datagram(format, [[4294967296 + 100, 2, 2, 0]]));
      expect(r.batch.t[0]).to.equal(4294967396);
    });
  }

  it('a datagram that starts back in time is dropped whole and counted (as faery\'s receiver does)', () => {
    const dec = new UdpDatagramDecoder('t64_x16_y16_on8', G, () => 0);
    dec.decode(datagram('t64_x16_y16_on8', [[5000, 1, 1, 1]]));
    const r = dec.decode(datagram('t64_x16_y16_on8', sample));
    expect(r.batch.length).to.equal(0);
    expect(r.timeBackwards).to.equal(3);
  });

  it("AEStream's last timestamped datagram: stale words after the real ones are cut at the step back and counted", () => {
    const dec = new UdpDatagramDecoder('spif-ts', G, () => 0);
    const real: Ev[] = [
      [2000, 1, 1, 1],
      [2001, 2, 2, 0],
    ];
    const stale: Ev[] = [[1002, 3, 3, 1]];
    const r = dec.decode(datagram('spif-ts', [...real, ...stale]));
    expect(events(r)).to.deep.equal(real);
    expect(r.timeBackwards).to.equal(1);
  });

  it('events outside the sensor are dropped and counted; the rest kept in order', () => {
    const r = new UdpDatagramDecoder('t32_x16_y15_on1', { width: 64, height: 64 }, () => 0).decode(datagram('t32_x16_y15_on1', sample));
    expect(events(r)).to.deep.equal([sample[0]]);
    expect(r.outOfBounds).to.equal(2);
  });

  it('a datagram of the wrong size, or of the other SPIF, is refused whole with the reason', () => {
    expect(new UdpDatagramDecoder('t64_x16_y16_on8', G, () => 0).decode(new Uint8Array(14)).refused).to.match(/14-byte datagram is not a whole number of 13-byte t64_x16_y16_on8 events/);
    expect(new UdpDatagramDecoder('spif', G, () => 0).decode(new Uint8Array(0)).refused).to.match(/0-byte datagram/);
    expect(new UdpDatagramDecoder('spif', G, () => 0).decode(datagram('spif-ts', sample)).refused).to.match(/bit 31 clear .*use format=spif-ts/);
    expect(new UdpDatagramDecoder('spif-ts', G, () => 0).decode(datagram('spif', [...sample, sample[0]])).refused).to.match(/bit 31 set .*use format=spif/);
  });
});
