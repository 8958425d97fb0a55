import { expect } from 'chai';
import { Subject, firstValueFrom, toArray, lastValueFrom } from 'rxjs';
import { type EventBatch, concatBatches } from '../../src/events/event-batch';
import { BoundedEventQueue, QueueOverflowError, boundedQueue, fromBoundedQueue } from '../../streams/core/bounded-queue';
import { makeBatch } from '../server/helpers';

const G = { width: 32, height: 32 };

/** A batch whose timestamps are start, start+1, … (to see which events survived). */
function seq(start: number, n: number): EventBatch {
  const b = makeBatch(n, G, start + 1);
  for (let i = 0; i < n; i++) b.t[i] = start + i;
  return b;
}

function drain(q: BoundedEventQueue): number[] {
  const out: number[] = [];
  for (let b = q.pull(); b; b = q.pull()) out.push(...Array.from(b.t.subarray(0, b.length)));
  return out;
}

describe('streams/core/bounded-queue', () => {
  it('refuses bad options', () => {
    expect(() => new BoundedEventQueue({ capacityEvents: 0 })).to.throw(RangeError);
    expect(() => new BoundedEventQueue({ capacityEvents: 10, overflow: 'nope' as never })).to.throw(RangeError);
  });

  it('drop-oldest evicts whole batches, then a prefix of the head, and counts', () => {
    const drops: number[] = [];
    const q = new BoundedEventQueue({ capacityEvents: 10, overflow: 'drop-oldest', onDrop: (n, why) => why === 'overflow' && drops.push(n) });
    expect(q.push(seq(0, 4))).to.equal(4);
    expect(q.push(seq(4, 4))).to.equal(4);
    expect(q.push(seq(8, 5))).to.equal(5); // needs 3 more: evicts 3 of the first batch
    expect(q.stats).to.include({ enqueuedEvents: 13, droppedEvents: 3, sizeEvents: 10, peakEvents: 10 });
    expect(drain(q)).to.deep.equal([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(drops).to.deep.equal([3]);
    // A batch larger than the capacity keeps its newest events.
    q.push(seq(100, 2));
    expect(q.push(seq(200, 15))).to.equal(10);
    expect(drain(q)).to.deep.equal([205, 206, 207, 208, 209, 210, 211, 212, 213, 214]);
    expect(q.stats).to.include({ droppedEvents: 3 + 2 + 5, dequeuedEvents: 20, sizeEvents: 0 });
  });

  it('drop-newest keeps what fits and drops the rest', () => {
    const q = new BoundedEventQueue({ capacityEvents: 10, overflow: 'drop-newest' });
    q.push(seq(0, 8));
    expect(q.push(seq(8, 5))).to.equal(2);
    expect(q.push(seq(13, 1))).to.equal(0);
    expect(q.stats).to.include({ enqueuedEvents: 10, droppedEvents: 4, sizeEvents: 10 });
    expect(drain(q)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(q.push(seq(20, 3))).to.equal(3);
  });

  it("'error' fails after what was queued; later pushes are refused and counted", async () => {
    const q = new BoundedEventQueue({ capacityEvents: 10, overflow: 'error' });
    q.push(seq(0, 6));
    expect(q.push(seq(6, 5))).to.equal(0);
    expect(q.push(seq(11, 2))).to.equal(0);
    expect(q.stats).to.include({ enqueuedEvents: 6, droppedEvents: 7 });
    const first = await q.next();
    expect(first.done).to.equal(false);
    let err: unknown;
    try {
      await q.next();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(QueueOverflowError);
    expect((err as QueueOverflowError).incomingEvents).to.equal(5);
  });

  it('async iteration waits for pushes and ends on complete', async () => {
    const q = new BoundedEventQueue({ capacityEvents: 100 });
    const got: number[] = [];
    const done = (async () => {
      for await (const b of q) got.push(b.length);
    })();
    q.push(seq(0, 3));
    await new Promise((r) => setImmediate(r));
    q.push(seq(3, 4));
    q.complete();
    await done;
    expect(got).to.deep.equal([3, 4]);
    expect(q.push(seq(9, 2))).to.equal(0);
    expect(q.stats.droppedEvents).to.equal(2);
  });

  it('fromBoundedQueue emits everything queued, then completes', async () => {
    const q = new BoundedEventQueue({ capacityEvents: 1000, overflow: 'drop-oldest' });
    for (let i = 0; i < 10; i++) q.push(seq(i * 10, 10));
    q.complete();
    const batches = await lastValueFrom(
      fromBoundedQueue(q, { batchesPerTurn: 3 }).pipe(toArray()),
    );
    expect(concatBatches(batches).length).to.equal(100);
    expect(q.finished).to.equal(true);
  });

  it('a slow consumer makes the queue drop, not memory grow (operator form)', async () => {
    const src = new Subject<EventBatch>();
    let queue: BoundedEventQueue | undefined;
    const seen: number[] = [];
    const done = lastValueFrom(
      src.pipe(boundedQueue({ capacityEvents: 50, overflow: 'drop-oldest', batchesPerTurn: 1, queue: (q) => (queue = q) }), toArray()),
    );
    // The producer pushes 20 batches of 10 synchronously: only the newest 50 events can be waiting.
    for (let i = 0; i < 20; i++) src.next(seq(i * 10, 10));
    src.complete();
    const out = await done;
    for (const b of out) seen.push(...Array.from(b.t.subarray(0, b.length)));
    expect(seen).to.deep.equal(Array.from({ length: 50 }, (_, i) => 150 + i));
    expect(queue!.stats).to.include({ droppedEvents: 150, enqueuedEvents: 200 });
  });

  it('unsubscribing discards what is queued', async () => {
    const q = new BoundedEventQueue({ capacityEvents: 100 });
    q.push(seq(0, 10));
    q.push(seq(10, 10));
    const first = await firstValueFrom(fromBoundedQueue(q, { batchesPerTurn: 1 }));
    expect(first.length).to.equal(10);
    expect(q.stats).to.include({ sizeEvents: 0, droppedEvents: 10 });
    expect(q.closed).to.equal(true);
  });
});
