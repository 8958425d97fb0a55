import { expect } from 'chai';
import { from, lastValueFrom, mergeMap, Subject, take, toArray, map, type OperatorFunction } from 'rxjs';
import { batchFromArrays, concatBatches, type EventBatch } from '../../src/events/event-batch';
import { segmentByWindows } from '../../streams/operators/segment-windows';
import { segmentTumbling } from '../../streams/operators/segment-tumbling';
import { segmentByActivity } from '../../streams/operators/segment-activity';
import { segmentStats, type SegmentedSample } from '../../streams/operators/sample-feed';
import { binFrames } from '../../streams/operators/bin';
import { splitRandom } from './util';

const geometry = { width: 8, height: 8 };

/** Events at the given times (x = index mod 8). */
function eventsAt(times: number[]): EventBatch {
  return batchFromArrays({ x: times.map((_, i) => i % 8), y: times.map(() => 1), p: times.map((_, i) => i & 1), t: times });
}
const range = (a: number, b: number, step = 1) => Array.from({ length: Math.ceil((b - a) / step) }, (_, i) => a + i * step);

interface Got {
  id: string;
  label?: number;
  tStart: number;
  tEnd: number;
  times: number[];
  endedAt?: number;
}

/** Subscribes to every sample's events synchronously and collects them. */
async function collect(batches: EventBatch[], op: OperatorFunction<EventBatch, SegmentedSample>): Promise<Got[]> {
  const out: Got[] = [];
  const samples: SegmentedSample[] = [];
  await lastValueFrom(
    from(batches).pipe(
      op,
      mergeMap((s) => {
        samples.push(s);
        const g: Got = { id: s.id, label: s.label, tStart: s.tStart, tEnd: s.tEnd, times: [] };
        out.push(g);
        return s.events.pipe(map((b) => g.times.push(...Array.from(b.t.subarray(0, b.length)))));
      }),
      toArray(),
    ),
  );
  out.forEach((g, i) => (g.endedAt = samples[i].endedAt));
  return out;
}

describe('operators: segmentation', () => {
  const all = eventsAt(range(0, 500, 10)); // 0, 10, ..., 490

  it('label windows: overlapping and unsorted, one sample per window, in tStart order', async () => {
    const windows = [
      { label: 1, tStart: 50, tEnd: 150 },
      { label: 0, tStart: 0, tEnd: 100 },
      { label: 2, tStart: 300, tEnd: 340 },
      { label: 3, tStart: 900, tEnd: 1000 }, // after the stream: emitted empty
    ];
    const stats = segmentStats();
    const whole = await collect([all], segmentByWindows(windows, { streamId: 's', geometry, stats }));
    expect(whole.map((g) => [g.id, g.label, g.tStart, g.tEnd])).to.deep.equal([
      ['s#1', 0, 0, 100],
      ['s#0', 1, 50, 150],
      ['s#2', 2, 300, 340],
      ['s#3', 3, 900, 1000],
    ]);
    expect(whole[0].times).to.deep.equal(range(0, 100, 10));
    expect(whole[1].times).to.deep.equal(range(50, 150, 10));
    expect(whole[2].times).to.deep.equal([300, 310, 320, 330]);
    expect(whole[3].times).to.deep.equal([]);
    expect(stats).to.deep.include({ samples: 4, routed: 24, unrouted: 50 - 19 });
    for (const seed of [1, 2, 3]) {
      expect(await collect(splitRandom(all, seed, 7), segmentByWindows(windows, { streamId: 's', geometry }))).to.deep.equal(whole);
    }
  });

  it('label windows: completes and unsubscribes upstream once every window has ended', () => {
    const src = new Subject<EventBatch>();
    let done = false;
    src.pipe(segmentByWindows([{ tStart: 0, tEnd: 100 }], { streamId: 's', geometry })).subscribe({ complete: () => (done = true) });
    src.next(eventsAt([10, 20]));
    expect(done).to.equal(false);
    src.next(eventsAt([100, 110]));
    expect(done).to.equal(true);
    expect(src.observed).to.equal(false);
  });

  it('holds a sample\'s events until its first (late) subscription', async () => {
    const samples = await lastValueFrom(from(splitRandom(all, 9, 5)).pipe(segmentByWindows([{ tStart: 100, tEnd: 200 }], { streamId: 's', geometry }), toArray()));
    const evs = await lastValueFrom(samples[0].events.pipe(toArray()));
    expect(Array.from(concatBatches(evs).t)).to.deep.equal(range(100, 200, 10));
    // a second subscriber after the end gets nothing more (the events were released)
    expect((await lastValueFrom(samples[0].events.pipe(toArray()))).length).to.equal(0);
  });

  it('label windows: a decided sample gets no more events and its skipped events are counted', () => {
    const src = new Subject<EventBatch>();
    const stats = segmentStats();
    const samples: SegmentedSample[] = [];
    src.pipe(segmentByWindows([{ tStart: 0, tEnd: 300 }, { tStart: 100, tEnd: 200 }], { streamId: 's', geometry, stats })).subscribe((s) => {
      samples.push(s);
      s.events.pipe(take(1)).subscribe(); // decides after its first batch
    });
    for (let t = 0; t < 400; t += 10) src.next(eventsAt([t]));
    expect(samples.map((s) => [s.routedEvents, s.skippedEvents, s.decided])).to.deep.equal([
      [1, 29, true],
      [1, 9, true],
    ]);
    expect(stats).to.deep.include({ routed: 2, skipped: 38, decided: 2 });
  });

  it('tumbling windows of a fixed duration; windows without events are not emitted', async () => {
    const e = eventsAt([5, 20, 99, 100, 150, 420, 430]);
    const got = await collect([e], segmentTumbling({ streamId: 'c', geometry, durationUs: 100, tOrigin: 0 }));
    expect(got.map((g) => [g.id, g.tStart, g.tEnd, g.times])).to.deep.equal([
      ['c#0', 0, 100, [5, 20, 99]],
      ['c#1', 100, 200, [100, 150]],
      ['c#2', 400, 500, [420, 430]],
    ]);
    expect(got.map((g) => g.endedAt)).to.deep.equal([100, 200, 430]);
  });

  it('tumbling windows do not depend on batch boundaries', async () => {
    const e = eventsAt(range(3, 2000, 7));
    const whole = await collect([e], segmentTumbling({ streamId: 'c', geometry, durationUs: 64 }));
    expect(whole.length).to.equal(Math.ceil((1996 - 3 + 1) / 64));
    for (const seed of [1, 2]) expect(await collect(splitRandom(e, seed, 25), segmentTumbling({ streamId: 'c', geometry, durationUs: 64 }))).to.deep.equal(whole);
  });

  it('decide() stops routing, completes the subscribers and starts the next tumbling sample', () => {
    const src = new Subject<EventBatch>();
    const stats = segmentStats();
    const samples: SegmentedSample[] = [];
    const completed: string[] = [];
    src.pipe(segmentTumbling({ streamId: 'c', geometry, durationUs: 100, stats })).subscribe((s) => {
      samples.push(s);
      s.events.subscribe({ complete: () => completed.push(s.id) });
    });
    src.next(eventsAt([0, 10, 20]));
    samples[0].decide();
    expect(completed).to.deep.equal(['c#0']);
    src.next(eventsAt([30, 40]));
    expect(samples.map((s) => [s.id, s.tStart, s.routedEvents, s.decided])).to.deep.equal([
      ['c#0', 0, 3, true],
      ['c#1', 30, 2, false],
    ]);
    expect(samples[0].endedAt).to.equal(30);
    expect(stats).to.deep.include({ samples: 2, decided: 1, skipped: 0 });
  });

  describe('decided early (binning at 10 µs, decision after 2 frames)', () => {
    const stream = eventsAt(range(0, 300)); // one event per µs
    const pipeline = (op: OperatorFunction<EventBatch, SegmentedSample>, batches: EventBatch[]) =>
      lastValueFrom(
        from(batches).pipe(
          op,
          mergeMap((s) =>
            s.events.pipe(
              binFrames({ geometry, binUs: 10, tStart: s.tStart, tEnd: s.tEnd, sampleId: s.id }),
              take(2),
              map((f) => [s.id, s.tStart, f.step, f.eventCount, s]),
            ),
          ),
          toArray(),
        ),
      );

    it("'next-sample' starts the next sample at the decision point, independent of batch boundaries", async () => {
      const stats = segmentStats();
      const rows = await pipeline(segmentTumbling({ streamId: 'c', geometry, durationUs: 100, stepUs: 10, stats }), [stream]);
      const starts = [...new Set(rows.map((r) => r[1]))];
      expect(starts).to.deep.equal(range(0, 300, 20));
      expect(rows.every((r) => r[3] === 10)).to.equal(true);
      expect(stats.skipped).to.equal(0);
      expect(stats.routed).to.equal(300);
      for (const seed of [1, 2, 3]) {
        const again = await pipeline(segmentTumbling({ streamId: 'c', geometry, durationUs: 100, stepUs: 10 }), splitRandom(stream, seed, 40));
        expect(again.map((r) => r.slice(0, 4))).to.deep.equal(rows.map((r) => r.slice(0, 4)));
      }
    });

    it("'skip-to-window-end' skips the rest of the window and counts it", async () => {
      for (const seed of [0, 1, 2]) {
        const stats = segmentStats();
        const batches = seed === 0 ? [stream] : splitRandom(stream, seed, 40);
        const rows = await pipeline(segmentTumbling({ streamId: 'c', geometry, durationUs: 100, stepUs: 10, onDecided: 'skip-to-window-end', stats }), batches);
        expect([...new Set(rows.map((r) => r[1]))]).to.deep.equal([0, 100, 200]);
        const samples = [...new Set(rows.map((r) => r[4] as SegmentedSample))];
        expect(samples.map((s) => [s.routedEvents, s.skippedEvents])).to.deep.equal([
          [20, 80],
          [20, 80],
          [20, 80],
        ]);
        expect(stats).to.deep.include({ routed: 60, skipped: 240, decided: 3 });
      }
    });
  });

  describe('activity-based', () => {
    // background: one event per ms; burst A: 100 events every 10 µs from 10 000; burst B: 200 events every 10 µs from 50 000
    const times = [...range(500, 10000, 1000), ...range(10000, 11000, 10), ...range(20500, 50000, 1000), ...range(50000, 52000, 10)];
    const stream = eventsAt(times);
    const opts = { streamId: 'a', geometry, windowUs: 1000, threshold: 20, quietUs: 2000 };

    it('starts at the rise above the level and ends after the quiet gap', async () => {
      const stats = segmentStats();
      const got = await collect([stream], segmentByActivity({ ...opts, stats }));
      expect(got.map((g) => [g.id, g.tStart, g.endedAt])).to.deep.equal([
        ['a#0', 10180, 13800], // 20 events in (t-1000, t] first at 10 180 (with the background event at 9 500); last burst event 10 990 → quiet from 11 800
        ['a#1', 50180, 51990], // ends with the stream
      ]);
      expect(got[0].times).to.deep.equal(range(10180, 11000, 10));
      expect(got[1].times).to.deep.equal(range(50180, 52000, 10));
      expect(stats.unrouted).to.equal(times.length - got[0].times.length - got[1].times.length);
      for (const seed of [1, 2]) expect(await collect(splitRandom(stream, seed, 60), segmentByActivity(opts))).to.deep.equal(got);
    });

    it('ends at the maximum duration and restarts while the activity lasts', async () => {
      const got = await collect([stream], segmentByActivity({ ...opts, maxDurationUs: 500 }));
      expect(got.map((g) => [g.tStart, g.endedAt])).to.deep.equal([
        [10180, 10680],
        [10680, 11180],
        [50180, 50680],
        [50680, 51180],
        [51180, 51680],
        [51680, 51990],
      ]);
      for (const seed of [3, 4]) expect(await collect(splitRandom(stream, seed, 60), segmentByActivity({ ...opts, maxDurationUs: 500 }))).to.deep.equal(got);
    });

    it("'next-sample' restarts at once while the activity lasts, independent of batch boundaries", async () => {
      const run = (batches: EventBatch[]) => {
        const samples: SegmentedSample[] = [];
        return lastValueFrom(
          from(batches).pipe(
            segmentByActivity({ ...opts, stepEvents: 10 }),
            mergeMap((s) => {
              samples.push(s);
              return s.events.pipe(binFrames({ geometry, eventsPerBin: 10, sampleId: s.id }), take(3));
            }),
            toArray(),
          ),
        ).then(() => samples.map((s) => [s.tStart, s.routedEvents, s.skippedEvents, s.decided]));
      };
      const whole = await run([stream]);
      expect(whole.slice(0, 4)).to.deep.equal([
        [10180, 30, 0, true],
        [10480, 30, 0, true],
        [10780, 22, 0, false],
        [50180, 30, 0, true],
      ]);
      for (const seed of [6, 7]) expect(await run(splitRandom(stream, seed, 45))).to.deep.equal(whole);
    });

    it('counts the events skipped after an early decision', async () => {
      const stats = segmentStats();
      const samples: SegmentedSample[] = [];
      await lastValueFrom(
        from(splitRandom(stream, 5, 30)).pipe(
          segmentByActivity({ ...opts, onDecided: 'skip-to-window-end', stepEvents: 10, stats }),
          mergeMap((s) => {
            samples.push(s);
            return s.events.pipe(binFrames({ geometry, eventsPerBin: 10, sampleId: s.id }), take(3));
          }),
          toArray(),
        ),
      );
      expect(samples.map((s) => [s.tStart, s.routedEvents, s.skippedEvents])).to.deep.equal([
        [10180, 30, 82 - 30],
        [50180, 30, 182 - 30],
      ]);
      expect(stats).to.deep.include({ routed: 60, skipped: 52 + 152, decided: 2 });
    });
  });
});
