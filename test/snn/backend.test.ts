import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { initBackend, registerWasmConvGradKernels } from '../../src/snn/backend';
import { mulberry32 } from '../../src/prng';

function randn(rng: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng() * 2 - 1;
  return a;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) { num += (a[i] - b[i]) ** 2; den += b[i] ** 2; }
  return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-12);
}

/** dX and dW of conv2d(x, w) for upstream gradient g, on the current backend. */
function convGrads(x: Float32Array, xs: number[], w: Float32Array, ws: number[], g: Float32Array,
  stride: number, pad: 'same' | 'valid'): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xs as [number, number, number, number]);
    const wt = tf.tensor4d(w, ws as [number, number, number, number]);
    const f = (a: tf.Tensor, b: tf.Tensor) => {
      const y = tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, pad);
      return tf.sum(tf.mul(y, tf.tensor(g, y.shape)));
    };
    const [dx, dw] = tf.grads(f)([xt, wt]);
    return [dx.dataSync() as Float32Array, dw.dataSync() as Float32Array];
  });
}

describe('snn/backend', () => {
  after(async () => { await initBackend('cpu', { log: () => undefined }); });

  it('selects by argument and by SPIKESTREAM_BACKEND, and falls back when no native binding loads', async () => {
    const logs: string[] = [];
    const saved = process.env.SPIKESTREAM_BACKEND;
    try {
      process.env.SPIKESTREAM_BACKEND = 'cpu';
      expect(await initBackend(undefined, { log: (m) => logs.push(m) })).to.equal('cpu');
      expect(tf.getBackend()).to.equal('cpu');
      expect(await initBackend('wasm', { log: (m) => logs.push(m) })).to.equal('wasm');
      expect(tf.getBackend()).to.equal('wasm');
      delete process.env.SPIKESTREAM_BACKEND;
      let tried = 0;
      const missing = () => { tried++; throw new Error("Cannot find module '@tensorflow/tfjs-node-gpu'"); };
      if (!tf.findBackendFactory('tensorflow')) {
        expect(await initBackend(undefined, { log: (m) => logs.push(m), loadNative: missing })).to.equal('wasm');
        expect(tried).to.equal(1);
        expect(logs[logs.length - 1]).to.match(/wasm.*skipped: tensorflow/);
        // forcing an unavailable backend is an error, not a silent fallback
        let err: unknown;
        try { await initBackend('tensorflow', { log: () => undefined, loadNative: missing }); } catch (e) { err = e; }
        expect(String(err)).to.match(/tensorflow/);
      }
      let bad: unknown;
      try { await initBackend('tpu', { log: () => undefined }); } catch (e) { bad = e; }
      expect(String(bad)).to.match(/unknown backend/);
    } finally {
      if (saved === undefined) delete process.env.SPIKESTREAM_BACKEND; else process.env.SPIKESTREAM_BACKEND = saved;
    }
  });

  it('our wasm Conv2DBackpropFilter/Input match the cpu backend (rel err ≤ 1e-4) without leaking', async () => {
    registerWasmConvGradKernels();
    const rng = mulberry32(7);
    const cases: Array<[number, number, number, number, 'same' | 'valid', number]> = [];
    for (const pad of ['same', 'valid'] as const)
      for (const stride of [1, 2])
        for (const k of [1, 3, 5])
          for (const batch of [1, 3])
            for (const cin of [1, 4, 7]) cases.push([batch, cin, k, stride, pad, cin === 4 ? 7 : cin === 7 ? 1 : 4]);
    let checked = 0;
    for (const [batch, cin, k, stride, pad, cout] of cases) {
      const H = 9, W = 8;
      const xs: [number, number, number, number] = [batch, H, W, cin], ws: [number, number, number, number] = [k, k, cin, cout];
      const x = randn(rng, batch * H * W * cin), w = randn(rng, k * k * cin * cout);
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(xs) as tf.Tensor4D, tf.zeros(ws) as tf.Tensor4D, stride, pad).shape);
      const g = randn(rng, outShape.reduce((a, b) => a * b, 1));
      await tf.setBackend('cpu');
      const [dxC, dwC] = convGrads(x, xs, w, ws, g, stride, pad);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const [dxW, dwW] = convGrads(x, xs, w, ws, g, stride, pad);
      expect(tf.memory().numTensors, 'tensor leak').to.equal(before);
      const tag = `b${batch} c${cin}->${cout} k${k} s${stride} ${pad}`;
      expect(relErr(dxW, dxC), `dx ${tag}`).to.be.at.most(1e-4);
      expect(relErr(dwW, dwC), `dw ${tag}`).to.be.at.most(1e-4);
      checked++;
    }
    expect(checked).to.equal(72);
  });
});
