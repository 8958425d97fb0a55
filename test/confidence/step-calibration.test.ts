import { expect } from 'chai';
import { confidence } from '../../src/confidence/confidence';
import { shouldStop, stopIndex } from '../../src/confidence/decide';
import { eceInterval, expectedCalibrationErrorOf, reliabilityDiagram } from '../../src/confidence/reliability';
import {
  calibratedConfidence,
  chooseStepCalibration,
  concatRows,
  constantScale,
  fitPerStep,
  fitPower,
  rowConfidences,
  rowsFromOutputs,
  rowsNll,
  selectRows,
  stepScale,
  type StepCalibration,
} from '../../src/confidence/step-calibration';
import { evaluateThreshold } from '../../src/confidence/threshold';
import { traceWithStepScales } from '../../src/confidence/trace';
import { gaussian, mulberry32 } from './helpers';

/**
 * Outputs whose top class is right with probability exactly max softmax(O_t/s_t): rows drawn from a
 * known calibration, so that a fit must recover it.
 */
function synthetic(n: number, T: number, C: number, trueScale: (t: number) => number, seed = 3): { outputs: Float32Array; labels: Int32Array } {
  const rand = mulberry32(seed);
  const g = () => gaussian(rand);
  const outputs = new Float32Array(n * T * C);
  const labels = new Int32Array(n * T);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      const o = (i * T + t) * C;
      // Logits that grow with t, like a cumulative SNN output.
      for (let k = 0; k < C; k++) outputs[o + k] = (t + 1) * (g() * 1.5 + (k === 0 ? 1.2 : 0));
      const r = confidence(outputs.subarray(o, o + C), trueScale(t));
      // The top class is right with probability q; otherwise some other class is.
      labels[i * T + t] = rand() < r.confidence ? r.predicted : (r.predicted + 1) % C;
    }
  }
  return { outputs, labels };
}

describe('step calibration: the probability that the shown class is right', () => {
  it('rows hold O_t centred on its maximum and whether argmax O_t is right; no-gesture steps (−1) are wrong', () => {
    const outputs = new Float32Array([1, 3, 2, /* step 1 */ 4, 0, 1]);
    const rows = rowsFromOutputs(outputs, 1, 2, 3, (_i, t) => (t === 0 ? 1 : -1));
    expect(Array.from(rows.centred)).to.deep.equal([-2, 0, -1, 0, -4, -3]);
    expect(Array.from(rows.correct)).to.deep.equal([1, 0]);
    expect(Array.from(rows.step)).to.deep.equal([0, 1]);
    const both = concatRows([rows, rowsFromOutputs(outputs, 1, 2, 3, () => 0, 7)]);
    expect(both.n).to.equal(4);
    expect(Array.from(both.group)).to.deep.equal([0, 0, 7, 7]);
    expect(selectRows(both, (r) => both.group[r] === 7).n).to.equal(2);
    expect(() => rowsFromOutputs(outputs, 2, 2, 3, () => 0)).to.throw(RangeError);
  });

  it('the per-step fit recovers the scales the outcomes were drawn from', () => {
    const T = 4;
    const truth = [1.5, 4, 9, 20];
    const { outputs, labels } = synthetic(3000, T, 5, (t) => truth[t]);
    const rows = rowsFromOutputs(outputs, 3000, T, 5, (i, t) => labels[i * T + t]);
    const cal = fitPerStep(rows, T);
    cal.scales.forEach((s, t) => expect(s / truth[t]).to.be.within(0.85, 1.18));
    // The fit lowers the NLL against a constant scale, and the fitted confidences are calibrated.
    expect(rowsNll(rows, cal)).to.be.below(rowsNll(rows, constantScale(6, T)));
    expect(expectedCalibrationErrorOf(rowConfidences(rows, cal), rows.correct)).to.be.below(0.03);
  });

  it('the power fit recovers s_t = a·(t+1)^b', () => {
    const T = 6;
    const { outputs, labels } = synthetic(1500, T, 4, (t) => 2 * Math.pow(t + 1, 1.3), 5);
    const rows = rowsFromOutputs(outputs, 1500, T, 4, (i, t) => labels[i * T + t]);
    const cal = fitPower(rows, T);
    expect(cal.form).to.equal('power');
    expect(cal.power!.b).to.be.closeTo(1.3, 0.15);
    expect(cal.power!.a).to.be.closeTo(2, 0.5);
    expect(cal.scales[3]).to.be.closeTo(cal.power!.a * Math.pow(4, cal.power!.b), 1e-9);
  });

  it('chooses the form with the lower held-out ECE, refits it on all rows and reports the paper scale beside it', () => {
    const T = 4;
    const { outputs, labels } = synthetic(800, T, 5, (t) => [1, 6, 2, 12][t], 9);
    const rows = rowsFromOutputs(outputs, 800, T, 5, (i, t) => labels[i * T + t]);
    const c = chooseStepCalibration(rows, T, 5);
    const other = c.calibration.form === 'power' ? 'per-step' : 'power';
    expect(c.heldOut[c.calibration.form].ece).to.be.at.most(c.heldOut[other].ece);
    // Scales that jump up and down are no power law: the per-step form wins.
    expect(c.calibration.form).to.equal('per-step');
    expect(c.heldOut.paper!.ece).to.be.above(c.heldOut['per-step'].ece);
    expect(c.inSample.paperEce).to.be.above(c.inSample.ece);
    expect([c.rows, c.samples]).to.deep.equal([3200, 800]);
  });

  it('applies a calibration to one output and extrapolates past the fitted steps like O_t grows', () => {
    const cal: StepCalibration = { method: 'step-temperature', form: 'per-step', scales: [2, 4] };
    const O = new Float32Array([1, 5, 2]);
    expect(calibratedConfidence(O, 1, cal).confidence).to.be.closeTo(confidence(O, 4).confidence, 1e-12);
    expect(calibratedConfidence(O, 1, cal).predicted).to.equal(1);
    expect(stepScale(cal, 3)).to.equal(8);
    expect(stepScale({ ...cal, form: 'power', power: { a: 1, b: 2 } }, 4)).to.equal(25);
    // The paper's c_t is the constant scale α·τ.
    expect(calibratedConfidence(O, 0, constantScale(3, 2)).confidence).to.be.closeTo(confidence(O, 3).confidence, 1e-12);
    expect(() => constantScale(0, 2)).to.throw(RangeError);
  });

  it('a calibrated trace stops at q ≥ θ, the paper trace at c > θ', () => {
    expect([shouldStop(0.5, 0.5, 'calibrated'), shouldStop(0.5, 0.5, 'paper'), shouldStop(0.5, 0.5)]).to.deep.equal([true, false, false]);
    expect(shouldStop(NaN, 0, 'calibrated')).to.equal(false);
    // θ = 1 means never early under both rules, even when a saturated softmax rounds q to exactly 1.
    expect([shouldStop(1, 1, 'calibrated'), shouldStop(1, 1, 'paper')]).to.deep.equal([false, false]);
    expect(stopIndex([1, 1, 1], 1, 3, 0, true)).to.equal(2);
    expect([stopIndex([0.5, 0.9], 0.5, 2, 0, true), stopIndex([0.5, 0.9], 0.5, 2, 0, false)]).to.deep.equal([0, 1]);
    // Two classes, O = (0, ln 3): q = 3/4 at scale 1.
    const outputs = new Float32Array([0, Math.log(3), 0, Math.log(3)]);
    const trace = traceWithStepScales(outputs, [1], 2, 2, () => 1);
    expect(trace.inclusive).to.equal(true);
    expect(trace.confidence[0]).to.be.closeTo(0.75, 1e-6);
    expect(evaluateThreshold(trace, Math.fround(0.75)).meanSteps).to.equal(1);
    expect(evaluateThreshold({ ...trace, inclusive: false }, Math.fround(0.75)).meanSteps).to.equal(2);
  });
});

describe('reliability: ECE and its bootstrap interval', () => {
  it('bins (lo, hi] by confidence and weighs |accuracy − confidence| by the bin’s share', () => {
    const conf = [0.95, 0.95, 0.95, 0.95, 0.35, 0.35];
    const ok = [1, 1, 1, 0, 0, 1];
    // Bin (0.9, 1]: 4 pairs, accuracy 0.75 vs 0.95; bin (0.3, 0.4]: 2 pairs, accuracy 0.5 vs 0.35.
    const expected = (4 * 0.2 + 2 * 0.15) / 6;
    expect(expectedCalibrationErrorOf(conf, ok)).to.be.closeTo(expected, 1e-12);
    const d = reliabilityDiagram(conf, ok);
    expect(d.count[9]).to.equal(4);
    expect(d.count[3]).to.equal(2);
    expect(d.accuracy[0]).to.equal(null);
    expect(d.accuracy[9]).to.be.closeTo(0.75, 1e-12);
    expect(d.ece).to.be.closeTo(expected, 1e-12);
    expect(reliabilityDiagram([1], [1]).count[9]).to.equal(1);
    expect(() => expectedCalibrationErrorOf([0.5], [])).to.throw(RangeError);
  });

  it('the interval holds the estimate, shrinks with more pairs, and resamples a group’s pairs together', () => {
    const rand = mulberry32(4);
    const make = (n: number) => {
      const c: number[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const q = 0.5 + 0.5 * rand();
        c.push(q);
        y.push(rand() < q ? 1 : 0);
      }
      return { c, y };
    };
    const small = make(200);
    const large = make(5000);
    const a = eceInterval(small.c, small.y, undefined, { resamples: 400 });
    const b = eceInterval(large.c, large.y, undefined, { resamples: 400 });
    expect(a.lo).to.be.at.most(a.value);
    expect(a.hi).to.be.at.least(a.value);
    expect(b.hi - b.lo).to.be.below(a.hi - a.lo);
    // Every pair duplicated 8 times in one group: the same interval as the 200 pairs alone, not a narrower one.
    const c8 = small.c.flatMap((q) => new Array<number>(8).fill(q));
    const y8 = small.y.flatMap((v) => new Array<number>(8).fill(v));
    const g8 = small.c.flatMap((_q, i) => new Array<number>(8).fill(i));
    const grouped = eceInterval(c8, y8, g8, { resamples: 400 });
    const ungrouped = eceInterval(c8, y8, undefined, { resamples: 400 });
    expect(grouped.value).to.be.closeTo(a.value, 1e-12);
    expect(grouped.hi - grouped.lo).to.be.above(2 * (ungrouped.hi - ungrouped.lo));
  });
});
