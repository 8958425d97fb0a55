import { expect } from 'chai';
import {
  chooseTheta,
  curvePoint,
  curvePoints,
  evaluateThreshold,
  gridCurve,
  lookupTheta,
  paretoFront,
  PAPER_THETA_GRID,
  terminationSteps,
  thresholdCurve,
  type CurvePoint,
} from '../../src/confidence/threshold';
import { createTrace, traceFromArrays, type ConfidenceTrace } from '../../src/confidence/trace';
import { mulberry32 } from './helpers';

const f = Math.fround;

/** 3 samples × 3 steps with hand-computed answers (see comments). */
function handTrace(): ConfidenceTrace {
  return traceFromArrays(
    new Float32Array([0.3, 0.6, 0.9, 0.8, 0.5, 0.7, 0.2, 0.4, 0.4]),
    new Int16Array([1, 0, 0, 1, 1, 1, 2, 0, 2]),
    [0, 1, 2],
    3,
  );
}

describe('threshold search: exact curve', () => {
  it('matches hand-computed breakpoints, accuracies and mean steps', () => {
    const c = thresholdCurve(handTrace());
    const pts = curvePoints(c);
    // θ ≥ 0.8: everyone at T (the 0.9 record of sample 0 is at step 3 anyway) → merged.
    const expected: [number, number, number, number][] = [
      // thetaMin, thetaMax, accuracy, meanSteps
      [f(0.8), Infinity, 1, 3],
      [f(0.6), f(0.8), 1, 7 / 3],
      [f(0.4), f(0.6), 1, 2],
      [f(0.3), f(0.4), 2 / 3, 5 / 3],
      [f(0.2), f(0.3), 1 / 3, 4 / 3],
      [-Infinity, f(0.2), 2 / 3, 1],
    ];
    expect(pts.length).to.equal(expected.length);
    expected.forEach(([lo, hi, acc, ms], k) => {
      expect(pts[k].thetaMin).to.equal(lo);
      expect(pts[k].thetaMax).to.equal(hi);
      expect(pts[k].accuracy).to.be.closeTo(acc, 1e-12);
      expect(pts[k].meanSteps).to.be.closeTo(ms, 1e-12);
    });
    expect(pts[0].theta).to.equal(1);
    expect(pts[5].theta).to.equal(0);
    expect(pts[2].theta).to.be.closeTo(0.5, 1e-6);
  });

  it('Pareto front and chooseTheta on the hand trace', () => {
    const c = thresholdCurve(handTrace());
    const pf = paretoFront(c);
    expect(pf.map((p) => [p.accuracy, p.meanSteps])).to.deep.equal([
      [2 / 3, 1],
      [1, 2],
    ]);
    // Generic (sorting) path agrees.
    expect(paretoFront(curvePoints(c)).map((p) => p.meanSteps)).to.deep.equal([1, 2]);
    const best = chooseTheta(c, 1)!;
    expect(best.meanSteps).to.equal(2);
    expect(best.accuracy).to.equal(1);
    expect(best.thetaMin).to.equal(f(0.4));
    expect(evaluateThreshold(handTrace(), best.theta).meanSteps).to.equal(2);
    expect(chooseTheta(c)!.meanSteps).to.equal(2); // full-T accuracy taken from the curve
    expect(chooseTheta(c, 1, 0.34)!.meanSteps).to.equal(1);
    expect(chooseTheta(c, 1, 0.34)!.theta).to.equal(0);
  });

  it('grid search and lookup agree with the exact curve', () => {
    const t = handTrace();
    const c = thresholdCurve(t);
    const g = gridCurve(t, PAPER_THETA_GRID);
    expect(g.length).to.equal(11);
    expect(g[5]).to.include({ theta: 0.5, accuracy: 1, meanSteps: 2 });
    expect(g[1].meanSteps).to.equal(1);
    expect(g[10].meanSteps).to.equal(3);
    for (const p of g) {
      const q = lookupTheta(c, p.theta);
      expect(q.correct).to.equal(p.correct);
      expect(q.meanSteps).to.be.closeTo(p.meanSteps, 1e-12);
    }
    // Confidences are stored as Float32: f32(0.4) > 0.4, so θ = 0.4 lets sample 2 stop at its
    // 0.4 (wrong) step; θ = 0.5 and 0.6 tie at 100% / 2 steps and the higher θ wins the tie.
    expect(g[4]).to.include({ theta: 0.4, meanSteps: 5 / 3 });
    expect(chooseTheta(g, 1)!.theta).to.equal(0.6);
    expect(chooseTheta(g.slice(0, 3), 1)).to.equal(undefined);
    expect(Array.from(terminationSteps(t, 0.5))).to.deep.equal([2, 1, 3]);
  });

  it('equals brute force on random traces (ties, NaN, T = 1 included)', () => {
    const rand = mulberry32(12345);
    for (let trial = 0; trial < 120; trial++) {
      const n = 1 + Math.floor(rand() * 40);
      const T = 1 + Math.floor(rand() * 12);
      const levels = 2 + Math.floor(rand() * 20); // few levels → many ties
      const trace = createTrace(n, T, Array.from({ length: n }, () => Math.floor(rand() * 4)), 4);
      for (let j = 0; j < n * T; j++) {
        const r = rand();
        trace.confidence[j] = r < 0.03 ? NaN : Math.floor(rand() * levels) / levels + (trial % 2 ? rand() * 1e-3 : 0);
        trace.predicted[j] = Math.floor(rand() * 4);
      }
      const c = thresholdCurve(trace);
      // Every point is reproduced by its representative θ and by both ends of its interval.
      for (let k = 0; k < c.length; k++) {
        const p = curvePoint(c, k);
        for (const th of [p.theta, p.thetaMin]) {
          if (!Number.isFinite(th)) continue;
          const b = evaluateThreshold(trace, th);
          expect(b.correct, `trial ${trial} k ${k} θ ${th}`).to.equal(p.correct);
          expect(b.meanSteps).to.be.closeTo(p.meanSteps, 1e-9);
          expect(b.earlyFraction).to.be.closeTo(p.earlyFraction, 1e-12);
        }
        if (k > 0) {
          expect(c.thetaMax[k]).to.equal(c.thetaMin[k - 1]);
          expect(c.totalSteps[k]).to.be.lessThan(c.totalSteps[k - 1]);
        }
      }
      expect(c.thetaMax[0]).to.equal(Infinity);
      expect(c.thetaMin[c.length - 1]).to.equal(-Infinity);
      // Any θ (all values, ±tiny offsets, outside the range) looks up the brute-force answer.
      const probes = new Set<number>([-1, 0, 1, 2]);
      for (const v of trace.confidence) if (v === v) [v, v + 1e-7, v - 1e-7].forEach((x) => probes.add(x));
      for (const th of probes) {
        const b = evaluateThreshold(trace, th);
        const q = lookupTheta(c, th);
        expect(q.correct, `trial ${trial} θ ${th}`).to.equal(b.correct);
        expect(q.meanSteps).to.be.closeTo(b.meanSteps, 1e-9);
      }
      // Pareto: fast sweep equals the definition (no other point dominates).
      const all = curvePoints(c);
      const pf = paretoFront(c);
      const dominated = (p: CurvePoint) =>
        all.some((q) => q.accuracy >= p.accuracy && q.meanSteps <= p.meanSteps && (q.accuracy > p.accuracy || q.meanSteps < p.meanSteps));
      const brute = all.filter((p) => !dominated(p));
      expect(pf.map((p) => p.meanSteps).sort()).to.deep.equal(brute.map((p) => p.meanSteps).sort());
      // chooseTheta equals a brute-force minimum over all points.
      const full = c.correct[0] / n;
      const ok = all.filter((p) => p.accuracy >= full - 1e-12);
      const minSteps = Math.min(...ok.map((p) => p.meanSteps));
      expect(chooseTheta(c, full)!.meanSteps).to.equal(minSteps);
    }
  });
});
