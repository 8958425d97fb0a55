import { expect } from 'chai';
import { from, Subject } from 'rxjs';
import { toPulledIterator } from '../../streams/core/pull-iterator';

async function drain<T>(it: AsyncIterator<T>): Promise<T[]> {
  const out: T[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value);
  return out;
}

describe('toPulledIterator', () => {
  it('buffers a push source in order, dropping (and counting) the oldest beyond maxBuffered', async () => {
    const stats = { dropped: 0 };
    expect(await drain(toPulledIterator(from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), { maxBuffered: 3, stats }))).to.deep.equal([8, 9, 10]);
    expect(stats.dropped).to.equal(7);
    const many = Array.from({ length: 5000 }, (_, i) => i);
    expect(await drain(toPulledIterator(from(many), { maxBuffered: Infinity }))).to.deep.equal(many);
  });

  it('waits for values that come later, and return() unsubscribes', async () => {
    const s = new Subject<number>();
    const it = toPulledIterator(s);
    const pending = it.next();
    s.next(42);
    expect(await pending).to.deep.equal({ done: false, value: 42 });
    await it.return?.();
    expect(s.observed).to.equal(false);
  });
});
