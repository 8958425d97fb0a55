import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { initBackend } from '../../src/snn/backend';
import { defaultSpec, layerGeometry, validateSpec } from '../../src/snn/spec';
import { makeToyBars } from '../../src/snn/toy';
import { decodeFramesFile, encodeFramesFile, readFramesFile, uint8Saturated, writeFramesFile } from '../../src/snn/frames-file';
import { annAccuracy, trainAnn, validationSteps, type TrainEpochLog } from '../../src/snn/train';
import { makeTempDir } from '../helpers/paths';

describe('snn spec, frames files, checkpoints', function () {
  this.timeout(60000);
  const dirs: string[] = [];
  after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('validates specs with clear errors and computes shapes', () => {
    const ok = { input: { height: 32, width: 32, channels: 2 }, layers: [{ type: 'conv', kernel: 3, channels: 4, stride: 2 }, { type: 'avgpool', size: 2 }, { type: 'dense', units: 8 }], classes: ['a', 'b'] };
    const s = validateSpec(ok);
    expect(s.bits).to.equal(2);
    expect(layerGeometry(s).map((g) => g.outShape)).to.deep.equal([[16, 16, 4], [8, 8, 4], [1, 1, 8], [1, 1, 2]]);
    const bad = (patch: object, re: RegExp) => expect(() => validateSpec({ ...ok, ...patch })).to.throw(re);
    bad({ input: { height: 32, width: 32, channels: 3 } }, /input.channels must be 2/);
    bad({ layers: [{ type: 'conv', kernel: 4, channels: 4 }] }, /layers\[0\].kernel must be an odd integer/);
    bad({ layers: [{ type: 'maxpool', size: 2 }] }, /layers\[0\].type/);
    bad({ layers: [{ type: 'dense', units: 4 }, { type: 'conv', kernel: 3, channels: 2 }] }, /conv after dense/);
    bad({ classes: ['a'] }, /classes/);
    bad({ bits: 0 }, /bits/);
    expect(s).to.include({ levels: 3, shift: 0.5 });
    // levels and shift (an imported PyTorch model's L and φ), explicit padding (PyTorch's)
    expect(validateSpec({ ...ok, bits: 2, levels: 4, shift: 0 })).to.include({ levels: 4, shift: 0, bits: 3 });
    bad({ levels: 0 }, /levels must be an integer in \[1, 1023\]/);
    bad({ shift: 1 }, /shift must be a number in \[0, 1\)/);
    bad({ layers: [{ type: 'conv', kernel: 3, channels: 4, padding: { top: 1, left: 1 } }] }, /padding must be "same", "valid" or \{top, left, bottom, right\}/);
    const torchLike = validateSpec({ ...ok, layers: [{ type: 'conv', kernel: 3, channels: 4, stride: 2, padding: { top: 1, left: 1, bottom: 1, right: 1 } }, { type: 'conv', kernel: 4, channels: 4, padding: { top: 1, left: 2, bottom: 2, right: 1 } }] });
    const g = layerGeometry(torchLike);
    // PyTorch: floor((32 + 2 − 3) / 2) + 1 = 16 with the first row/column padded (TF's 'same' would pad only after)
    expect(g[0]).to.deep.include({ outShape: [16, 16, 4], padTop: 1, padLeft: 1 });
    expect(g[1]).to.deep.include({ outShape: [16, 16, 4], padTop: 1, padLeft: 2 });
    for (const hw of [32, 64]) {
      const d = defaultSpec(hw, hw, ['a', 'b', 'c']);
      expect(layerGeometry(d).slice(-1)[0].outShape).to.deep.equal([1, 1, 3]);
    }
  });

  it('frames file round trip (float32 and uint8) and corruption errors', () => {
    const ds = makeToyBars({ n: 5, T: 3, height: 6, width: 7, seed: 4 });
    for (const dtype of ['float32', 'uint8'] as const) {
      const bytes = encodeFramesFile(ds, { dtype, dataset: 'toy', binning: { binUs: 1000, T: 3, downsample: 4 } });
      const back = decodeFramesFile(bytes);
      expect(back.n).to.equal(5); expect(back.T).to.equal(3); expect(back.height).to.equal(6); expect(back.width).to.equal(7);
      expect(Array.from(back.labels)).to.deep.equal(Array.from(ds.labels));
      expect(Array.from(back.frames)).to.deep.equal(Array.from(ds.frames));
      expect(back.classes).to.deep.equal(ds.classes);
      expect(back.header.binning).to.deep.equal({ binUs: 1000, T: 3, downsample: 4 });
      expect(() => decodeFramesFile(bytes.subarray(0, bytes.length - 1))).to.throw(/size/);
    }
    expect(() => decodeFramesFile(new Uint8Array(20))).to.throw(/magic/);
    const dir = makeTempDir(); dirs.push(dir);
    writeFramesFile(path.join(dir, 'd.ssf'), ds);
    expect(readFramesFile(path.join(dir, 'd.ssf')).n).to.equal(5);
  });

  it('float32 by default keeps counts above 255; uint8 clips them and counts every clipped value', () => {
    const ds = makeToyBars({ n: 2, T: 2, height: 4, width: 4, seed: 5 });
    ds.frames[3] = 300;
    ds.frames[7] = 255.4; // rounds to 255: not clipped
    ds.frames[9] = 1000;
    expect(uint8Saturated(ds.frames)).to.equal(2);
    const dir = makeTempDir(); dirs.push(dir);
    const f = writeFramesFile(path.join(dir, 'f.ssf'), ds);
    expect(f.saturated).to.equal(0);
    const back = readFramesFile(path.join(dir, 'f.ssf'));
    expect(back.header.dtype).to.equal('float32');
    expect(back.frames[3]).to.equal(300);
    const u = writeFramesFile(path.join(dir, 'u.ssf'), ds, { dtype: 'uint8' });
    expect(u.saturated).to.equal(2);
    expect(u.bytes).to.be.lessThan(f.bytes);
    const clipped = readFramesFile(path.join(dir, 'u.ssf'));
    expect(clipped.frames[3]).to.equal(255);
    expect(clipped.frames[9]).to.equal(255);
  });

  it('is deterministic per seed, and resuming from a checkpoint reproduces uninterrupted training', async () => {
    await initBackend('wasm', { log: () => undefined });
    const ds = makeToyBars({ n: 40, T: 4, height: 8, width: 8, seed: 9 });
    const spec = { input: { height: 8, width: 8, channels: 2 as const }, layers: [{ type: 'conv' as const, kernel: 3, channels: 4 }, { type: 'avgpool' as const, size: 2 }, { type: 'dense' as const, units: 8 }], classes: ds.classes! };
    const full = await trainAnn(ds, { spec, epochs: 3, batchSize: 16, seed: 5 });
    const again = await trainAnn(ds, { spec, epochs: 3, batchSize: 16, seed: 5 });
    expect(again.model.weights.map((w) => Array.from(w.data))).to.deep.equal(full.model.weights.map((w) => Array.from(w.data)));
    // interrupt during epoch 2 (checkpoint of epoch 1 on disk), then resume
    const dir2 = makeTempDir(); dirs.push(dir2);
    let stopAt = 0;
    try {
      await trainAnn(ds, { spec, epochs: 3, batchSize: 16, seed: 5, checkpointDir: dir2 }, (p) => { if (p.phase === 'batch' && p.epoch === 2) { stopAt = p.epoch; throw new Error('interrupted'); } });
    } catch (e) { expect(String(e)).to.match(/interrupted/); }
    expect(stopAt).to.equal(2);
    const resumed = await trainAnn(ds, { spec, epochs: 3, batchSize: 16, seed: 5, checkpointDir: dir2, resume: true });
    expect(resumed.log.map((l) => l.epoch)).to.deep.equal([0, 1, 2]);
    expect(resumed.model.weights.map((w) => Array.from(w.data))).to.deep.equal(full.model.weights.map((w) => Array.from(w.data)));
    for (const r of [full, again, resumed]) r.ann.dispose();
  });

  it('validates on the input the SNN integrates: the ANN on the mean of the first k frames at k = 1, T/4, T/2, T', async () => {
    expect(validationSteps(16)).to.deep.equal([1, 4, 8, 16]);
    expect(validationSteps(3)).to.deep.equal([1, 2, 3]);
    expect(validationSteps(1)).to.deep.equal([1]);
    await initBackend('wasm', { log: () => undefined });
    const ds = makeToyBars({ n: 32, T: 8, height: 8, width: 8, seed: 9 });
    const val = makeToyBars({ n: 16, T: 8, height: 8, width: 8, seed: 10 });
    const spec = { input: { height: 8, width: 8, channels: 2 as const }, layers: [{ type: 'dense' as const, units: 8 }], classes: ds.classes! };
    const seen: (number | undefined)[] = [];
    const res = await trainAnn(ds, { spec, epochs: 1, batchSize: 16, seed: 2, validation: val }, (p) => { if (p.phase === 'epoch') seen.push(p.valAccMatched); });
    const log = res.log[0] as TrainEpochLog;
    expect(log.valAccSteps!.map((v) => v.k)).to.deep.equal([1, 2, 4, 8]);
    expect(log.valAccSteps![3].acc).to.equal(log.valAcc);
    expect(log.valAccSteps![0].acc).to.equal(annAccuracy(res.ann, val, 1));
    expect(log.valAccMatched).to.be.closeTo(log.valAccSteps!.reduce((a, v) => a + v.acc, 0) / 4, 1e-12);
    expect(seen).to.deep.equal([log.valAccMatched]);
    res.ann.dispose();
  });
});
