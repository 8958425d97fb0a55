import { expect } from 'chai';
import { from, lastValueFrom, Subject, take, toArray } from 'rxjs';
import { batchFromArrays, type EventBatch } from '../../src/events/event-batch';
import { binEvents, binFrames, binStats, frameGeometry, type BinOptions } from '../../streams/operators/bin';
import type { Frame } from '../../streams/types';
import { randomEvents, splitRandom } from './util';

const geom = { width: 4, height: 3 };

function runBin(batches: EventBatch[], o: BinOptions): Promise<Frame[]> {
  return lastValueFrom(from(batches).pipe(binFrames(o), toArray()));
}
const summary = (fs: Frame[]) => fs.map((f) => [f.step, f.tStart, f.tEnd, f.eventCount, f.closedBy]);
const at = (f: Frame, x: number, y: number, c: number) => f.data[(y * f.width + x) * 2 + c];

describe('operators: binFrames', () => {
  const b = batchFromArrays({ x: [0, 1, 3, 2], y: [0, 1, 2, 0], p: [1, 0, 1, 1], t: [1, 2, 25, 26] });

  it('bins by time, emits empty bins in gaps and tags closedBy', async () => {
    const fs = await runBin([b], { geometry: geom, tStart: 0, binUs: 10 });
    expect(summary(fs)).to.deep.equal([
      [0, 0, 10, 2, 'time'],
      [1, 10, 20, 0, 'time'],
      [2, 20, 27, 2, 'stream-end'], // the input ended after t = 26: the last bin ends there
    ]);
    expect(fs[0].data.length).to.equal(3 * 4 * 2);
    expect(at(fs[0], 0, 0, 1)).to.equal(1);
    expect(at(fs[0], 1, 1, 0)).to.equal(1);
    expect(Array.from(fs[1].data).every((v) => v === 0)).to.equal(true);
    expect(at(fs[2], 3, 2, 1)).to.equal(1);
  });

  it('pads to a finite window end at completion and closes at an event past tEnd', async () => {
    const fs = await runBin([b], { geometry: geom, tStart: 0, tEnd: 45, binUs: 10 });
    expect(summary(fs)).to.deep.equal([
      [0, 0, 10, 2, 'time'],
      [1, 10, 20, 0, 'time'],
      [2, 20, 30, 2, 'time'],
      [3, 30, 40, 0, 'time'],
      [4, 40, 45, 0, 'window-end'],
    ]);
    const stats = binStats();
    const src = new Subject<EventBatch>();
    const got: Frame[] = [];
    let completed = false;
    src.pipe(binFrames({ geometry: geom, tStart: 0, tEnd: 20, binUs: 10, stats })).subscribe({ next: (f) => got.push(f), complete: () => (completed = true) });
    src.next(b); // 25 >= tEnd: closes the window
    expect(completed).to.equal(true);
    expect(src.observed).to.equal(false);
    expect(summary(got)).to.deep.equal([
      [0, 0, 10, 2, 'time'],
      [1, 10, 20, 0, 'window-end'],
    ]);
    expect(stats.outOfWindow).to.equal(1);
  });

  it('bins by event count', async () => {
    const fs = await runBin([b], { geometry: geom, eventsPerBin: 3 });
    expect(summary(fs)).to.deep.equal([
      [0, 1, 25, 3, 'count'],
      [1, 26, 26, 1, 'stream-end'],
    ]);
    const w = await runBin([b], { geometry: geom, eventsPerBin: 3, tStart: 0, tEnd: 100 });
    expect(w[1].closedBy).to.equal('window-end');
  });

  it('downsamples with H = ceil(H/f), W = ceil(W/f) and drops out-of-geometry events', async () => {
    const e = batchFromArrays({ x: [4, 0, 1, 9], y: [2, 0, 1, 0], p: [1, 0, 0, 1], t: [0, 1, 2, 3] });
    const stats = binStats();
    const fs = await runBin([e], { geometry: { width: 5, height: 3 }, binUs: 100, downsample: 2, stats });
    expect(frameGeometry({ width: 5, height: 3 }, 2)).to.deep.equal({ width: 3, height: 2 });
    expect([fs[0].height, fs[0].width]).to.deep.equal([2, 3]);
    expect(at(fs[0], 2, 1, 1)).to.equal(1);
    expect(at(fs[0], 0, 0, 0)).to.equal(2);
    expect(fs[0].eventCount).to.equal(3);
    expect(stats.outOfBounds).to.equal(1);
  });

  it('stops at maxSteps and unsubscribes upstream', async () => {
    const src = new Subject<EventBatch>();
    const got: Frame[] = [];
    src.pipe(binFrames({ geometry: geom, tStart: 0, binUs: 1, maxSteps: 3 })).subscribe((f) => got.push(f));
    src.next(b);
    expect(got.map((f) => f.step)).to.deep.equal([0, 1, 2]);
    expect(src.observed).to.equal(false);
    const fs = await runBin([b], { geometry: geom, tStart: 0, tEnd: 1000, binUs: 10, maxSteps: 5 });
    expect(fs.length).to.equal(5);
    expect(fs[4].closedBy).to.equal('time');
  });

  it('is lazy: no frame is built after the consumer unsubscribes', () => {
    const many = randomEvents(2000, 4, 3, 7, 5); // ~10 ms of events, 1000 bins of 10 µs
    for (const sync of [true, false]) {
      const stats = binStats();
      const frames: Frame[] = [];
      const op = binFrames({ geometry: geom, tStart: 0, binUs: 10, stats });
      if (sync) {
        from(splitRandom(many, 4, 300)).pipe(op, take(2)).subscribe((f) => frames.push(f));
      } else {
        const src = new Subject<EventBatch>();
        src.pipe(op, take(2)).subscribe((f) => frames.push(f));
        src.next(many);
        expect(src.observed).to.equal(false);
      }
      expect(frames.length).to.equal(2);
      expect(stats.framesBuilt).to.equal(2);
    }
  });

  it('binEvents matches the operator, whatever the batch boundaries', async () => {
    const all = randomEvents(3000, 5, 4, 21, 4);
    const opts: BinOptions[] = [
      { geometry: geom, binUs: 37, tStart: -5, tEnd: 9000, downsample: 2 },
      { geometry: geom, binUs: 50 },
      { geometry: geom, eventsPerBin: 64, maxSteps: 20 },
      { geometry: geom, binUs: 20, maxSteps: 50 },
    ];
    for (const o of opts) {
      const offline = binEvents(all, o);
      expect(offline.length).to.be.greaterThan(1);
      for (const seed of [1, 2]) {
        const live = await runBin(splitRandom(all, seed, 120), o);
        expect(live.length).to.equal(offline.length);
        live.forEach((f, i) => {
          expect(summary([f])).to.deep.equal(summary([offline[i]]));
          expect(Array.from(f.data)).to.deep.equal(Array.from(offline[i].data));
        });
      }
    }
  });
});

describe('binning: the input encodings (src/snn/input-encoding.ts)', () => {
  it('time-split counts either polarity by the half of the step it falls in (time bins)', () => {
    // bin 0 = [0, 10): half 0 is [0, 5), half 1 is [5, 10); bin 1 = [10, 20): the same from 10.
    const ev = batchFromArrays({ x: [0, 0, 1, 1, 2, 2], y: [0, 0, 0, 0, 1, 1], p: [1, 0, 1, 0, 0, 1], t: [0, 4, 5, 9, 14, 15] });
    const fs = binEvents(ev, { geometry: geom, tStart: 0, binUs: 10, encoding: 'time-split' });
    expect(fs.length).to.equal(2);
    expect([at(fs[0], 0, 0, 0), at(fs[0], 0, 0, 1)]).to.deep.equal([2, 0]);
    expect([at(fs[0], 1, 0, 0), at(fs[0], 1, 0, 1)]).to.deep.equal([0, 2]);
    expect([at(fs[1], 2, 1, 0), at(fs[1], 2, 1, 1)]).to.deep.equal([1, 1]);
    // The same events under the default encoding: OFF and ON.
    const pol = binEvents(ev, { geometry: geom, tStart: 0, binUs: 10 });
    expect([at(pol[0], 0, 0, 0), at(pol[0], 0, 0, 1)]).to.deep.equal([1, 1]);
  });

  it('time-split splits a count bin by event index', () => {
    const ev = batchFromArrays({ x: [0, 0, 0, 0, 0], y: [0, 0, 0, 0, 0], p: [1, 1, 1, 1, 1], t: [1, 2, 3, 4, 5] });
    const fs = binEvents(ev, { geometry: geom, eventsPerBin: 4, encoding: 'time-split' });
    expect([at(fs[0], 0, 0, 0), at(fs[0], 0, 0, 1)]).to.deep.equal([2, 2]);
    expect([at(fs[1], 0, 0, 0), at(fs[1], 0, 0, 1)]).to.deep.equal([1, 0]);
  });

  it('time-split frames do not change when every polarity is swapped', () => {
    const all = randomEvents(2000, 5, 4, 21, 4);
    const swapped = { ...all, p: all.p.map((v) => (v ? 0 : 1)) as typeof all.p };
    const o: BinOptions = { geometry: geom, binUs: 37, tStart: 0, encoding: 'time-split' };
    const a = binEvents(all, o), b = binEvents(swapped, o);
    expect(a.map((f) => Array.from(f.data))).to.deep.equal(b.map((f) => Array.from(f.data)));
    expect(binEvents(all, { ...o, encoding: 'polarity' }).map((f) => Array.from(f.data))).to.not.deep.equal(binEvents(swapped, { ...o, encoding: 'polarity' }).map((f) => Array.from(f.data)));
  });

  it('time-split gives the same frames however the input is split', async () => {
    const all = randomEvents(3000, 5, 4, 21, 4);
    const o: BinOptions = { geometry: geom, binUs: 50, encoding: 'time-split' };
    const offline = binEvents(all, o);
    const live = await runBin(splitRandom(all, 3, 120), o);
    expect(live.map((f) => Array.from(f.data))).to.deep.equal(offline.map((f) => Array.from(f.data)));
  });

  it('time-ramp counts every event in channel 0 and its time in the sample in channel 1', () => {
    // T = 4 steps of 10 µs from t = 0: the ramp reaches 1 at t = 40 and stays there.
    const ev = batchFromArrays({ x: [0, 0, 1, 2], y: [0, 0, 0, 1], p: [1, 0, 0, 1], t: [0, 5, 20, 45] });
    const fs = binEvents(ev, { geometry: geom, tStart: 0, binUs: 10, encoding: 'time-ramp', rampSteps: 4 });
    expect(fs.length).to.equal(5);
    expect([at(fs[0], 0, 0, 0), at(fs[0], 0, 0, 1)]).to.deep.equal([2, 0.125]);
    expect([at(fs[2], 1, 0, 0), at(fs[2], 1, 0, 1)]).to.deep.equal([1, 0.5]);
    expect([at(fs[4], 2, 1, 0), at(fs[4], 2, 1, 1)]).to.deep.equal([1, 1]);
    // maxSteps does not change the ramp: it spans rampSteps, the model's T.
    const short = binEvents(ev, { geometry: geom, tStart: 0, binUs: 10, encoding: 'time-ramp', rampSteps: 4, maxSteps: 3 });
    expect(short.map((f) => Array.from(f.data))).to.deep.equal(fs.slice(0, 3).map((f) => Array.from(f.data)));
    // Count bins: the clock is the event's index in the sample.
    const byCount = binEvents(ev, { geometry: geom, eventsPerBin: 2, encoding: 'time-ramp', rampSteps: 2 });
    expect([at(byCount[0], 0, 0, 0), at(byCount[0], 0, 0, 1)]).to.deep.equal([2, 0.25]);
    expect([at(byCount[1], 2, 1, 0), at(byCount[1], 2, 1, 1)]).to.deep.equal([1, 0.75]);
  });

  it('time-ramp is polarity-invariant and needs rampSteps', () => {
    const all = randomEvents(2000, 5, 4, 21, 4);
    const swapped = { ...all, p: all.p.map((v) => (v ? 0 : 1)) as typeof all.p };
    const o: BinOptions = { geometry: geom, binUs: 37, tStart: 0, encoding: 'time-ramp', rampSteps: 16 };
    expect(binEvents(all, o).map((f) => Array.from(f.data))).to.deep.equal(binEvents(swapped, o).map((f) => Array.from(f.data)));
    expect(() => binEvents(all, { ...o, rampSteps: undefined })).to.throw(RangeError, /time-ramp encoding needs rampSteps/);
  });

  it('rejects an unknown encoding with a RangeError naming it', () => {
    expect(() => binEvents(batchFromArrays({ x: [0], y: [0], p: [1], t: [0] }), { geometry: geom, binUs: 10, encoding: 'gray' as never })).to.throw(RangeError, /encoding must be one of polarity, time-split, time-ramp \(got "gray"\)/);
  });
});

describe('FrameCursor (pull-driven binning)', () => {
  const { FrameCursor } = require('../../streams/core/frame-cursor') as typeof import('../../streams/core/frame-cursor');
  const { binEvents, binStats } = require('../../streams/core/binner') as typeof import('../../streams/core/binner');
  const { batchFromArrays, sliceByIndex } = require('../../src/events/event-batch') as typeof import('../../src/events/event-batch');
  const geometry = { width: 8, height: 8 };
  const ev = batchFromArrays({
    x: [0, 1, 2, 3, 4, 5, 6, 7, 1, 2],
    y: [0, 1, 2, 3, 4, 5, 6, 7, 1, 2],
    p: [1, 0, 1, 0, 1, 0, 1, 0, 1, 1],
    t: [0, 5, 12, 35, 36, 58, 61, 99, 130, 260],
  });

  function drain(options: Parameters<typeof binEvents>[1], splits: number[]) {
    const c = new FrameCursor(options);
    const frames = [];
    let from = 0;
    const cuts = [...splits, ev.length];
    for (;;) {
      const f = c.next();
      if (f) {
        frames.push(f);
        continue;
      }
      if (c.finished) break;
      if (!c.needsInput) continue;
      if (cuts.length === 0) c.end();
      else {
        const to = cuts.shift() as number;
        c.feed(sliceByIndex(ev, from, to));
        from = to;
      }
    }
    return frames;
  }

  for (const options of [
    { geometry, binUs: 10, tStart: 0, tEnd: 200 },
    { geometry, binUs: 25, tStart: 0 },
    { geometry, eventsPerBin: 3, tStart: 0, tEnd: 200 },
    { geometry, binUs: 10, tStart: 0, tEnd: 1000, maxSteps: 7, downsample: 2 },
  ]) {
    it(`gives exactly binEvents' frames, however the input is split (${JSON.stringify({ ...options, geometry: undefined })})`, () => {
      const expected = binEvents(ev, options);
      for (const splits of [[], [1, 2, 3], [4], [9]]) {
        const got = drain(options, splits);
        expect(got.map((f) => [f.step, f.tStart, f.tEnd, f.eventCount, f.closedBy])).to.deep.equal(
          expected.map((f) => [f.step, f.tStart, f.tEnd, f.eventCount, f.closedBy]),
        );
        got.forEach((f, i) => expect(Array.from(f.data)).to.deep.equal(Array.from(expected[i].data)));
      }
    });
  }

  it('builds a frame only when asked for one', () => {
    const stats = binStats();
    const c = new FrameCursor({ geometry, binUs: 10, tStart: 0, tEnd: 200, stats });
    c.feed(ev); // all the events of 20 bins are in memory
    expect(c.next()?.step).to.equal(0);
    expect(c.next()?.step).to.equal(1);
    expect(stats.framesBuilt).to.equal(2);
    expect(stats.outOfWindow, 'the event at t=260 is not looked at yet').to.equal(0);
    let n = 2;
    while (c.next()) n++;
    expect(n).to.equal(20);
    expect(stats.framesBuilt).to.equal(20);
    expect(stats.outOfWindow).to.equal(1);
  });
});
