import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { firstValueFrom, toArray } from 'rxjs';
import { concatBatches, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import { DvNetworkInput, DvUrlError, fromDvNetwork, parseDvUrl } from '../../streams/sources/from-dv-network';
import { DvNetworkWriter, type DvCompression } from '../helpers/dv-network-writer';
import { randomEvents } from '../helpers/events';
import { makeTempDir } from '../helpers/paths';
import { waitFor } from '../helpers/time';

/** Unix-epoch µs, as DV stamps events (beyond 2^32: the int64 field matters). */
const T0 = 1_718_320_550_772_020;

function drain(input: DvNetworkInput): { batches: EventBatch[]; done: Promise<void> } {
  const batches: EventBatch[] = [];
  const pull = input.input.source.open(new AbortController().signal);
  const done = (async () => {
    for (;;) {
      const r = await pull.next();
      if (r.done) return;
      batches.push(r.value);
    }
  })();
  return { batches, done };
}

function count(batches: readonly EventBatch[]): number {
  return batches.reduce((s, b) => s + b.length, 0);
}

function expectSameEvents(got: EventBatch, want: EventBatch): void {
  expect(got.length).to.equal(want.length);
  expect(Array.from(got.t)).to.deep.equal(Array.from(want.t));
  expect(Array.from(got.x)).to.deep.equal(Array.from(want.x));
  expect(Array.from(got.y)).to.deep.equal(Array.from(want.y));
  expect(Array.from(got.p)).to.deep.equal(Array.from(want.p));
}

describe('fromDvNetwork (DV network stream client) against our FORMATS.md writer', function () {
  this.timeout(20000);
  let dir: string;
  const open: { close(): unknown }[] = [];
  before(() => (dir = makeTempDir('spikestream-dv-')));
  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const events = randomEvents(20_000, 128, 128, 7, 5, T0);
  const cases: [DvCompression, 'tcp' | 'unix'][] = [];
  for (const c of ['NONE', 'LZ4', 'LZ4_HIGH', 'ZSTD', 'ZSTD_HIGH'] as const) for (const t of ['tcp', 'unix'] as const) cases.push([c, t]);

  for (const [compression, transport] of cases) {
    it(`${compression} over ${transport === 'tcp' ? 'TCP' : 'a UNIX socket'}: every event, its geometry from the IOHeader XML, and not a byte sent back`, async () => {
      const listen = transport === 'tcp' ? { port: 0 } : { path: path.join(dir, `${compression}.sock`) };
      const writer = new DvNetworkWriter({ width: 128, height: 96, compression, listen });
      open.push(writer);
      const url = await writer.listen();
      const input = new DvNetworkInput(parseDvUrl(url));
      open.push(input);
      const { batches } = drain(input);
      await waitFor(() => writer.clientCount === 1, 5000, 'the client to connect');
      const inBounds = { ...events, y: events.y.map((y) => y % 96) };
      writer.send(inBounds, 1000);
      await waitFor(() => count(batches) === events.length, 5000, 'every event');
      expectSameEvents(concatBatches(batches), inBounds);
      expect(input.input.geometry).to.deep.equal({ width: 128, height: 96 });
      expect(writer.talkers).to.equal(0);
      expect(input.input.stats.dropped).to.deep.include({ bad_input: 0, time_backwards: 0, queue_overflow: 0 });
    });
  }

  it('a late join starts at the next packet', async () => {
    const writer = new DvNetworkWriter({ width: 128, height: 128, compression: 'LZ4', listen: { port: 0 } });
    open.push(writer);
    const url = await writer.listen();
    const early = new DvNetworkInput(parseDvUrl(url));
    open.push(early);
    await waitFor(() => writer.clientCount === 1, 5000, 'the first client');
    writer.send(sliceByIndex(events, 0, 5000), 1000);
    const late = new DvNetworkInput(parseDvUrl(url));
    open.push(late);
    const { batches } = drain(late);
    await waitFor(() => writer.clientCount === 2, 5000, 'the late client');
    writer.send(sliceByIndex(events, 5000, 8000), 1000);
    await waitFor(() => count(batches) === 3000, 5000, 'the packets sent after the join');
    expect(concatBatches(batches).t[0]).to.equal(events.t[5000]);
  });

  it('a DV server that goes away: one line, reconnects with backoff, the same stream goes on', async () => {
    const sock = path.join(dir, 'restart.sock');
    let writer = new DvNetworkWriter({ width: 128, height: 128, compression: 'NONE', listen: { path: sock } });
    const url = await writer.listen();
    const notices: string[] = [];
    const input = new DvNetworkInput(parseDvUrl(url), { backoffMs: 20, maxBackoffMs: 100, onNotice: (l) => notices.push(l) });
    open.push(input);
    const { batches } = drain(input);
    await waitFor(() => writer.clientCount === 1, 5000, 'the client');
    writer.send(sliceByIndex(events, 0, 1000));
    await waitFor(() => count(batches) === 1000, 5000, 'the first events');
    await writer.close();
    await waitFor(() => notices.some((l) => /the DV server closed the connection; reconnecting in 0\.02 s \(attempt 1\)$/.test(l)), 5000, 'the notice');
    writer = new DvNetworkWriter({ width: 128, height: 128, compression: 'ZSTD', listen: { path: sock } });
    open.push(writer);
    await writer.listen();
    await waitFor(() => writer.clientCount === 1, 5000, 'the reconnection');
    writer.send(sliceByIndex(events, 1000, 3000));
    await waitFor(() => count(batches) === 3000, 5000, 'the events after the reconnection');
    expect(input.input.stats.reconnects).to.equal(1);
    expect(notices.every((l) => !l.includes('\n') && l.startsWith(`dv+unix://${sock}: `))).to.equal(true);
  });

  it('what is not a DV stream (not an IOHeader; events outside the announced sensor): one line, counted, reconnects', async () => {
    const writer = new DvNetworkWriter({ width: 64, height: 64, compression: 'NONE', listen: { port: 0 } });
    open.push(writer);
    const url = await writer.listen();
    const notices: string[] = [];
    const input = new DvNetworkInput(parseDvUrl(url), { backoffMs: 20, maxReconnects: 1, onNotice: (l) => notices.push(l) });
    const { done } = drain(input);
    await waitFor(() => writer.clientCount === 1, 5000, 'the client');
    writer.send(sliceByIndex(events, 0, 100)); // x, y up to 127 on a 64×64 sensor
    await waitFor(() => input.input.stats.badMessages === 1, 5000, 'the refusal');
    expect(notices[0]).to.match(/: not a DV stream: packet of stream 0: event 0 at \(\d+, \d+\) outside the 64×64 sensor; reconnecting in/);
    // The reconnection gets the header; then bytes that are no packet header of a known size.
    await waitFor(() => writer.clientCount === 1, 5000, 'the reconnection');
    writer.sendRaw(new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f]));
    await done;
    expect(input.input.stats.badMessages).to.equal(2);
    expect(notices.at(-1)).to.match(/not a DV stream: packet size 2147483647 exceeds .*; no reconnection left \(1\): the stream ends$/);
  });

  it('an IOHeader that is not one ends in one line per attempt', async () => {
    const sock = path.join(dir, 'junk.sock');
    const junk = (await import('net')).createServer((s) => s.end(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((r) => junk.listen(sock, r));
    open.push({ close: () => new Promise((r) => junk.close(r)) });
    const notices: string[] = [];
    const input = new DvNetworkInput(parseDvUrl(`dv+unix://${sock}`), { backoffMs: 10, maxReconnects: 0, onNotice: (l) => notices.push(l) });
    await drain(input).done;
    expect(notices).to.have.length(1);
    expect(notices[0]).to.match(/IOHeader|AEDAT|magic|length/);
    expect(input.input.stats.badMessages).to.equal(1);
  });

  it('fromDvNetwork: subscribing connects, unsubscribing disconnects; bad URLs are refused in one line', async () => {
    const writer = new DvNetworkWriter({ width: 128, height: 128, compression: 'LZ4', listen: { port: 0 } });
    open.push(writer);
    const url = await writer.listen();
    const got: number[] = [];
    const sub = fromDvNetwork(url).subscribe((b) => got.push(b.length));
    await waitFor(() => writer.clientCount === 1, 5000, 'the subscription to connect');
    writer.send(sliceByIndex(events, 0, 10));
    await waitFor(() => got.length === 1, 5000, 'the events');
    sub.unsubscribe();
    await waitFor(() => writer.clientCount === 0, 5000, 'the disconnection');
    // With reconnections bounded, a server that goes away completes the Observable.
    const ended = firstValueFrom(fromDvNetwork(url, { maxReconnects: 0 }).pipe(toArray()));
    await waitFor(() => writer.clientCount === 1, 5000, 'the second subscription');
    writer.send(sliceByIndex(events, 0, 20));
    await writer.close();
    expect(concatBatches(await ended).length).to.equal(20);
    expect(got).to.deep.equal([10]);
    expect(() => parseDvUrl('dv+tcp://127.0.0.1')).to.throw(DvUrlError, /needs a host and a port/);
    expect(() => parseDvUrl('dv+unix://relative/path')).to.throw(DvUrlError, /three slashes/);
    expect(() => parseDvUrl('http://x:1')).to.throw(DvUrlError, /not a DV network URL/);
  });
});
