import { expect } from 'chai';
import { firstValueFrom, lastValueFrom, reduce, take, toArray } from 'rxjs';
import { countOn } from '../../src/events/event-batch';
import { fromEventFile } from '../../streams/sources/from-event-file';
import { Pacer, speed, REALTIME, ASAP } from '../../streams/sources/pacing';
import { eventFileGeometry, readEventFile, summarizeEventFile } from 'aedat-parser-ts/node';
import { FormatError } from 'aedat-parser-ts';
import { sharedRecording } from '../helpers/paths';
import * as fs from 'fs';
import * as path from 'path';
import { makeTempDir } from '../helpers/paths';

describe('fromEventFile', () => {
  const alex = sharedRecording('dvs128_jaer_alex_walking_for_10secs.aedat');

  it('emits every event of a file, in order', async () => {
    const totals = await lastValueFrom(
      fromEventFile(alex).pipe(reduce((acc, b) => ({ n: acc.n + b.length, on: acc.on + countOn(b), last: b.t[b.length - 1] }), { n: 0, on: 0, last: 0 })),
    );
    expect(totals).to.deep.equal({ n: 125028, on: 69052, last: 270891631 });
  });

  it('is pulled: a consumer that stops after the first batch causes no further reads', async () => {
    let reads = 0;
    const first = await firstValueFrom(fromEventFile(alex, { chunkBytes: 4096, onBytesRead: () => reads++ }));
    expect(first.length).to.be.greaterThan(0);
    const readsAtStop = reads;
    await new Promise((r) => setTimeout(r, 50)); // a fixed wait is the point: no read may happen in it
    expect(reads).to.equal(readsAtStop);
    // The 1 MB file in 4 KiB chunks would take ~245 reads; the first batch needs the header plus one chunk or two.
    expect(readsAtStop).to.be.below(5);
  });

  it('take(n) stops reading, and the file is closed (it can be removed at once)', async () => {
    const dir = makeTempDir();
    const copy = path.join(dir, 'copy.aedat');
    fs.copyFileSync(alex, copy);
    let bytes = 0;
    const got = await lastValueFrom(fromEventFile(copy, { chunkBytes: 8192, onBytesRead: (n) => (bytes += n) }).pipe(take(3), toArray()));
    expect(got).to.have.length(3);
    expect(bytes).to.be.below(fs.statSync(copy).size / 4);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('replays in real time and at a speed factor by event timestamps', async () => {
    const evt2 = sharedRecording('prophesee_evt2_expelliarmus_sample.raw'); // 50 ms of events
    const t0 = performance.now();
    const n = await lastValueFrom(fromEventFile(evt2, { pacing: REALTIME }).pipe(reduce((a, b) => a + b.length, 0)));
    const realMs = performance.now() - t0;
    expect(n).to.equal(539481);
    expect(realMs).to.be.at.least(45);
    const t1 = performance.now();
    await lastValueFrom(fromEventFile(alex, { pacing: speed(40) }).pipe(reduce((a, b) => a + b.length, 0)));
    // 8.04 s of recording at 40× is ≥ 201 ms.
    expect(performance.now() - t1).to.be.at.least(190);
  });

  it('reports corrupt files as FormatError naming the file', async () => {
    const dir = makeTempDir();
    const bad = path.join(dir, 'bad.aedat');
    fs.writeFileSync(bad, '#!AER-DAT3.1\r\n#!END-HEADER\r\n' + 'x'.repeat(30));
    let err: unknown;
    try {
      await lastValueFrom(fromEventFile(bad));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FormatError);
    expect((err as FormatError).file).to.equal(bad);
    fs.writeFileSync(bad, 'hello world, not events');
    err = undefined;
    try {
      await lastValueFrom(fromEventFile(bad));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(FormatError);
    expect((err as FormatError).message).to.contain('bad.aedat');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('Pacer', () => {
  it('maps event time to wall time with a speed factor', () => {
    let now = 1000;
    const p = new Pacer(speed(2), () => now);
    expect(p.delayMs(5_000_000)).to.equal(0); // anchors
    expect(p.delayMs(5_100_000)).to.equal(50); // 100 ms of events at 2× = 50 ms
    now += 80;
    expect(p.delayMs(5_100_000)).to.equal(0);
    expect(new Pacer(ASAP).delayMs(1e12)).to.equal(0);
    expect(() => speed(0)).to.throw(RangeError);
  });
});

describe('readEventFile and summarizeEventFile', () => {
  it('summarises a file in bounded memory', async () => {
    const s = await summarizeEventFile(sharedRecording('dvs128_jaer_alex_walking_again.aedat'));
    expect(s.format).to.equal('aedat2');
    expect(s.events).to.equal(19182);
    expect(s.onEvents).to.equal(12080);
    expect(s.firstT).to.equal(41306606);
    expect(s.lastT).to.equal(48193156);
    expect(s.geometry).to.deep.equal({ width: 128, height: 128 });
  });

  it('finds the sensor size from the header, or from the events when the format does not state it', async () => {
    expect(await eventFileGeometry(sharedRecording('dvxplorer_tonic_sample.aedat4'))).to.deep.equal({ width: 320, height: 240 });
    expect(await eventFileGeometry(sharedRecording('dvs128_jaer_alex_walking_again.aedat'))).to.deep.equal({ width: 128, height: 128 });
    // N-CARS DAT has no size in its header: x ≤ 77, y ≤ 41 (SOURCES.md).
    expect(await eventFileGeometry(sharedRecording('ncars_tonic_sample.dat'))).to.deep.equal({ width: 78, height: 42 });
  });

  it('rejects a bad chunk size', async () => {
    const it = readEventFile(sharedRecording('nmnist_tonic_sample.bin'), { chunkBytes: 0 });
    let err: unknown;
    try {
      await it.next();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(RangeError);
  });
});
