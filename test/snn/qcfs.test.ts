import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/snn/backend';
import { qcfs, qcfsValue } from '../../src/snn/qcfs';
import { QuantizedAnn } from '../../src/snn/ann';
import { convertWeights } from '../../src/snn/convert';
import { simulate } from '../../src/snn/runner';
import { validateSpec } from '../../src/snn/spec';
import { mulberry32 } from '../../src/prng';

describe('snn/qcfs and one-layer conversion', () => {
  before(async () => { await initBackend('wasm', { log: () => undefined }); });

  it('QCFS forward matches the formula; gradients are straight-through inside (0, λ) and LSQ for λ', () => {
    const xs = [-1, 0.1, 0.4, 0.74, 1.2, 2.5, 3.9, 5];
    const lam = 4, L = 3;
    const x = tf.tensor1d(xs), l = tf.scalar(lam);
    const y = qcfs(x, l, L).arraySync() as number[];
    xs.forEach((v, i) => expect(y[i]).to.be.closeTo(qcfsValue(v, lam, L), 1e-6));
    const [dx, dl] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(qcfs(a, b, L)))([x, l]);
    const dxa = dx.arraySync() as number[];
    xs.forEach((v, i) => expect(dxa[i]).to.equal(v > 0 && v < lam ? 1 : 0));
    let expectDl = 0;
    xs.forEach((v) => { if (v >= lam) expectDl += 1; else if (v > 0) expectDl += (qcfsValue(v, lam, L) - v) / lam; });
    expect(dl.dataSync()[0]).to.be.closeTo(expectDl, 1e-5);
    tf.dispose([x, l, dx, dl]);
  });

  it('one QCFS layer, constant input: after T = L steps the SNN mean equals the ANN exactly; larger T within one level', () => {
    const spec = validateSpec({ input: { height: 3, width: 3, channels: 2 }, layers: [{ type: 'dense', units: 40 }], bits: 2, classes: ['a', 'b', 'c'] });
    const ann = QuantizedAnn.create(spec, 5, 1.5);
    const rng = mulberry32(11);
    const input = new Float32Array(18);
    for (let i = 0; i < 18; i++) input[i] = rng() * 2;
    // hidden activations of the ANN
    const w = ann.getWeights();
    const lam = 1.5, L = 3;
    const kernel = w.find((v) => v.name === 'l0/kernel')!.data, bias = w.find((v) => v.name === 'l0/bias')!.data;
    const annAct = tf.tidy(() => {
      const z = tf.add(tf.matMul(tf.tensor2d(input, [1, 18]), tf.tensor2d(kernel, [18, 40])), tf.tensor1d(bias));
      return Array.from(qcfs(z, tf.scalar(lam), L).dataSync());
    });
    const annOut = Array.from(tf.tidy(() => ann.forward(tf.tensor4d(input, [1, 3, 3, 2])).dataSync()));
    for (const mode of ['qcfs', 'qffs'] as const) {
      const net = convertWeights(spec, w, mode);
      // hidden spike counts after L steps: mean spike output = count·λ/L
      const r = simulate(net, Array(L).fill(input));
      const hiddenSpikes = r.final.spikes[0];
      const annSpikes = annAct.reduce((a, v) => a + Math.round((v * L) / lam), 0);
      expect(hiddenSpikes, mode).to.equal(annSpikes);
      const snnMean = Array.from(r.final.output).map((o) => o / L);
      snnMean.forEach((v, i) => expect(v).to.be.closeTo(annOut[i], 1e-5 * (1 + Math.abs(annOut[i]))));
    }
    // QCFS, longer T: each neuron's rate stays within one quantization level λ/L of the ANN's activation
    const net = convertWeights(spec, w, 'qcfs');
    for (const T of [7, 20, 50]) {
      const outs = simulate(net, Array(T).fill(input)).final.output;
      // output = Wout·(Σ spikes)/T + b ⇒ compare via a bound: |Δ| ≤ Σ|Wout|·λ/L
      const wout = w.find((v) => v.name === 'out/kernel')!.data;
      for (let c = 0; c < 3; c++) {
        let bound = 0;
        for (let h = 0; h < 40; h++) bound += Math.abs(wout[h * 3 + c]) * (lam / L);
        expect(Math.abs(outs[c] / T - annOut[c])).to.be.at.most(bound + 1e-6);
      }
    }
    ann.dispose();
  });

  it('one conv layer (stride 1/2, same/valid, k 1/3/5, with avgpool): SNN mean after T = L equals the ANN output', () => {
    const rng = mulberry32(3);
    const input = new Float32Array(9 * 10 * 2);
    for (let i = 0; i < input.length; i++) input[i] = rng() < 0.4 ? Math.floor(rng() * 3) : 0;
    for (const [kernel, stride, padding, pool] of [[3, 2, 'same', 0], [5, 1, 'valid', 0], [3, 2, 'valid', 0], [1, 1, 'same', 2], [3, 1, 'same', 2]] as const) {
      const layers: object[] = [{ type: 'conv', kernel, channels: 5, stride, padding }];
      if (pool) layers.push({ type: 'avgpool', size: pool });
      const spec = validateSpec({ input: { height: 9, width: 10, channels: 2 }, layers, classes: ['a', 'b', 'c'] });
      const ann = QuantizedAnn.create(spec, 8, 1.2);
      const annOut = Array.from(tf.tidy(() => ann.forward(tf.tensor4d(input, [1, 9, 10, 2])).dataSync()));
      const net = convertWeights(spec, ann.getWeights(), 'qcfs');
      const out = simulate(net, Array(3).fill(input)).final.output;
      annOut.forEach((v, i) => expect(out[i] / 3, `k${kernel} s${stride} ${padding} pool${pool}`).to.be.closeTo(v, 1e-4 * (1 + Math.abs(v))));
      ann.dispose();
    }
  });

  it('any L, shift ½ or 0 (folded into the bias), explicit PyTorch padding, even kernels: SNN mean after T = L equals the ANN', () => {
    const rng = mulberry32(9);
    const input = new Float32Array(9 * 10 * 2);
    for (let i = 0; i < input.length; i++) input[i] = rng() < 0.4 ? Math.floor(rng() * 3) : 0;
    const pads = [{ top: 1, left: 1, bottom: 1, right: 1 }, { top: 0, left: 1, bottom: 2, right: 0 }];
    for (const levels of [1, 4, 8]) for (const shift of [0.5, 0]) for (const [kernel, stride, padding] of [[3, 2, pads[0]], [2, 1, pads[1]]] as const) {
      const spec = validateSpec({ input: { height: 9, width: 10, channels: 2 }, layers: [{ type: 'conv', kernel, channels: 5, stride, padding }], levels, shift, classes: ['a', 'b', 'c'] });
      const what = `L ${levels} φ ${shift} k${kernel} s${stride} ${JSON.stringify(padding)}`;
      const ann = QuantizedAnn.create(spec, 8, 1.2);
      const annOut = Array.from(tf.tidy(() => ann.forward(tf.tensor4d(input, [1, 9, 10, 2])).dataSync()));
      const net = convertWeights(spec, ann.getWeights(), 'qcfs');
      // the shift is folded into the hidden bias: b + (φ − ½)·λ/L, membranes at θ/2
      const conv = net.layers[0] as { bias: Float32Array; threshold: number };
      const annBias = ann.getWeights().find((v) => v.name === 'l0/bias')!.data;
      expect(conv.bias[0] - annBias[0], what).to.be.closeTo(((shift - 0.5) * conv.threshold) / levels, 1e-6);
      const out = simulate(net, Array(levels).fill(input)).final.output;
      annOut.forEach((v, i) => expect(out[i] / levels, what).to.be.closeTo(v, 1e-4 * (1 + Math.abs(v))));
      ann.dispose();
    }
  });

  it('qcfsValue: shift 0 floors, ½ rounds', () => {
    expect(qcfsValue(0.99, 4, 4, 0)).to.equal(0);
    expect(qcfsValue(0.99, 4, 4)).to.equal(1);
    expect(qcfsValue(3.6, 4, 4, 0)).to.equal(3);
    expect(qcfsValue(9, 4, 4, 0)).to.equal(4);
  });
});
