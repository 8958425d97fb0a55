import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { concatMap, from, lastValueFrom, map, toArray } from 'rxjs';
import { batchFromArrays, concatBatches, type EventBatch } from '../../src/events/event-batch';
import { encodeAedat31 } from 'aedat-parser-ts';
import { eventsOf, sourceFromBatches, type EventSource } from '../../streams/core/event-source';
import { segmentLive, segmentStats, type LiveSegmentOptions } from '../../streams/core/live-segmenter';
import { segmentByActivity, segmentTumbling } from '../../streams/operators/segment';
import { windowSamples } from '../../streams/sources/window-samples';
import type { Sample } from '../../streams/types';
import { makeTempDir } from '../helpers/paths';
import { splitRandom } from './util';

const geometry = { width: 8, height: 8 };

/** Events at the given times (x = index mod 8). */
function eventsAt(times: number[]): EventBatch {
  return batchFromArrays({ x: times.map((_, i) => i % 8), y: times.map(() => 1), p: times.map((_, i) => i & 1), t: times });
}
const range = (a: number, b: number, step = 1) => Array.from({ length: Math.ceil((b - a) / step) }, (_, i) => a + i * step);

/** Consumes each sample fully (in order), collecting its events' times. */
function collect(source: EventSource, o: LiveSegmentOptions): Promise<[string, number, number[]][]> {
  return new Promise((resolve, reject) => {
    const got: [string, number, number[]][] = [];
    let chain = Promise.resolve();
    segmentLive(source, o).subscribe({
      next: (s) => {
        chain = chain.then(async () => {
          const batches = await lastValueFrom(eventsOf(s.events).pipe(toArray()));
          got.push([s.id, s.tStart, Array.from(concatBatches(batches).t)]);
        });
      },
      error: reject,
      complete: () => void chain.then(() => resolve(got), reject),
    });
  });
}

/** A consumer that decides after `take` events: it settles the rest of what it pulled as unconsumed. */
async function decideAfter(s: Sample, take: number): Promise<number[]> {
  const control = new AbortController();
  const pull = s.events.open(control.signal);
  const times: number[] = [];
  let pulled = 0;
  for (;;) {
    const r = await pull.next();
    if (r.done) break;
    pulled += r.value.length;
    for (let i = 0; i < r.value.length && times.length < take; i++) times.push(r.value.t[i]);
    if (times.length >= take) break;
  }
  pull.settle({ unconsumed: pulled - times.length, early: times.length >= take });
  control.abort();
  return times;
}

function withDecisions(batches: EventBatch[], o: LiveSegmentOptions, take: number): Promise<[number, number[]][]> {
  return new Promise((resolve, reject) => {
    const got: [number, number[]][] = [];
    let chain = Promise.resolve();
    segmentLive(sourceFromBatches(batches), o).subscribe({
      next: (s) => (chain = chain.then(async () => void got.push([s.tStart, await decideAfter(s, take)]))),
      error: reject,
      complete: () => void chain.then(() => resolve(got), reject),
    });
  });
}

describe('live segmentation (segmentLive and its operator faces)', () => {
  // background: one event per ms; burst A: 100 events every 10 µs from 10 000; burst B: 200 events every 10 µs from 50 000
  const times = [...range(500, 10000, 1000), ...range(10000, 11000, 10), ...range(20500, 50000, 1000), ...range(50000, 52000, 10)];
  const stream = eventsAt(times);
  const activity = { kind: 'activity' as const, windowUs: 1000, threshold: 20, quietUs: 2000 };
  const opts: LiveSegmentOptions = { streamId: 'a', geometry, segmentation: activity };

  it('activity: starts at the rise above the level and ends after the quiet gap, whatever the batch boundaries', async () => {
    const stats = segmentStats();
    const got = await collect(sourceFromBatches([stream]), { ...opts, stats });
    expect(got.map((g) => [g[0], g[1]])).to.deep.equal([
      ['a#0', 10180],
      ['a#1', 50180],
    ]);
    expect(got[0][2]).to.deep.equal(range(10180, 11000, 10));
    expect(got[1][2]).to.deep.equal(range(50180, 52000, 10));
    expect(stats.unrouted).to.equal(times.length - got[0][2].length - got[1][2].length);
    expect(stats.routed).to.equal(got[0][2].length + got[1][2].length);
    for (const seed of [1, 2]) expect(await collect(sourceFromBatches(splitRandom(stream, seed, 60)), opts)).to.deep.equal(got);
  });

  it('activity: ends at the maximum duration and restarts while the activity lasts', async () => {
    const got = await collect(sourceFromBatches([stream]), { ...opts, maxDurationUs: 500 });
    expect(got.map((g) => [g[1], g[2][g[2].length - 1]])).to.deep.equal([
      [10180, 10670],
      [10680, 10990],
      [50180, 50670],
      [50680, 51170],
      [51180, 51670],
      [51680, 51990],
    ]);
  });

  it("'next-sample': a decision hands the unconsumed events back and the next sample starts at the first of them", async () => {
    const whole = await withDecisions([stream], opts, 30);
    expect(whole.slice(0, 4).map((r) => [r[0], r[1].length, r[1][0]])).to.deep.equal([
      [10180, 30, 10180],
      [10480, 30, 10480],
      [10780, 22, 10780],
      [50180, 30, 50180],
    ]);
    for (const seed of [6, 7]) expect(await withDecisions(splitRandom(stream, seed, 45), opts, 30)).to.deep.equal(whole);
  });

  it("'skip-to-window-end': the rest of a decided sample is skipped and counted", async () => {
    const stats = segmentStats();
    const got = await withDecisions(splitRandom(stream, 5, 30), { ...opts, onDecided: 'skip-to-window-end', stats }, 30);
    expect(got.map((r) => [r[0], r[1].length])).to.deep.equal([
      [10180, 30],
      [50180, 30],
    ]);
    expect(stats).to.deep.include({ routed: 60, skipped: 52 + 152, decided: 2 });
  });

  it('tumbling windows: one sample per window that has events, independent of batch boundaries', async () => {
    const e = eventsAt([5, 20, 99, 100, 150, 420, 430]);
    const got = await collect(sourceFromBatches([e]), { streamId: 'c', geometry, segmentation: { kind: 'tumbling', durationUs: 100 } });
    // Windows run from the first event: [5, 105), [105, 205), [405, 505).
    expect(got).to.deep.equal([
      ['c#0', 5, [5, 20, 99, 100]],
      ['c#1', 150, [150]],
      ['c#2', 420, [420, 430]],
    ]);
    const many = eventsAt(range(3, 2000, 7));
    const whole = await collect(sourceFromBatches([many]), { streamId: 'c', geometry, segmentation: { kind: 'tumbling', durationUs: 64 } });
    expect(await collect(sourceFromBatches(splitRandom(many, 3, 11)), { streamId: 'c', geometry, segmentation: { kind: 'tumbling', durationUs: 64 } })).to.deep.equal(whole);
  });

  it('the operator faces take a push input through a stated bounded queue', async () => {
    const starts = (s: Sample) => eventsOf(s.events).pipe(toArray(), map(() => s.tStart));
    const drops: number[] = [];
    const a = await lastValueFrom(
      from(splitRandom(stream, 8, 50)).pipe(segmentByActivity({ streamId: 'a', geometry, windowUs: 1000, threshold: 20, quietUs: 2000, buffer: { capacityEvents: 1 << 16, onDrop: (n) => drops.push(n) } }), concatMap(starts), toArray()),
    );
    expect(a).to.deep.equal([10180, 50180]);
    expect(drops).to.deep.equal([]);
    const t = await lastValueFrom(from([eventsAt([5, 20, 300])]).pipe(segmentTumbling({ streamId: 'c', geometry, durationUs: 100 }), concatMap(starts), toArray()));
    expect(t).to.deep.equal([5, 300]);
    expect(() => segmentLive(sourceFromBatches([]), { streamId: 'x', geometry, segmentation: { kind: 'tumbling', durationUs: 0 } })).to.throw(RangeError);
  });
});

describe('windowSamples: label windows of a recorded file', () => {
  let dir: string;
  const all = eventsAt(range(0, 5000, 10));
  before(() => {
    dir = makeTempDir('spikestream-windows-');
    fs.writeFileSync(path.join(dir, 'rec.aedat'), encodeAedat31(all, { geometry: { width: 128, height: 128 } }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('overlapping windows each get exactly their events, by seeking (AEDAT 3.1) or by reading from the start', async () => {
    const windows = [
      { label: 1, tStart: 50, tEnd: 150 },
      { label: 0, tStart: 0, tEnd: 100 },
      { label: 2, tStart: 3000, tEnd: 3040 },
      { label: 3, tStart: 9000, tEnd: 10000 },
    ];
    for (const format of ['aedat3', undefined] as const) {
      const samples = await lastValueFrom(windowSamples(path.join(dir, 'rec.aedat'), windows, { streamId: 's', geometry, format }).pipe(toArray()));
      expect(samples.map((s) => [s.id, s.label, s.tStart, s.tEnd])).to.deep.equal([
        ['s#0', 1, 50, 150],
        ['s#1', 0, 0, 100],
        ['s#2', 2, 3000, 3040],
        ['s#3', 3, 9000, 10000],
      ]);
      const got = [];
      for (const s of samples) got.push(Array.from(concatBatches(await lastValueFrom(eventsOf(s.events).pipe(toArray()))).t));
      expect(got, String(format)).to.deep.equal([range(50, 150, 10), range(0, 100, 10), [3000, 3010, 3020, 3030], []]);
    }
  });
});
