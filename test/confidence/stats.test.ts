import { expect } from 'chai';
import { bootstrapMeans, comparePaired, mcnemar, mcnemarOf, noLossStatement, wilson, wilsonOfAccuracy } from '../../src/confidence/stats';
import { mulberry32 } from './helpers';

describe('confidence stats: Wilson, McNemar, paired bootstrap', () => {
  it('Wilson 95 % intervals match the closed form, stay in [0, 1] and contain the estimate', () => {
    const w = wilson(8, 10);
    expect(w.value).to.equal(0.8);
    expect(w.lo).to.be.closeTo(0.490162, 1e-6);
    expect(w.hi).to.be.closeTo(0.943318, 1e-6);
    expect(wilson(0, 20).lo).to.equal(0);
    expect(wilson(0, 20).hi).to.be.closeTo(0.161125, 1e-6);
    const all = wilson(234, 234);
    expect(all.hi).to.equal(1);
    expect(all.lo).to.be.closeTo(0.983849, 1e-6);
    expect(wilsonOfAccuracy(229 / 234, 234).lo).to.be.closeTo(0.950964, 1e-6);
    expect(Number.isNaN(wilson(0, 0).lo)).to.equal(true);
    expect(() => wilson(11, 10)).to.throw(RangeError);
    // Wider for fewer samples.
    expect(wilson(80, 100).hi - wilson(80, 100).lo).to.be.lessThan(w.hi - w.lo);
  });

  it('exact McNemar: binomial tail of the discordant counts, two-sided, capped at 1', () => {
    expect(mcnemar(1, 9).p).to.be.closeTo((2 * 11) / 1024, 1e-12);
    expect(mcnemar(9, 1).p).to.be.closeTo((2 * 11) / 1024, 1e-12);
    expect(mcnemar(0, 0).p).to.equal(1);
    expect(mcnemar(5, 5).p).to.equal(1);
    expect(mcnemar(0, 30).p).to.be.closeTo(2 * 0.5 ** 30, 1e-20);
    // Large counts stay finite (log-space sums).
    const big = mcnemar(4800, 5200).p;
    expect(big).to.be.within(1e-6, 1e-3);
    const m = mcnemarOf([1, 1, 0, 0, 1], [1, 0, 1, 1, 1]);
    expect([m.b, m.c]).to.deep.equal([1, 2]);
    expect(() => mcnemar(-1, 2)).to.throw(RangeError);
  });

  it('paired bootstrap: seeded, the same resamples for every column, percentile intervals around the mean', () => {
    const rand = mulberry32(7);
    const x = Float64Array.from({ length: 400 }, () => (rand() < 0.9 ? 1 : 0));
    const y = Float64Array.from(x, (v) => 2 * v + 1); // an exact function of x
    const [a, b] = bootstrapMeans([x, y], { resamples: 500, seed: 3 });
    const [a2] = bootstrapMeans([x], { resamples: 500, seed: 3 });
    expect(a2).to.deep.equal(a); // same seed, same intervals
    expect(bootstrapMeans([x], { resamples: 500, seed: 4 })[0]).to.not.deep.equal(a);
    // Same resampled indices: y's bounds are exactly 2·x's + 1.
    expect(b.lo).to.be.closeTo(2 * a.lo + 1, 1e-12);
    expect(b.hi).to.be.closeTo(2 * a.hi + 1, 1e-12);
    expect(a.value).to.be.within(a.lo, a.hi);
    // About the normal-approximation width ±1.96·√(p(1−p)/n).
    const se = Math.sqrt((a.value * (1 - a.value)) / 400);
    expect(a.hi - a.lo).to.be.closeTo(2 * 1.96 * se, 0.4 * 2 * 1.96 * se);
    // A constant column has a zero-width interval.
    const [c] = bootstrapMeans([new Float64Array(50).fill(2)], { resamples: 100 });
    expect([c.lo, c.value, c.hi]).to.deep.equal([2, 2, 2]);
    expect(() => bootstrapMeans([x, y.subarray(1)])).to.throw(RangeError);
    expect(() => bootstrapMeans([x], { level: 1 })).to.throw(RangeError);
  });

  it('comparePaired and the "no loss" statement say what the interval excludes', () => {
    const n = 300;
    const okFull = new Uint8Array(n).fill(1);
    const steps = new Float64Array(n).fill(3);
    // Identical answers: not one sample changed.
    const same = comparePaired(okFull, okFull, steps, { resamples: 200 });
    expect(same.accuracyDiff).to.deep.equal({ value: 0, lo: 0, hi: 0 });
    expect(same.meanSteps.value).to.equal(3);
    expect(noLossStatement(same)).to.match(/not one sample changed its answer/);
    // Two lost, two gained: no significant difference; the excluded loss is the lower bound.
    const mixed = Uint8Array.from(okFull);
    mixed[0] = 0;
    mixed[1] = 0;
    const full2 = Uint8Array.from(okFull);
    full2[2] = 0;
    full2[3] = 0;
    const c = comparePaired(mixed, full2, steps, { resamples: 1000 });
    expect(c.mcnemar.b).to.equal(2);
    expect(c.mcnemar.c).to.equal(2);
    expect(c.accuracyDiff.value).to.equal(0);
    expect(c.accuracyDiff.lo).to.be.below(0);
    expect(noLossStatement(c)).to.match(/no significant difference; a loss larger than \d\.\d\d points is excluded at 95 %/);
    // Thirty lost: a significant loss.
    const worse = Uint8Array.from(okFull).fill(0, 0, 30);
    const l = comparePaired(worse, okFull, steps, { resamples: 1000 });
    expect(l.accuracyDiff.value).to.be.closeTo(-0.1, 1e-12);
    expect(l.accuracyDiff.hi).to.be.below(0);
    expect(noLossStatement(l)).to.match(/^−10\.00 points .*a loss, significant at 95 %/);
    expect(noLossStatement(comparePaired(okFull, worse, steps, { resamples: 1000 }))).to.match(/a gain, significant/);
  });
});
