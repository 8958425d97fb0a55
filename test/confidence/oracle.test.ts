import { expect } from 'chai';
import { oracleFirstCorrect, oracleStaysCorrect } from '../../src/confidence/oracle';
import { traceFromArrays } from '../../src/confidence/trace';

describe('oracles', () => {
  // 4 samples × 3 steps; labels 0,1,2,3.
  const predicted = new Int16Array([
    1, 0, 0, // correct from step 2 on
    1, 1, 1, // always correct
    2, 0, 2, // correct, wrong, correct
    0, 0, 0, // never correct
  ]);
  const trace = traceFromArrays(new Float32Array(12).fill(0.5), predicted, [0, 1, 2, 3], 3);

  it('first correct step (paper): never-correct samples run to T', () => {
    const r = oracleFirstCorrect(trace);
    expect(Array.from(r.stepsUsed)).to.deep.equal([2, 1, 1, 3]);
    expect(r.accuracy).to.equal(0.75);
    expect(r.meanSteps).to.equal(7 / 4);
  });

  it('stays correct to T (SNNCutoff): accuracy equals full-T accuracy', () => {
    const r = oracleStaysCorrect(trace);
    expect(Array.from(r.stepsUsed)).to.deep.equal([2, 1, 3, 3]);
    expect(r.accuracy).to.equal(0.75);
    expect(r.meanSteps).to.equal(9 / 4);
  });
});
