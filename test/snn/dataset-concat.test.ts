import { expect } from 'chai';
import { concatFrameDatasets, type FrameDataset } from '../../src/snn/dataset';

function ds(n: number, fill: number, stepLabels?: number[]): FrameDataset {
  return { frames: new Float32Array(n * 2 * 1 * 1 * 2).fill(fill), labels: Int32Array.from({ length: n }, (_, i) => i), n, T: 2, height: 1, width: 1, ...(stepLabels ? { stepLabels: Int32Array.from(stepLabels) } : {}), classes: ['a', 'b', 'c'] };
}

describe('snn/dataset: concatFrameDatasets', () => {
  it('joins samples in order, keeping step labels (a part without them repeats its label)', () => {
    const j = concatFrameDatasets([ds(1, 1), ds(2, 2, [-1, 0, 1, 1])]);
    expect(j.n).to.equal(3);
    expect(Array.from(j.labels)).to.deep.equal([0, 0, 1]);
    expect(Array.from(j.stepLabels!)).to.deep.equal([0, 0, -1, 0, 1, 1]);
    expect(Array.from(j.frames.subarray(0, 4))).to.deep.equal([1, 1, 1, 1]);
    expect(j.frames[4]).to.equal(2);
    expect(j.classes).to.deep.equal(['a', 'b', 'c']);
  });

  it('refuses parts of another shape or other class names, and an empty list', () => {
    expect(() => concatFrameDatasets([ds(1, 0), { ...ds(1, 0), T: 3, frames: new Float32Array(6) }])).to.throw(/part 2 has T = 3/);
    expect(() => concatFrameDatasets([ds(1, 0), { ...ds(1, 0), classes: ['x', 'b', 'c'] }])).to.throw(/other class names/);
    expect(() => concatFrameDatasets([])).to.throw(/nothing to join/);
  });
});
