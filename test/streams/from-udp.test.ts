import { expect } from 'chai';
import * as dgram from 'dgram';
import { fromUdp, UdpInput, UdpOptionError } from '../../streams/sources/from-udp';
import { waitFor } from '../helpers/time';
import { encodeDatagram } from '../helpers/udp-encoder';
import { batchFromArrays } from '../../src/events/event-batch';

function send(port: number, bytes: Uint8Array): Promise<void> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => s.send(bytes, port, '127.0.0.1', (e) => (s.close(), e ? reject(e) : resolve())));
}

/** One faery t64 datagram of events (t, x, y, on). */
function t64(events: [number, number, number, number][]): Uint8Array {
  return encodeDatagram('t64_x16_y16_on8', batchFromArrays({ t: events.map((e) => e[0]), x: events.map((e) => e[1]), y: events.map((e) => e[2]), p: events.map((e) => e[3]) }));
}

describe('fromUdp / UdpInput', function () {
  this.timeout(10000);

  it('binds 127.0.0.1 by default with a large receive buffer; datagrams become events in the bounded queue', async () => {
    const u = new UdpInput({ port: 0, format: 't64_x16_y16_on8', width: 128, height: 128 });
    try {
      const a = await u.listening;
      expect(a.address).to.equal('127.0.0.1');
      expect(u.receiveBufferBytes).to.be.at.least(1 << 20);
      expect(u.input.geometry).to.deep.equal({ width: 128, height: 128 });
      await send(a.port, t64([[10, 1, 2, 1], [11, 3, 4, 0]]));
      await waitFor(() => u.input.queue.sizeEvents === 2, 2000, 'the events');
      expect(u.input.stats).to.deep.include({ messages: 1, bytes: 26, events: 2, badMessages: 0 });
    } finally {
      u.close();
    }
  });

  it('bad datagrams: refused whole, counted, said once; events outside the sensor dropped and counted; the stream goes on', async () => {
    const notices: string[] = [];
    const u = new UdpInput({ port: 0, format: 't64_x16_y16_on8', width: 8, height: 8, onNotice: (l) => notices.push(l) });
    try {
      const { port } = await u.listening;
      await send(port, new Uint8Array(14));
      await send(port, new Uint8Array(20));
      await send(port, t64([[10, 1, 2, 1], [11, 30, 4, 0]]));
      await waitFor(() => u.input.stats.messages === 3, 2000, 'three datagrams');
      expect(u.input.stats.badMessages).to.equal(2);
      expect(u.input.stats.dropped.out_of_bounds).to.equal(1);
      expect(u.input.queue.sizeEvents).to.equal(1);
      expect(notices).to.deep.equal([
        `udp://127.0.0.1:${port}: datagram refused (counted; further ones only counted): a 14-byte datagram is not a whole number of 13-byte t64_x16_y16_on8 events`,
        `udp://127.0.0.1:${port}: events outside the 8×8 sensor dropped (counted; said once): check width/height`,
      ]);
    } finally {
      u.close();
    }
  });

  it('wrong options are refused in one line before anything binds; a port in use rejects `listening` and ends the input', async () => {
    expect(() => new UdpInput({ port: 0, format: 'spif32' as never, width: 1, height: 1 })).to.throw(UdpOptionError, /unknown UDP format 'spif32' \(one of spif, spif-ts, t64_x16_y16_on8, t32_x16_y15_on1\)/);
    expect(() => fromUdp({ port: 0, format: 'spif', width: 0, height: 1 })).to.throw(UdpOptionError, /width must be an integer in 1\.\.32768 \(UDP carries no sensor size\)/);
    const a = new UdpInput({ port: 0, format: 'spif', width: 128, height: 128 });
    const { port } = await a.listening;
    const b = new UdpInput({ port, format: 'spif', width: 128, height: 128 });
    try {
      await b.listening.then(
        () => expect.fail('bound twice'),
        (err: NodeJS.ErrnoException) => expect(err.code).to.equal('EADDRINUSE'),
      );
      expect(b.input.closed).to.equal(true);
      // The consumer sees the same error.
      await b.input.source.open(new AbortController().signal).next().then(
        () => expect.fail('no error'),
        (err: NodeJS.ErrnoException) => expect(err.code).to.equal('EADDRINUSE'),
      );
    } finally {
      a.close();
      b.close();
    }
  });

  it('fromUdp: subscribing binds, unsubscribing releases the port', async () => {
    const probe = new UdpInput({ port: 0, format: 't64_x16_y16_on8', width: 128, height: 128 });
    const { port } = await probe.listening;
    probe.close();
    const times: number[] = [];
    const sub = fromUdp({ port, format: 't64_x16_y16_on8', width: 128, height: 128 }).subscribe((b) => times.push(...b.t));
    // Subscribing binds, and a datagram sent before the bind is lost (nothing announces it): the
    // first datagram is sent again until one arrives, then the second.
    await waitFor(async () => (await send(port, t64([[1, 1, 1, 1]])), times.length > 0), 2000, 'the input to bind and receive');
    await send(port, t64([[2, 2, 2, 0]]));
    await waitFor(() => times.includes(2), 2000, 'the second datagram');
    expect(times.filter((t) => t !== 1)).to.deep.equal([2]);
    sub.unsubscribe();
    const again = new UdpInput({ port, format: 'spif', width: 1, height: 1 });
    await again.listening; // the port is free again
    again.close();
  });
});
