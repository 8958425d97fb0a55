import { expect } from 'chai';
import { labelAt, validateDataset, type FrameDataset } from '../../src/snn/dataset';
import { decodeFramesFile, encodeFramesFile } from '../../src/snn/frames-file';
import { makeBatch, targets } from '../../src/snn/train';
import { makeToyBars } from '../../src/snn/toy';

/** A toy dataset whose prefixes change class along each sample: −1 for the first two steps, then its label. */
function withStepLabels(ds: FrameDataset): FrameDataset {
  const stepLabels = new Int32Array(ds.n * ds.T);
  for (let i = 0; i < ds.n; i++) for (let k = 0; k < ds.T; k++) stepLabels[i * ds.T + k] = k < 2 ? -1 : ds.labels[i];
  return { ...ds, stepLabels };
}

describe('no-class samples and per-step labels (live-style training data)', () => {
  const toy = makeToyBars({ n: 6, T: 4, height: 8, width: 8, seed: 3 });

  it('labelAt gives the prefix class when the dataset has step labels, else the sample label', () => {
    const ds = withStepLabels(toy);
    expect(labelAt(toy, 2, 1)).to.equal(toy.labels[2]);
    expect(labelAt(ds, 2, 1)).to.equal(-1);
    expect(labelAt(ds, 2, 2)).to.equal(-1);
    expect(labelAt(ds, 2, 3)).to.equal(toy.labels[2]);
    expect(labelAt(ds, 2, 99)).to.equal(toy.labels[2]); // clamped to T
    expect(() => validateDataset({ ...ds, stepLabels: new Int32Array(3) })).to.throw(/stepLabels has 3 entries, expected n·T = 24/);
  });

  it('training targets: one-hot for a class, the uniform distribution for −1 (no class)', () => {
    expect(Array.from(targets(Int32Array.from([2, -1]), 4))).to.deep.equal([0, 0, 1, 0, 0.25, 0.25, 0.25, 0.25]);
  });

  it('a batch shows the mean of the first k frames with the k-th step label', () => {
    const ds = withStepLabels(toy);
    const buf = new Float32Array(ds.n * ds.height * ds.width * 2);
    const ids = Int32Array.from([0, 1, 2, 3, 4, 5]);
    // Without randomness k = T: the last step's label.
    expect(Array.from(makeBatch(ds, ids, buf, null, 0, true))).to.deep.equal(Array.from(toy.labels));
    // With random k, a sample's label is −1 exactly when k ≤ 2; over many draws both occur.
    let seed = 7;
    const rng = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const seen = new Set<number>();
    for (let r = 0; r < 20; r++) for (const l of makeBatch(ds, ids, buf, rng, 0, true)) seen.add(l);
    expect(seen.has(-1)).to.equal(true);
    expect([...seen].filter((l) => l >= 0).length).to.be.greaterThan(1);
  });

  it('the frames file keeps −1 labels and step labels; it refuses labels outside the classes', () => {
    const ds = withStepLabels({ ...toy, labels: Int32Array.from(toy.labels, (l, i) => (i === 0 ? -1 : l)) });
    for (const dtype of ['float32', 'uint8'] as const) {
      const back = decodeFramesFile(encodeFramesFile(ds, { dtype, classes: ['a', 'b', 'c', 'd'] }));
      expect(back.header.stepLabels).to.equal(true);
      expect(Array.from(back.labels)).to.deep.equal(Array.from(ds.labels));
      expect(Array.from(back.stepLabels!)).to.deep.equal(Array.from(ds.stepLabels!));
    }
    const plain = decodeFramesFile(encodeFramesFile(toy));
    expect(plain.stepLabels).to.equal(undefined);
    expect(plain.header.stepLabels).to.equal(undefined);
    const badStep = withStepLabels(toy);
    badStep.stepLabels![5] = 9;
    expect(() => decodeFramesFile(encodeFramesFile(badStep, { classes: ['a', 'b', 'c', 'd'] }))).to.throw(/step label 9 of sample 1 outside the 4 classes/);
    expect(() => decodeFramesFile(encodeFramesFile({ ...toy, labels: Int32Array.from(toy.labels, () => -2) }, { classes: ['a', 'b', 'c', 'd'] }))).to.throw(/label -2 of sample 0/);
  });
});
