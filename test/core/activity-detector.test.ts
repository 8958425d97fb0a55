import { expect } from 'chai';
import { ActivityDetector, activityEndIndex } from '../../streams/core/activity-detector';
import type { EventBatch } from '../../src/events/event-batch';
import { mulberry32 } from '../../src/prng';

/** The definition, event by event: the count in (t − W, t] over every event seen so far. */
function reference(times: readonly number[], W: number, thr: number): { above: number[]; quietAfter: number[] } {
  const above: number[] = [];
  const quietAfter: number[] = [];
  let quietFrom = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    let inWindow = 0;
    for (let j = i; j >= 0 && times[j] > t - W; j--) inWindow++;
    if (inWindow >= thr) quietFrom = times[i - thr + 1] + W; // the thr-th newest
    above.push(inWindow >= thr ? 1 : 0);
    quietAfter.push(quietFrom);
  }
  return { above, quietAfter };
}

function batchOf(ts: readonly number[]): EventBatch {
  const n = ts.length;
  return { x: new Uint16Array(n), y: new Uint16Array(n), p: new Uint8Array(n), t: Float64Array.from(ts), length: n };
}

/** Bursty monotone times: gaps of 1–30 µs inside bursts, 5–200 ms between them, repeats included. */
function burstyTimes(rand: () => number, n: number): number[] {
  const ts: number[] = [];
  let t = 1000;
  for (let i = 0; i < n; i++) {
    t += rand() < 0.02 ? 5000 + Math.floor(rand() * 195_000) : Math.floor(rand() * 30);
    ts.push(t);
  }
  return ts;
}

describe('ActivityDetector', () => {
  it('gives the definition\'s verdict and quiet time for every event, however the events are split into batches', () => {
    const rand = mulberry32(7);
    for (const [W, thr] of [[50_000, 150], [1000, 1], [2000, 7], [300, 40]] as const) {
      const ts = burstyTimes(rand, 3000);
      const want = reference(ts, W, thr);
      const d = new ActivityDetector(W, thr);
      const above: number[] = [];
      const quietAfter: number[] = [];
      for (let i = 0; i < ts.length; ) {
        const n = 1 + Math.floor(rand() * 200);
        const scan = d.scan(batchOf(ts.slice(i, i + n)));
        expect(scan.quietBefore0).to.equal(i === 0 ? -Infinity : quietAfter[i - 1]);
        above.push(...scan.above);
        quietAfter.push(...scan.quietAfter);
        i += n;
      }
      expect(above, `W ${W} level ${thr}`).to.deep.equal(want.above);
      expect(quietAfter, `W ${W} level ${thr}`).to.deep.equal(want.quietAfter);
    }
  });

  it('snapshot holds the newest times inside the window (at most the level), and a restored detector goes on the same way', () => {
    const rand = mulberry32(11);
    const ts = burstyTimes(rand, 2000);
    const W = 2000;
    const thr = 12;
    const a = new ActivityDetector(W, thr);
    a.scan(batchOf(ts.slice(0, 977)));
    const snap = a.snapshot();
    const last = ts[976];
    const inWindow = ts.slice(0, 977).filter((t) => t > last - W);
    expect(snap.times).to.deep.equal(inWindow.slice(-thr));
    const b = new ActivityDetector(W, thr);
    b.restore(JSON.parse(JSON.stringify(snap)) as typeof snap);
    expect(b.snapshot()).to.deep.equal(snap);
    const rest = batchOf(ts.slice(977));
    const sa = a.scan(rest);
    const sb = b.scan(rest);
    expect([...sb.above]).to.deep.equal([...sa.above]);
    expect([...sb.quietAfter]).to.deep.equal([...sa.quietAfter]);
  });

  it('restore refuses more times than the level, or times going back', () => {
    const d = new ActivityDetector(1000, 2);
    expect(() => d.restore({ times: [1, 2, 3], quietFrom: 0 })).to.throw(RangeError, '3 times for a level of 2');
    expect(() => d.restore({ times: [5, 4], quietFrom: 0 })).to.throw(RangeError, 'non-decreasing');
  });

  it('activityEndIndex: a sample ends at the first event at or past its quiet-gap end', () => {
    const d = new ActivityDetector(100, 2);
    const b = batchOf([0, 10, 20, 500, 510]);
    const scan = d.scan(b);
    // Level reached at 10 (quiet from 0 + 100 = 100), at 20 (from 110); a sample started at 10 looks from 20 on: the event at 500 is past 110 + 300 = 410.
    expect(activityEndIndex(b, scan, 2, 300, Infinity)).to.equal(3);
    expect(activityEndIndex(b, scan, 2, 300, 15)).to.equal(2);
  });
});
