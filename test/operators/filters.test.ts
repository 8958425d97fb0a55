import { expect } from 'chai';
import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import { batchFromArrays, type EventBatch } from '../../src/events/event-batch';
import { cropBatch, cropRoi } from '../../streams/operators/roi';
import { filterPolarity, polarityFilter } from '../../streams/operators/polarity';
import { refractoryFilter } from '../../streams/operators/refractory';
import { backgroundActivityFilter } from '../../streams/operators/denoise';
import { downsampledGeometry, downsampleBatch, spatialDownsample } from '../../streams/operators/downsample';
import { filterStats, pixelIndices } from '../../streams/operators/batch-filter';
import { joined, randomEvents, splitRandom, toPlain } from './util';

async function run(batches: EventBatch[], op: OperatorFunction<EventBatch, EventBatch>): Promise<EventBatch[]> {
  return lastValueFrom(from(batches).pipe(op, toArray()));
}

const geom = { width: 32, height: 24 };

describe('operators: filters', () => {
  const b = batchFromArrays({ x: [0, 5, 10, 15, 31], y: [0, 5, 10, 5, 23], p: [1, 0, 1, 0, 1], t: [1, 2, 3, 4, 5] });

  it('cropRoi keeps the rectangle, optionally re-origined, and counts', async () => {
    const stats = filterStats();
    const out = await run([b], cropRoi({ x: 5, y: 5, width: 11, height: 6 }, { stats }));
    expect(joined(out)).to.deep.equal({ x: [5, 10, 15], y: [5, 10, 5], p: [0, 1, 0], t: [2, 3, 4] });
    expect(stats.in).to.equal(5);
    expect(stats.out).to.equal(3);
    const re = cropBatch(b, { x: 5, y: 5, width: 11, height: 6 }, { reorigin: true });
    expect(toPlain(re)).to.deep.equal({ x: [0, 5, 10], y: [0, 5, 0], p: [0, 1, 0], t: [2, 3, 4] });
    expect(cropBatch(b, { x: 0, y: 0, width: 32, height: 24 })).to.equal(b);
  });

  it('pixelIndices: each event’s row-major pixel, −1 and counted outside the sensor (either side)', () => {
    const edge = batchFromArrays({ x: [0, 31, 32, 3, 31], y: [0, 23, 0, 24, 0], p: [1, 1, 1, 1, 0], t: [1, 2, 3, 4, 5] });
    const { index, outOfBounds } = pixelIndices(edge, geom);
    expect([...index]).to.deep.equal([0, 23 * 32 + 31, -1, -1, 31]);
    expect(outOfBounds).to.equal(2);
  });

  it('polarityFilter keeps one polarity', async () => {
    const stats = filterStats();
    expect(joined(await run([b], polarityFilter('on', stats))).t).to.deep.equal([1, 3, 5]);
    expect(toPlain(filterPolarity(b, 'off')).t).to.deep.equal([2, 4]);
    expect(stats).to.include({ in: 5, out: 3 });
  });

  it('refractoryFilter drops events within the period of the last kept one, across batches', async () => {
    // pixel (1,1): 0 kept, 50 dropped, 100 kept (>= period), 130 dropped, 199 dropped, 200 kept; pixel (2,1) independent; (40,1) out of bounds
    const e = batchFromArrays({
      x: [1, 1, 2, 1, 1, 40, 1, 1],
      y: [1, 1, 1, 1, 1, 1, 1, 1],
      p: [1, 0, 1, 1, 0, 1, 1, 1],
      t: [0, 50, 60, 100, 130, 140, 199, 200],
    });
    const stats = filterStats();
    const out = await run(splitRandom(e, 3, 3), refractoryFilter(100, geom, stats));
    expect(joined(out).t).to.deep.equal([0, 60, 100, 200]);
    expect(stats).to.deep.equal({ in: 8, out: 4, outOfBounds: 1 });
  });

  it('backgroundActivityFilter keeps events supported by a neighbour within the window', async () => {
    const e = batchFromArrays({
      x: [5, 6, 20, 20, 6, 5, 0, 1, 31],
      y: [5, 5, 20, 20, 5, 5, 0, 1, 23],
      p: [1, 1, 1, 1, 0, 1, 1, 1, 1],
      // (5,5)@0 alone: drop; (6,5)@100 neighbour (5,5)@0: keep; (20,20)@200: drop; (20,20)@300: own pixel only: drop;
      // (6,5)@900: neighbour (5,5)@0 within 1000: keep; (5,5)@2500: (6,5)@900 is 1600 ago: drop;
      // (0,0)@3000 corner: drop; (1,1)@3500: neighbour (0,0): keep; (31,23)@4000 corner: drop
      t: [0, 100, 200, 300, 900, 2500, 3000, 3500, 4000],
    });
    const stats = filterStats();
    const out = await run(splitRandom(e, 5, 4), backgroundActivityFilter(1000, geom, stats));
    expect(joined(out).t).to.deep.equal([100, 900, 3500]);
    expect(stats).to.include({ in: 9, out: 3 });
  });

  it('spatialDownsample divides coordinates and drops out-of-bounds events', async () => {
    const e = batchFromArrays({ x: [0, 3, 31, 32], y: [1, 5, 23, 0], p: [1, 0, 1, 1], t: [1, 2, 3, 4] });
    const stats = filterStats();
    const out = await run([e], spatialDownsample(4, geom, stats));
    expect(joined(out)).to.deep.equal({ x: [0, 0, 7], y: [0, 1, 5], p: [1, 0, 1], t: [1, 2, 3] });
    expect(stats).to.deep.equal({ in: 4, out: 3, outOfBounds: 1 });
    expect(downsampledGeometry({ width: 346, height: 260 }, 4)).to.deep.equal({ width: 87, height: 65 });
    expect(toPlain(downsampleBatch(e, 1, { width: 64, height: 64 })).x).to.deep.equal([0, 3, 31, 32]);
  });

  it('gives the same events whatever the batch boundaries', async () => {
    const all = randomEvents(4000, 34, 26, 11); // some events fall outside the 32×24 geometry
    const ops: Array<() => OperatorFunction<EventBatch, EventBatch>> = [
      () => cropRoi({ x: 3, y: 4, width: 20, height: 10 }, { reorigin: true }),
      () => polarityFilter('off'),
      () => refractoryFilter(40, geom),
      () => backgroundActivityFilter(30, geom),
      () => spatialDownsample(3, geom),
    ];
    for (const make of ops) {
      const whole = joined(await run([all], make()));
      for (const seed of [1, 2, 3]) {
        expect(joined(await run(splitRandom(all, seed, 200), make()))).to.deep.equal(whole);
      }
    }
  });
});
