import { expect } from 'chai';
import { ABORTED, KeptRead, raceIdleAbort } from '../../streams/core/event-source';

describe('raceIdleAbort: a pending read, an idle limit and an abort', () => {
  it('gives the value when it comes first, with or without an idle limit', async () => {
    const signal = new AbortController().signal;
    expect(await raceIdleAbort(Promise.resolve(7), signal)).to.equal(7);
    expect(await raceIdleAbort(Promise.resolve(8), signal, 1000)).to.equal(8);
  });

  it("says 'idle' when nothing came in time, and the same pending read still delivers afterwards", async () => {
    const signal = new AbortController().signal;
    let deliver!: (v: string) => void;
    const pending = new Promise<string>((resolve) => (deliver = resolve));
    expect(await raceIdleAbort(pending, signal, 5)).to.equal('idle');
    const again = raceIdleAbort(pending, signal, 1000);
    deliver('batch');
    expect(await again).to.equal('batch');
  });

  it('gives ABORTED as soon as the signal aborts, and at once when it already has', async () => {
    const ac = new AbortController();
    const never = new Promise<number>(() => undefined);
    const raced = raceIdleAbort(never, ac.signal, 60_000);
    ac.abort();
    expect(await raced).to.equal(ABORTED);
    expect(await raceIdleAbort(never, ac.signal, 60_000)).to.equal(ABORTED);
  });

  it('passes the read’s error on', async () => {
    const err = new Error('read failed');
    let caught: unknown;
    await raceIdleAbort(Promise.reject(err), new AbortController().signal, 1000).catch((e: unknown) => (caught = e));
    expect(caught).to.equal(err);
  });
});

describe('KeptRead: iterator reads an idle limit or an abort may cut short', () => {
  it('takes up the read left pending, so no value is lost or read twice', async () => {
    let reads = 0;
    let deliver!: (v: IteratorResult<string>) => void;
    const kept = new KeptRead<string>(() => {
      reads++;
      return new Promise((resolve) => (deliver = resolve));
    });
    const signal = new AbortController().signal;
    expect(await kept.next(signal, 5)).to.equal('idle');
    const ac = new AbortController();
    const aborted = kept.next(ac.signal);
    ac.abort();
    expect(await aborted).to.equal(ABORTED);
    expect(reads, 'one read, still pending').to.equal(1);
    const got = kept.next(signal, 1000);
    deliver({ done: false, value: 'a' });
    expect(await got).to.deep.equal({ done: false, value: 'a' });
    void kept.next(signal, 1000);
    expect(reads, 'a new read once the first was taken').to.equal(2);
    deliver({ done: true, value: undefined });
  });
});
