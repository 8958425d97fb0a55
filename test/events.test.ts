import { expect } from 'chai';
import {
  batchFromArrays,
  concatBatches,
  countOn,
  EventBatchBuilder,
  lowerBoundTime,
  sliceByIndex,
  sliceByTime,
  cloneBatch,
} from '../src/events/event-batch';

describe('EventBatch', () => {
  const b = batchFromArrays({ x: [1, 2, 3, 4], y: [5, 6, 7, 8], p: [1, 0, 1, 1], t: [10, 20, 20, 30] });

  it('slices by index as views on the same memory', () => {
    const s = sliceByIndex(b, 1, 3);
    expect(s.length).to.equal(2);
    expect(Array.from(s.x)).to.deep.equal([2, 3]);
    expect(s.x.buffer).to.equal(b.x.buffer);
    expect(sliceByIndex(b, 3, 99).length).to.equal(1);
    expect(sliceByIndex(b, 5, 2).length).to.equal(0);
  });

  it('slices by time with start <= t < end', () => {
    expect(lowerBoundTime(b, 20)).to.equal(1);
    expect(lowerBoundTime(b, 21)).to.equal(3);
    const s = sliceByTime(b, 20, 30);
    expect(Array.from(s.t)).to.deep.equal([20, 20]);
    expect(sliceByTime(b, 31, 40).length).to.equal(0);
  });

  it('concatenates, counts ON events and clones', () => {
    const c = concatBatches([sliceByIndex(b, 0, 1), sliceByIndex(b, 2, 4)]);
    expect(Array.from(c.x)).to.deep.equal([1, 3, 4]);
    expect(countOn(c)).to.equal(3);
    expect(concatBatches([]).length).to.equal(0);
    const k = cloneBatch(sliceByIndex(b, 1, 2));
    expect(k.x.buffer).to.not.equal(b.x.buffer);
    expect(k.x.length).to.equal(1);
  });

  it('builds batches of unknown size', () => {
    const bb = new EventBatchBuilder(1);
    for (let i = 0; i < 100; i++) bb.push(i, i + 1, i & 1, i * 10);
    bb.append(b);
    const out = bb.take();
    expect(out.length).to.equal(104);
    expect(out.t[99]).to.equal(990);
    expect(out.x[100]).to.equal(1);
    expect(bb.length).to.equal(0);
  });

  it('rejects columns of different lengths', () => {
    expect(() => batchFromArrays({ x: [1], y: [], p: [], t: [] })).to.throw(RangeError);
  });
});
