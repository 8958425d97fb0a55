import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { convertWeights } from '../../../src/snn/convert';
import { initBackend } from '../../../src/snn/backend';
import { loadModel, saveModel } from '../../../src/snn/model/model-file';
import { annLogits } from '../../../src/snn/model/onnx/ann-logits';
import { importOnnx } from '../../../src/snn/model/onnx/import';
import { OnnxFormatError } from '../../../src/snn/model/onnx/read';
import { simulate } from '../../../src/snn/runner';
import { makeTempDir } from '../../helpers/paths';
import { argmaxRows, FIXTURES, fixtureInputs, fixtureLogits, manifest } from './onnx-fixtures';

const m = manifest();
const C = m.classes.length;
const [, H, W] = m.inputs.shape;

/** SNN argmax agreements measured on the 48 fixture inputs (of 48), kept as floors. */
const AGREEMENT_FLOORS: Record<string, { ann64: number; limit64: number }> = {
  'small-l4-bn': { ann64: 44, limit64: 48 },
  'deep-l8-floor': { ann64: 48, limit64: 48 },
  'gesture-l3': { ann64: 18, limit64: 39 },
};

/** Max |ours − PyTorch| over the PyTorch logits' range (max − min over all inputs and classes). */
function relativeError(ours: Float32Array, torch: Float32Array): number {
  let range = 0, lo = Infinity, hi = -Infinity;
  for (const v of torch) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  range = hi - lo;
  let worst = 0;
  for (let i = 0; i < torch.length; i++) worst = Math.max(worst, Math.abs(ours[i] - torch[i]));
  return worst / range;
}

/** One input (C×H×W) as the SNN's NHWC frame. */
function nhwcFrame(inputs: Float32Array, n: number): Float32Array {
  const f = new Float32Array(H * W * 2);
  for (let c = 0; c < 2; c++) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) f[(y * W + x) * 2 + c] = inputs[((n * 2 + c) * H + y) * W + x];
  return f;
}

describe('ONNX import: QCFS networks trained in PyTorch', () => {
  const inputs = fixtureInputs(m);
  before(async () => { await initBackend('cpu', { log: () => undefined }); });

  it('the fixtures cover L = 3 / 4 / 8, with and without the ½ shift, with and without BatchNorm', () => {
    expect(m.models.map((x) => x.levels).sort()).to.deep.equal([3, 4, 8]);
    expect(new Set(m.models.map((x) => x.shift))).to.deep.equal(new Set([0, 0.5]));
    const folded = m.models.map((x) => importOnnx(path.join(FIXTURES, x.onnx)).summary.batchNormsFolded);
    expect(folded.some((n) => n > 0)).to.equal(true);
    expect(folded.some((n) => n === 0)).to.equal(true);
  });

  for (const fx of m.models) {
    describe(fx.name, () => {
      const model = importOnnx(path.join(FIXTURES, fx.onnx), { classes: m.classes });

      it(`finds the QCFS pattern with L = ${fx.levels} and shift ${fx.shift}, and says so`, () => {
        const a = model.summary.activations;
        expect(a.levels).to.equal(fx.levels);
        expect(a.shift).to.equal(fx.shift);
        expect(a.ops).to.deep.equal(fx.shift ? ['Div', 'Mul', 'Add', 'Floor', 'Div', 'Clip', 'Mul'] : ['Div', 'Mul', 'Floor', 'Div', 'Clip', 'Mul']);
        expect(model.spec.levels).to.equal(fx.levels);
        expect(model.spec.shift).to.equal(fx.shift);
        expect(a.shiftMeaning).to.match(fx.shift ? /nearest level/ : /plain floor .*adds \(φ − ½\)·λ\/L to each hidden bias/);
      });

      it('its ANN logits equal PyTorch\'s to ≤ 1e-4 of their range, argmax identical', () => {
        const ours = annLogits(model, inputs);
        const torch = fixtureLogits(fx);
        expect(ours.length).to.equal(torch.length);
        expect(relativeError(ours, torch)).to.be.at.most(1e-4);
        expect(argmaxRows(ours, C)).to.deep.equal(argmaxRows(torch, C));
      });

      it('saved and loaded, it gives the same logits (a model like ours)', () => {
        const dir = makeTempDir();
        saveModel(dir, model);
        const back = loadModel(dir);
        expect(back.spec).to.deep.equal(model.spec);
        expect(annLogits(back, inputs)).to.deep.equal(annLogits(model, inputs));
        fs.rmSync(dir, { recursive: true, force: true });
      });

      it('the converted SNN moves from the rounded ANN towards its rate limit as T grows (agreement at T = 64 and 256)', () => {
        const net = convertWeights(model.spec, model.weights, 'qcfs');
        const ann = argmaxRows(annLogits(model, inputs), C);
        const limit = argmaxRows(annLogits(model, inputs, { quantize: false }), C);
        const agree = { ann64: 0, limit64: 0, limit256: 0 };
        for (let n = 0; n < m.inputs.n; n++) {
          const frame = nhwcFrame(inputs, n);
          const out = simulate(net, Array.from({ length: 256 }, () => frame)).outputs;
          const at64 = argmaxRows(out[63], C)[0], at256 = argmaxRows(out[255], C)[0];
          if (at64 === ann[n]) agree.ann64++;
          if (at64 === limit[n]) agree.limit64++;
          if (at256 === limit[n]) agree.limit256++;
        }
        console.log(`      ${fx.name}: SNN at T = 64 = rounded ANN on ${agree.ann64}/${m.inputs.n}, = rate limit on ${agree.limit64}/${m.inputs.n}; at T = 256 = rate limit on ${agree.limit256}/${m.inputs.n}`);
        // The measured agreement (docs/bring-your-own-model.md): the target of 99 % with the rounded ANN at
        // T = 64 holds for deep-l8-floor only; the floors catch a conversion that gets worse.
        const floor = AGREEMENT_FLOORS[fx.name];
        expect(agree.ann64, 'rounded ANN, T = 64').to.be.at.least(floor.ann64);
        expect(agree.limit64, 'rate limit, T = 64').to.be.at.least(floor.limit64);
        expect(agree.limit256 / m.inputs.n, 'rate limit, T = 256').to.be.at.least(0.97);
      });
    });
  }

  it('importOnnx takes the bytes as well as the path, and records the source and its hash', () => {
    const fx = m.models[0];
    const bytes = fs.readFileSync(path.join(FIXTURES, fx.onnx));
    const a = importOnnx(bytes, { source: 'mine.onnx' }), b = importOnnx(path.join(FIXTURES, fx.onnx));
    expect(a.weights).to.deep.equal(b.weights);
    expect(a.summary.source).to.equal('mine.onnx');
    expect(a.meta.imported).to.include({ from: 'onnx', sha256: b.summary.sha256 });
    expect(a.meta.classes).to.deep.equal(Array.from({ length: C }, (_, i) => String(i)));
  });

  it('options: bin, T, downsample given or derived from the sensor; bad values refused', () => {
    const file = path.join(FIXTURES, m.models[0].onnx);
    expect(importOnnx(file).meta.binning).to.deep.equal({ binUs: 100_000, T: 16, downsample: 4 });
    expect(importOnnx(file, { binMs: 50, steps: 8, sensor: { width: 64, height: 64 } }).meta.binning).to.deep.equal({ binUs: 50_000, T: 8, downsample: 2 });
    expect(importOnnx(file, { downsample: 3 }).meta.binning?.downsample).to.equal(3);
    expect(() => importOnnx(file, { sensor: { width: 100, height: 50 } })).to.throw(/no whole downsampling of the 100×50 sensor.*--downsample/);
    expect(() => importOnnx(file, { steps: 0 })).to.throw(RangeError, /steps/);
    expect(() => importOnnx(file, { classes: ['a', 'b'] })).to.throw(/11 units but 2 class names/);
  });

  it('annLogits refuses input that is not whole C×H×W tensors; bytes that are not ONNX are an OnnxFormatError', () => {
    const model = importOnnx(path.join(FIXTURES, m.models[0].onnx));
    expect(() => annLogits(model, new Float32Array(7))).to.throw(RangeError, /C×H×W/);
    expect(() => importOnnx(Uint8Array.from([1, 2, 3, 4, 5]))).to.throw(OnnxFormatError);
  });
});
