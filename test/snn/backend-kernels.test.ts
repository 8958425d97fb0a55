/**
 * The wasm kernels installed for training speed (BatchMatMul transpose path, AvgPoolGrad as an
 * upsampling) and the arithmetic QCFS gradient agree with the reference computations.
 */
import { expect } from 'chai';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../src/snn/backend';
import { mulberry32 } from '../../src/prng';
import { qcfs } from '../../src/snn/qcfs';

function randn(rng: () => number, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng() * 2 - 1;
  return a;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Runs f on the cpu backend and on wasm (checking for leaks there); returns both results. */
async function onBoth(f: () => Float32Array[]): Promise<[Float32Array[], Float32Array[]]> {
  await tf.setBackend('cpu');
  const c = f();
  await tf.setBackend('wasm');
  const before = tf.memory().numTensors;
  const w = f();
  expect(tf.memory().numTensors, 'tensor leak').to.equal(before);
  return [c, w];
}

describe('snn/backend: wasm training kernels', () => {
  before(async () => { await initBackend('wasm', { log: () => undefined }); });
  after(async () => { await initBackend('cpu', { log: () => undefined }); });

  it('matMul with every transpose combination (and its gradients) matches the cpu backend', async () => {
    const rng = mulberry32(3);
    for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      for (const batch of [0, 1, 2]) {
        const [m, k, n] = [5, 7, 3];
        const lead = batch ? [batch] : [];
        const as = [...lead, ...(ta ? [k, m] : [m, k])], bs = [...lead, ...(tb ? [n, k] : [k, n])];
        const a = randn(rng, as.reduce((p, q) => p * q, 1)), b = randn(rng, bs.reduce((p, q) => p * q, 1));
        const g = randn(rng, (batch || 1) * m * n);
        const [c, w] = await onBoth(() => tf.tidy(() => {
          const at = tf.tensor(a, as), bt = tf.tensor(b, bs);
          const y = tf.matMul(at, bt, ta, tb);
          expect(y.shape).to.deep.equal([...lead, m, n]);
          const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, ta, tb), tf.tensor(g, y.shape))))([at, bt]);
          return [y.dataSync() as Float32Array, da.dataSync() as Float32Array, db.dataSync() as Float32Array];
        }));
        c.forEach((v, i) => expect(maxAbsDiff(w[i], v), `ta=${ta} tb=${tb} batch=${batch} out ${i}`).to.be.at.most(1e-5));
      }
    }
  });

  it('avgPool gradient (non-overlapping, trailing rows dropped, and overlapping) matches the cpu backend', async () => {
    const rng = mulberry32(5);
    const cases: Array<[number, number, number, number, number]> = [[8, 8, 2, 2, 3], [9, 7, 2, 2, 2], [9, 9, 3, 3, 4], [10, 11, 3, 3, 1], [9, 9, 3, 2, 2]];
    for (const [H, W, size, stride, C] of cases) {
      const x = randn(rng, 2 * H * W * C);
      const [c, w] = await onBoth(() => tf.tidy(() => {
        const xt = tf.tensor4d(x, [2, H, W, C]);
        const y = tf.avgPool(xt, size, stride, 'valid');
        const g = tf.tensor(randn(mulberry32(H * W), y.size), y.shape);
        const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(v as tf.Tensor4D, size, stride, 'valid'), g)))(xt);
        return [dx.dataSync() as Float32Array];
      }));
      expect(maxAbsDiff(w[0], c[0]), `${H}×${W} pool ${size}/${stride}`).to.be.at.most(1e-6);
    }
  });

  it('QCFS gradient equals the comparison/where formulation exactly, including x = 0 and x = λ', async () => {
    await tf.setBackend('wasm');
    const lambda = 1.5, L = 3;
    const xs = Float32Array.from([-1, 0, 1e-7, 0.2, 0.5, 0.75, 1.0, 1.4999999, 1.5, 1.6, 3, ...randn(mulberry32(9), 200).map((v) => v * 2)]);
    const g = randn(mulberry32(11), xs.length);
    tf.tidy(() => {
      const x = tf.tensor1d(xs), l = tf.scalar(lambda), gt = tf.tensor1d(g);
      const [dx, dl] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(qcfs(a, b, L), gt)))([x, l]);
      // the original formulation
      const a = qcfs(x, l, L);
      const inside = tf.logicalAnd(tf.greater(x, 0), tf.less(x, l));
      const refDx = tf.mul(gt, tf.cast(inside, 'float32'));
      const dlm = tf.where(tf.greaterEqual(x, l), tf.onesLike(x), tf.where(inside, tf.div(tf.sub(a, x), l), tf.zerosLike(x)));
      const refDl = tf.sum(tf.mul(gt, dlm));
      expect(Array.from(dx.dataSync())).to.deep.equal(Array.from(refDx.dataSync()));
      expect(dl.dataSync()[0]).to.equal(refDl.dataSync()[0]);
    });
  });
});
