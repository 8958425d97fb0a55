import { expect } from 'chai';
import { getEventListeners } from 'events';
import { ABORTED, raceAbort } from '../../streams/core/event-source';

describe('raceAbort', () => {
  it('resolves with the promise when it settles first, and rejects with its error', async () => {
    const c = new AbortController();
    expect(await raceAbort(Promise.resolve(7), c.signal)).to.equal(7);
    const err = new Error('boom');
    let caught: unknown;
    await raceAbort(Promise.reject(err), c.signal).catch((e: unknown) => (caught = e));
    expect(caught).to.equal(err);
  });

  it('resolves ABORTED as soon as the signal aborts, every pending race at once, and at once when already aborted', async () => {
    const c = new AbortController();
    const never = new Promise<number>(() => undefined);
    const a = raceAbort(never, c.signal);
    const b = raceAbort(never, c.signal);
    c.abort();
    expect(await a).to.equal(ABORTED);
    expect(await b).to.equal(ABORTED);
    expect(await raceAbort(never, c.signal)).to.equal(ABORTED);
  });

  it('puts one abort listener on a signal however many races run on it (none added per pull)', async () => {
    const c = new AbortController();
    const never = new Promise<number>(() => undefined);
    for (let i = 0; i < 100; i++) void raceAbort(never, c.signal);
    for (let i = 0; i < 100; i++) await raceAbort(Promise.resolve(i), c.signal);
    expect(getEventListeners(c.signal, 'abort')).to.have.length(1);
  });
});
