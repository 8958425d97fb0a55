import { expect } from 'chai';
import { chooseThetaByRule, perSampleAt, THETA_GRIDS, thetaOutcome, transferRule } from '../../src/confidence/theta-rules';
import { EXTENDED_THETA_GRID, PAPER_THETA_GRID } from '../../src/confidence/threshold';
import { traceFromArrays, truncateTrace, type ConfidenceTrace } from '../../src/confidence/trace';

/**
 * 100 samples × 4 steps. 80 easy samples: confident (0.95) and right from step 1. 20 hard ones:
 * confidence 0.55, 0.75, 0.9, 0.92; their answer at step 1 differs from step 2..T for `lost` samples
 * (right at T, wrong at step 1) and `gained` ones (wrong at T, right at step 1); from step 2 on it is
 * their answer at T.
 */
function twoGroups(lost: number, gained: number): ConfidenceTrace {
  const n = 100;
  const T = 4;
  const conf = new Float32Array(n * T);
  const pred = new Int16Array(n * T);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const hard = i >= 80;
    const c = hard ? [0.55, 0.75, 0.9, 0.92] : [0.95, 0.97, 0.98, 0.99];
    const j = i - 80;
    const rightAtT = !hard || j >= gained; // the first `gained` hard samples are wrong at T
    const rightAt1 = hard && j < gained ? true : hard && j >= gained && j < gained + lost ? false : rightAtT;
    for (let t = 0; t < T; t++) {
      conf[i * T + t] = c[t];
      const right = t === 0 ? rightAt1 : rightAtT;
      pred[i * T + t] = right ? 0 : 1;
    }
  }
  return traceFromArrays(conf, pred, labels, T);
}

describe('θ rules: the paper rule and the non-inferior rule, and their transfer', () => {
  it('grids are named for what they are', () => {
    expect(THETA_GRIDS.paper).to.equal(PAPER_THETA_GRID);
    expect(PAPER_THETA_GRID).to.have.length(11);
    expect(THETA_GRIDS.extended).to.equal(EXTENDED_THETA_GRID);
    expect(EXTENDED_THETA_GRID.filter((g) => !PAPER_THETA_GRID.includes(g))).to.deep.equal([0.95, 0.99]);
  });

  it('perSampleAt and thetaOutcome: per-sample correctness and steps at θ, with the paired comparison', () => {
    const tr = twoGroups(3, 3);
    const s = perSampleAt(tr, 0.5);
    expect(Array.from(s.steps.subarray(0, 3))).to.deep.equal([1, 1, 1]);
    let ok = 0;
    let okFull = 0;
    for (let i = 0; i < 100; i++) {
      ok += s.ok[i];
      okFull += s.okFull[i];
    }
    expect(okFull).to.equal(97);
    expect(ok).to.equal(97); // 3 lost, 3 gained
    const o = thetaOutcome(tr, 0.5, { resamples: 300 });
    expect(o.accuracy).to.equal(0.97);
    expect(o.accFullT).to.equal(0.97);
    expect(o.meanSteps).to.equal(1);
    expect(o.comparison.mcnemar.b + o.comparison.mcnemar.c).to.equal(6);
    expect(o.comparison.accuracyDiff.lo).to.be.below(-0.01);
  });

  it('the paper rule takes the lucky zero-difference point; the non-inferior rule waits for evidence', () => {
    const val = twoGroups(3, 3);
    const paper = chooseThetaByRule(val, 'paper', { bootstrap: { resamples: 500 } });
    // Every θ ≤ 0.5 stops everyone at step 1 with no net loss: the highest of them is reported.
    expect(paper.theta).to.equal(0.5);
    expect(paper.grid).to.equal('paper');
    expect(paper.validation.meanSteps).to.equal(1);
    expect(paper.validation.comparison.accuracyDiff.value).to.equal(0);
    const ni = chooseThetaByRule(val, 'non-inferior', { bootstrap: { resamples: 500 } });
    // θ = 0.7 stops the hard samples at step 2, where their answers are final: the interval is [0, 0].
    expect(ni.theta).to.equal(0.7);
    expect(ni.tolerance).to.equal(0.01);
    expect(ni.validation.meanSteps).to.be.closeTo(1.2, 1e-12);
    expect(ni.validation.comparison.accuracyDiff).to.deep.equal({ value: 0, lo: 0, hi: 0 });
    // A wide margin accepts the cheap point; ε lets the paper rule lose.
    expect(chooseThetaByRule(val, 'non-inferior', { maxLoss: 0.2, bootstrap: { resamples: 500 } }).theta).to.equal(0.5);
    expect(chooseThetaByRule(val, 'paper', { grid: 'extended' }).grid).to.equal('extended');
    expect(() => chooseThetaByRule(val, 'non-inferior', { maxLoss: 1 })).to.throw(RangeError);
    // θ = 1 (never early) is always acceptable.
    const allLost = twoGroups(20, 0);
    const strict = chooseThetaByRule(allLost, 'non-inferior', { maxLoss: 0, bootstrap: { resamples: 200 } });
    expect(strict.validation.comparison.accuracyDiff.lo).to.be.at.least(0);
  });

  it('transferRule: the same θ on a test split where the hard samples lose more', () => {
    const val = twoGroups(3, 3);
    const test = twoGroups(5, 1);
    const paper = transferRule(chooseThetaByRule(val, 'paper', { bootstrap: { resamples: 300 } }), test, { resamples: 300 });
    const ni = transferRule(chooseThetaByRule(val, 'non-inferior', { bootstrap: { resamples: 300 } }), test, { resamples: 300 });
    expect(paper.test.comparison.accuracyDiff.value).to.be.closeTo(-0.04, 1e-12);
    expect(paper.diffGap).to.be.closeTo(-0.04, 1e-12);
    expect(ni.test.comparison.accuracyDiff.value).to.equal(0);
    expect(ni.diffGap).to.equal(0);
    expect(ni.stepsGap).to.be.closeTo(0, 1e-12);
  });

  it('truncateTrace keeps the first steps of every sample', () => {
    const tr = twoGroups(3, 3);
    const t2 = truncateTrace(tr, 2);
    expect(t2.steps).to.equal(2);
    expect(Array.from(t2.confidence.subarray(0, 2))).to.deep.equal(Array.from(tr.confidence.subarray(0, 2)));
    expect(t2.predicted[81 * 2 + 1]).to.equal(tr.predicted[81 * 4 + 1]);
    expect(truncateTrace(tr, 4)).to.equal(tr);
    expect(() => truncateTrace(tr, 5)).to.throw(RangeError);
  });
});
