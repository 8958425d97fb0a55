import { expect } from 'chai';
import { alphaFor, confidence, confidenceBatch, fitAlpha, softmax } from '../../src/confidence/confidence';
import { decide, shouldStop } from '../../src/confidence/decide';
import { gaussian, mulberry32 } from './helpers';

describe('confidence: max softmax(O/(α·τ))', () => {
  it('computes max softmax and argmax', () => {
    expect(confidence(new Float32Array([0, 0])).confidence).to.be.closeTo(0.5, 1e-12);
    const r = confidence(new Float64Array([1, 3, 2]));
    const e = [Math.exp(1), Math.exp(3), Math.exp(2)];
    expect(r.confidence).to.be.closeTo(e[1] / (e[0] + e[1] + e[2]), 1e-12);
    expect(r.predicted).to.equal(1);
  });

  it('is numerically stable for huge outputs and ties take the first index', () => {
    const r = confidence([1e6, 1e6 - 1, -1e6]);
    expect(r.confidence).to.be.closeTo(1 / (1 + Math.exp(-1)), 1e-12);
    expect(confidence([5, 5]).predicted).to.equal(0);
    expect(confidence([Infinity, Infinity, 0]).confidence).to.equal(0.5);
    expect(Number.isNaN(confidence([1, NaN]).confidence)).to.equal(true);
  });

  it('divides by α·τ (α softens the cumulative output)', () => {
    const O = [60, 0, 30];
    expect(confidence(O, 30, 1).confidence).to.be.closeTo(confidence([2, 0, 1]).confidence, 1e-12);
    expect(confidence(O, 10, 3).confidence).to.be.closeTo(confidence([2, 0, 1]).confidence, 1e-12);
    expect(confidence(O).confidence).to.be.greaterThan(0.999999);
    expect(() => confidence(O, 0)).to.throw(RangeError);
    const p = softmax(O, 30);
    expect(p[0] + p[1] + p[2]).to.be.closeTo(1, 1e-12);
    expect(Math.max(...p)).to.be.closeTo(confidence(O, 30).confidence, 1e-12);
  });

  it('batch version matches per-row', () => {
    const rand = mulberry32(1);
    const rows = 7;
    const C = 5;
    const O = new Float32Array(rows * C).map(() => gaussian(rand) * 10);
    const b = confidenceBatch(O, rows, C, 4, 1.5);
    for (let r = 0; r < rows; r++) {
      const one = confidence(O, 4, 1.5, r * C, C);
      expect(b.confidence[r]).to.be.closeTo(one.confidence, 1e-6);
      expect(b.predicted[r]).to.equal(one.predicted);
    }
  });

  it('alphaFor: QCFS → T, QFFS → 2^b − 1', () => {
    expect(alphaFor('QCFS', 27)).to.equal(27);
    expect(alphaFor('QFFS', 4, 2)).to.equal(3);
    expect(alphaFor('QFFS', 6, 3)).to.equal(7);
    expect(() => alphaFor('QFFS', 4, 0)).to.throw(RangeError);
    expect(alphaFor('QFFS', 8, 3, 4)).to.equal(4); // L = 4 levels (not 2^bits − 1): α = L
    expect(() => alphaFor('QFFS', 4, 2, 0)).to.throw(RangeError);
  });

  it('fitAlpha recovers the scale between SNN outputs and ANN logits', () => {
    const rand = mulberry32(2);
    const n = 500;
    const C = 10;
    const z = new Float64Array(n * C).map(() => gaussian(rand) * 2);
    const O = new Float64Array(n * C);
    for (let i = 0; i < n; i++) {
      const shift = gaussian(rand) * 5; // a per-row offset softmax ignores
      for (let k = 0; k < C; k++) O[i * C + k] = 12 * z[i * C + k] + shift + gaussian(rand) * 0.5;
    }
    expect(fitAlpha(O, z, C)).to.be.closeTo(12, 0.1);
  });
});

describe('decide', () => {
  it("stops at the first c_t > θ (the paper's example stops at step 4)", () => {
    const c = [0.2, 0.4, 0.5, 0.9, 0.95];
    const p = [1, 2, 3, 4, 5];
    const d = decide(c, p, 0.8);
    expect(d).to.include({ stepIndex: 3, steps: 4, predicted: 4, early: true });
  });
  it('is strict and runs to T otherwise', () => {
    expect(shouldStop(0.8, 0.8)).to.equal(false);
    expect(shouldStop(0.81, 0.8)).to.equal(true);
    expect(shouldStop(NaN, 0)).to.equal(false);
    const d = decide([0.5, 0.8, 0.7], [0, 1, 2], 0.8);
    expect(d).to.include({ steps: 3, predicted: 2, early: false });
    expect(decide([0.5, 0.6, 0.9], [0, 1, 2], 0.8)).to.include({ steps: 3, early: false });
  });
});
