import { expect } from 'chai';
import * as fs from 'fs';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/snn/backend';
import { makeToyBars } from '../../src/snn/toy';
import { trainAnn, annAccuracy, TrainResult } from '../../src/snn/train';
import { convertWeights, SnnNetwork } from '../../src/snn/convert';
import { SnnRunner, simulate, SlotsFullError } from '../../src/snn/runner';
import { FrameDataset, frameOf, meanOfFirstK } from '../../src/snn/dataset';
import { loadModel, saveModel } from '../../src/snn/model/model-file';
import { QuantizedAnn } from '../../src/snn/ann';
import { ModelSpec } from '../../src/snn/spec';
import { makeTempDir } from '../helpers/paths';

const H = 16, T = 8;
const spec: ModelSpec = {
  input: { height: H, width: H, channels: 2 },
  layers: [{ type: 'conv', kernel: 3, channels: 8 }, { type: 'avgpool', size: 2 }, { type: 'conv', kernel: 3, channels: 16 }, { type: 'avgpool', size: 2 }, { type: 'dense', units: 32 }],
  classes: ['horizontal', 'vertical', 'diagonal', 'antidiagonal'],
};

function argmax(a: ArrayLike<number>): number { let m = 0; for (let i = 1; i < a.length; i++) if (a[i] > a[m]) m = i; return m; }

/** SNN accuracy and agreement with the ANN when the mean frame is shown for `steps` steps. */
function constantInputScores(net: SnnNetwork, annPred: Int32Array, ds: FrameDataset, steps: number): { acc: number; agree: number } {
  const size = H * H * 2;
  let acc = 0, agree = 0;
  for (let i = 0; i < ds.n; i++) {
    const m = new Float32Array(size); meanOfFirstK(ds, i, ds.T, m);
    const p = argmax(simulate(net, Array(steps).fill(m)).final.output);
    if (p === ds.labels[i]) acc++;
    if (p === annPred[i]) agree++;
  }
  return { acc: acc / ds.n, agree: agree / ds.n };
}

describe('snn network: train → convert → run', function () {
  this.timeout(120000);
  let res: TrainResult;
  let val: FrameDataset;
  let annAcc = 0;
  let annPred: Int32Array;
  const dirs: string[] = [];

  before(async () => {
    await initBackend('wasm', { log: () => undefined });
    const train = makeToyBars({ n: 256, T, height: H, width: H, seed: 1 });
    val = makeToyBars({ n: 96, T, height: H, width: H, seed: 2 });
    const before = tf.memory().numTensors;
    res = await trainAnn(train, { spec, epochs: 10, lr: 1e-2, seed: 3 });
    // no leaks: only the model's variables remain
    expect(tf.memory().numTensors - before).to.equal(res.ann.variables().length);
    annAcc = annAccuracy(res.ann, val);
    const size = H * H * 2, buf = new Float32Array(val.n * size);
    for (let i = 0; i < val.n; i++) meanOfFirstK(val, i, T, buf, 0, 0, i * size);
    annPred = tf.tidy(() => res.ann.predict(tf.tensor4d(buf, [val.n, H, H, 2])));
  });
  after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  it('trains the ANN on the toy task within seconds', () => {
    expect(annAcc).to.be.at.least(0.8);
    expect(res.log).to.have.length(10);
  });

  it('QCFS SNN approaches the ANN as T grows (constant input; agreement ≥ 0.9 and |Δacc| ≤ 0.05 at T = 64)', () => {
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    const s2 = constantInputScores(net, annPred, val, 2), s64 = constantInputScores(net, annPred, val, 64);
    expect(s64.agree).to.be.at.least(0.9);
    expect(s64.agree).to.be.at.least(s2.agree - 0.05);
    expect(Math.abs(s64.acc - annAcc)).to.be.at.most(0.05);
  });

  it('QCFS SNN on the real frame sequence (T steps) is within 0.1 of the ANN', () => {
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    let ok = 0;
    for (let i = 0; i < val.n; i++) {
      const out = simulate(net, Array.from({ length: T }, (_, t) => frameOf(val, i, t))).final.output;
      if (argmax(out) === val.labels[i]) ok++;
    }
    expect(ok / val.n).to.be.at.least(annAcc - 0.1);
  });

  it('QFFS SNN matches the ANN at T ≈ L+1 (agreement ≥ 0.85); its net spike count stays within [0, L]', () => {
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qffs');
    const s = constantInputScores(net, annPred, val, net.L + 1);
    expect(s.agree).to.be.at.least(0.85);
    expect(Math.abs(s.acc - annAcc)).to.be.at.most(0.1);
    // spike budget: positive − negative spikes per neuron never exceeds L
    const m = new Float32Array(H * H * 2); meanOfFirstK(val, 0, T, m);
    const r = simulate(net, Array(30).fill(m)).final;
    const neurons = new SnnRunner(net, 1).neurons;
    r.spikes.forEach((sp, j) => expect(sp - 2 * r.negativeSpikes[j]).to.be.at.most(net.L * neurons[j]));
  });

  it('save → load → run gives identical outputs', () => {
    const dir = makeTempDir(); dirs.push(dir);
    saveModel(dir, res.model);
    const loaded = loadModel(dir);
    expect(loaded.meta.conversion.T).to.equal(T);
    expect(Object.keys(loaded.meta.lambdas)).to.have.length(3);
    const a = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    const b = convertWeights(loaded.spec, loaded.weights, 'qcfs');
    const frames = Array.from({ length: T }, (_, t) => frameOf(val, 3, t));
    expect(Array.from(simulate(b, frames).final.output)).to.deep.equal(Array.from(simulate(a, frames).final.output));
    const ann2 = QuantizedAnn.fromWeights(loaded.spec, loaded.weights);
    const x = tf.tensor4d(frames[0], [1, H, H, 2]);
    expect(Array.from(tf.tidy(() => ann2.forward(x).dataSync()))).to.deep.equal(Array.from(tf.tidy(() => res.ann.forward(x).dataSync())));
    x.dispose(); ann2.dispose();
  });

  it('runner: a sample gives bitwise-identical results alone and in a full batch with others at other steps', () => {
    for (const mode of ['qcfs', 'qffs'] as const) {
      const net = convertWeights(res.ann.spec, res.ann.getWeights(), mode);
      const alone = simulate(net, Array.from({ length: T }, (_, t) => frameOf(val, 5, t)));
      const r = new SnnRunner(net, 6);
      const slots = [r.admit(), r.admit(), r.admit(), r.admit(), r.admit(), r.admit()];
      expect(() => r.admit()).to.throw(SlotsFullError);
      // slots 0..4 run other samples started at earlier steps; sample 5 goes into the last slot at step 0
      const target = slots[5];
      const others = slots.slice(0, 5);
      const offsets = [3, 1, 0, 5, 2];
      for (let t = 0; t < 5; t++) r.step(others.filter((_, j) => offsets[j] > t).map((slot, j) => ({ slot, frame: frameOf(val, 10 + j, t % T) })));
      const outs: Float32Array[] = [];
      for (let t = 0; t < T; t++) {
        const batch = others.map((slot, j) => ({ slot, frame: frameOf(val, 20 + j, (t + j) % T) }));
        batch.splice(2, 0, { slot: target, frame: frameOf(val, 5, t) });
        r.step(batch);
        outs.push(r.read(target).output);
      }
      outs.forEach((o, t) => expect(Array.from(o)).to.deep.equal(Array.from(alone.outputs[t])));
      const rd = r.read(target);
      expect(rd.step).to.equal(T);
      expect(rd.spikes).to.deep.equal(alone.final.spikes);
      // release and re-admit resets state
      r.release(target);
      const again = r.admit();
      expect(r.read(again).step).to.equal(0);
      expect(Array.from(r.read(again).output).every((v) => v === 0)).to.equal(true);
    }
  });

  it('runner: thousands of steps with admit/release keep working (typed-array state; no tf tensors)', () => {
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    const before = tf.memory().numTensors;
    const r = new SnnRunner(net, 4);
    const live = [r.admit(), r.admit(), r.admit(), r.admit()];
    for (let t = 0; t < 2000; t++) {
      r.step(live.map((slot, j) => ({ slot, frame: frameOf(val, (t + j) % val.n, t % T) })));
      if (t % 7 === 0) { const s = live.shift()!; r.release(s); live.push(r.admit()); }
    }
    expect(tf.memory().numTensors).to.equal(before);
    expect(r.activeCount).to.equal(4);
  });
});
