import { expect } from 'chai';
import { softmax } from '../../src/confidence/confidence';
import { calibrate, expectedCalibrationError, fitTemperature, nll, reliabilityBins } from '../../src/confidence/temperature';
import { gaussian, mulberry32, sampleCategorical } from './helpers';

/** Logits z ~ N(0, σ²) and labels drawn from softmax(z/τ*): τ* is the true temperature. */
function synthetic(seed: number, n: number, C: number, tauStar: number, sigma = 4) {
  const rand = mulberry32(seed);
  const logits = new Float32Array(n * C);
  const labels = new Int32Array(n);
  const p = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < C; k++) logits[i * C + k] = gaussian(rand) * sigma;
    softmax(logits.subarray(i * C, (i + 1) * C), 1, tauStar, p);
    labels[i] = sampleCategorical(p, rand);
  }
  return { logits, labels };
}

describe('temperature scaling', () => {
  it('recovers a known τ from synthetic logits (overconfident τ* = 2.5)', () => {
    const { logits, labels } = synthetic(7, 20000, 10, 2.5);
    const fit = fitTemperature(logits, labels, 10);
    expect(fit.atBound).to.equal(null);
    expect(fit.tau).to.be.closeTo(2.5, 0.1);
    expect(fit.nllAfter).to.be.lessThan(fit.nllBefore);
    // It is the minimum: nearby temperatures are worse.
    expect(nll(logits, labels, 10, fit.tau * 1.05)).to.be.greaterThan(fit.nllAfter);
    expect(nll(logits, labels, 10, fit.tau / 1.05)).to.be.greaterThan(fit.nllAfter);
  });

  it('recovers an underconfident τ* = 0.5', () => {
    const { logits, labels } = synthetic(8, 20000, 5, 0.5, 1);
    expect(fitTemperature(logits, labels, 5).tau).to.be.closeTo(0.5, 0.03);
  });

  it('ECE decreases after scaling', () => {
    const { logits, labels } = synthetic(9, 10000, 10, 3);
    const s = calibrate(logits, labels, 10);
    expect(s.eceAfter).to.be.lessThan(s.eceBefore);
    expect(s.eceAfter).to.be.lessThan(0.03);
    expect(s.eceBefore).to.be.greaterThan(0.1);
    const bins = reliabilityBins(logits, labels, 10, 15, { tau: s.tau });
    expect(bins.count.reduce((a, b) => a + b, 0)).to.equal(10000);
  });

  it('ECE of probabilities, and clamping at the bounds', () => {
    // Perfectly calibrated by construction: 4 samples at 0.75 confidence, 3 right.
    const probs = new Float64Array([0.75, 0.25, 0.75, 0.25, 0.75, 0.25, 0.75, 0.25]);
    expect(expectedCalibrationError(probs, [0, 0, 0, 1], 2, 15, { input: 'probs' })).to.be.closeTo(0, 1e-12);
    expect(expectedCalibrationError(probs, [1, 1, 1, 1], 2, 15, { input: 'probs' })).to.be.closeTo(0.75, 1e-12);
    // Separable data: the optimum is τ → 0.
    const sep = fitTemperature(new Float64Array([3, 0, 0, 3]), [0, 1], 2);
    expect(sep.atBound).to.equal('min');
    // Always-wrong logits: τ → ∞.
    const bad = fitTemperature(new Float64Array([3, 0, 0, 3]), [1, 0], 2);
    expect(bad.atBound).to.equal('max');
    expect(() => fitTemperature(new Float64Array([1, 2]), [5], 2)).to.throw(RangeError);
  });
});
