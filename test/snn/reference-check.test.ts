/**
 * An independent check of the converted SNN and of the Dynamic Confidence rule: a small reference
 * implementation written from the method (/work/shared/reference/METHOD.md) and TF.js's layer
 * conventions alone — plain loops over Float64 state, no code shared with src/snn or src/confidence
 * — stepped beside SnnRunner on a tiny trained model. O_t must agree within 1e-5 (relative to the
 * output's scale) and the prediction at every step must be equal, for QCFS and QFFS; the stopping
 * step and answer of the rule must be equal for several θ.
 */
import { expect } from 'chai';
import { confidence, decide } from '../../src/confidence';
import { initBackend } from '../../src/snn/backend';
import { convertWeights } from '../../src/snn/convert';
import { SnnRunner } from '../../src/snn/runner';
import { validateSpec, type ModelSpec } from '../../src/snn/spec';
import { makeToyBars } from '../../src/snn/toy';
import { trainAnn } from '../../src/snn/train';

interface W {
  readonly name: string;
  readonly shape: number[];
  readonly data: Float32Array;
}

/** One layer of the reference network: a linear map (conv, dense, pool) and, for hidden conv/dense, a neuron threshold. */
interface RefLayer {
  readonly kind: 'conv' | 'dense' | 'pool' | 'out';
  readonly inShape: [number, number, number];
  readonly outShape: [number, number, number];
  readonly kernel?: Float32Array;
  readonly bias?: Float32Array;
  readonly k?: number;
  readonly stride?: number;
  readonly padBefore?: [number, number];
  readonly size?: number;
  /** λ of a spiking layer (its threshold); undefined for pooling and the output. */
  readonly theta?: number;
}

/** TF 'same' padding: out = ⌈in/s⌉, total = max((out−1)·s + k − in, 0), before = ⌊total/2⌋. */
function samePad(inSize: number, k: number, s: number): { out: number; before: number } {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  return { out, before: Math.floor(total / 2) };
}

function buildReference(spec: ModelSpec, weights: W[]): RefLayer[] {
  const byName = new Map(weights.map((w) => [w.name, w]));
  const get = (n: string) => {
    const w = byName.get(n);
    if (!w) throw new Error(`reference: weight ${n} missing`);
    return w;
  };
  const layers: RefLayer[] = [];
  let shape: [number, number, number] = [spec.input.height, spec.input.width, 2];
  spec.layers.forEach((l, i) => {
    if (l.type === 'avgpool') {
      const out: [number, number, number] = [Math.floor(shape[0] / l.size), Math.floor(shape[1] / l.size), shape[2]];
      layers.push({ kind: 'pool', inShape: shape, outShape: out, size: l.size });
      shape = out;
    } else if (l.type === 'conv') {
      const s = l.stride ?? 1;
      const valid = l.padding === 'valid';
      const ph = valid ? { out: Math.floor((shape[0] - l.kernel) / s) + 1, before: 0 } : samePad(shape[0], l.kernel, s);
      const pw = valid ? { out: Math.floor((shape[1] - l.kernel) / s) + 1, before: 0 } : samePad(shape[1], l.kernel, s);
      const out: [number, number, number] = [ph.out, pw.out, l.channels];
      layers.push({
        kind: 'conv', inShape: shape, outShape: out, kernel: get(`l${i}/kernel`).data, bias: get(`l${i}/bias`).data,
        k: l.kernel, stride: s, padBefore: [ph.before, pw.before], theta: get(`l${i}/lambda`).data[0],
      });
      shape = out;
    } else {
      const out: [number, number, number] = [1, 1, l.units];
      layers.push({ kind: 'dense', inShape: shape, outShape: out, kernel: get(`l${i}/kernel`).data, bias: get(`l${i}/bias`).data, theta: get(`l${i}/lambda`).data[0] });
      shape = out;
    }
  });
  const C = spec.classes.length;
  layers.push({ kind: 'out', inShape: shape, outShape: [1, 1, C], kernel: get('out/kernel').data, bias: get('out/bias').data });
  return layers;
}

/** The linear part of a layer on an NHWC input (flattened as TF does: (y, x, c)). */
function linear(l: RefLayer, x: Float64Array): Float64Array {
  const [ih, iw, ic] = l.inShape;
  const [oh, ow, oc] = l.outShape;
  const y = new Float64Array(oh * ow * oc);
  if (l.kind === 'pool') {
    const s = l.size!;
    for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) for (let ch = 0; ch < oc; ch++) {
      let sum = 0;
      for (let dy = 0; dy < s; dy++) for (let dx = 0; dx < s; dx++) sum += x[((r * s + dy) * iw + (c * s + dx)) * ic + ch];
      y[(r * ow + c) * oc + ch] = sum / (s * s);
    }
    return y;
  }
  if (l.kind === 'conv') {
    const k = l.k!;
    const s = l.stride!;
    const [pt, pl] = l.padBefore!;
    for (let r = 0; r < oh; r++) for (let c = 0; c < ow; c++) for (let o = 0; o < oc; o++) {
      let sum = l.bias![o];
      for (let ky = 0; ky < k; ky++) {
        const yy = r * s + ky - pt;
        if (yy < 0 || yy >= ih) continue;
        for (let kx = 0; kx < k; kx++) {
          const xx = c * s + kx - pl;
          if (xx < 0 || xx >= iw) continue;
          for (let i = 0; i < ic; i++) sum += x[(yy * iw + xx) * ic + i] * l.kernel![((ky * k + kx) * ic + i) * oc + o];
        }
      }
      y[(r * ow + c) * oc + o] = sum;
    }
    return y;
  }
  const n = ih * iw * ic;
  for (let o = 0; o < oc; o++) {
    let sum = l.bias![o];
    for (let i = 0; i < n; i++) sum += x[i] * l.kernel![i * oc + o];
    y[o] = sum;
  }
  return y;
}

/** The reference SNN: soft-reset IF neurons (QCFS), with QFFS's negative spikes and spike cap. */
class ReferenceSnn {
  private v: Float64Array[] = [];
  private net: Int32Array[] = [];
  private out: Float64Array;
  constructor(private readonly layers: RefLayer[], private readonly mode: 'qcfs' | 'qffs', private readonly L: number) {
    this.out = new Float64Array(layers[layers.length - 1].outShape[2]);
    this.reset();
  }
  reset(): void {
    this.v = this.layers.map((l) => new Float64Array(l.theta !== undefined ? l.outShape[0] * l.outShape[1] * l.outShape[2] : 0).fill((l.theta ?? 0) / 2));
    this.net = this.v.map((v) => new Int32Array(v.length));
    this.out.fill(0);
  }
  /** One step on one frame (event counts); returns O_t. */
  step(frame: Float32Array): Float64Array {
    let x: Float64Array = Float64Array.from(frame);
    this.layers.forEach((l, li) => {
      const z = linear(l, x);
      if (l.kind === 'out') {
        for (let k = 0; k < z.length; k++) this.out[k] += z[k];
        return;
      }
      if (l.theta === undefined) {
        x = z;
        return;
      }
      const th = l.theta;
      const v = this.v[li];
      const cnt = this.net[li];
      const s = new Float64Array(z.length);
      for (let j = 0; j < z.length; j++) {
        v[j] += z[j];
        if (v[j] >= th && (this.mode === 'qcfs' || cnt[j] < this.L)) {
          s[j] = th;
          v[j] -= th;
          cnt[j]++;
        } else if (this.mode === 'qffs' && v[j] < 0 && cnt[j] > 0) {
          s[j] = -th;
          v[j] += th;
          cnt[j]--;
        }
      }
      x = s;
    });
    return Float64Array.from(this.out);
  }
}

/** c = max softmax(O/(α·τ)) and argmax (first on ties), plain loops. */
function referenceConfidence(O: ArrayLike<number>, alpha: number, tau: number): { c: number; k: number } {
  let k = 0;
  for (let j = 1; j < O.length; j++) if (O[j] > O[k]) k = j;
  let sum = 0;
  for (let j = 0; j < O.length; j++) sum += Math.exp((O[j] - O[k]) / (alpha * tau));
  return { c: 1 / sum, k };
}

describe('independent reference check: QCFS/QFFS neurons and the confidence rule', function () {
  this.timeout(60_000);
  const T = 8;
  const spec: ModelSpec = {
    input: { height: 10, width: 10, channels: 2 },
    layers: [
      { type: 'conv', kernel: 3, channels: 4 },
      { type: 'avgpool', size: 2 },
      { type: 'conv', kernel: 3, channels: 6, stride: 2 },
      { type: 'dense', units: 12 },
    ],
    classes: ['horizontal', 'vertical', 'diagonal', 'antidiagonal'],
  };
  let weights: W[] = [];
  const test = makeToyBars({ n: 12, T, height: 10, width: 10, seed: 22 });

  before(async () => {
    await initBackend('cpu', { log: () => undefined });
    const train = makeToyBars({ n: 64, T, height: 10, width: 10, seed: 21 });
    const res = await trainAnn(train, { spec, epochs: 3, lr: 1e-2, seed: 5 });
    weights = res.model.weights;
    res.ann.dispose();
  });

  for (const mode of ['qcfs', 'qffs'] as const) {
    it(`${mode}: O_t within 1e-5 and the same prediction at every step; the same decisions for every θ`, () => {
      const ref = new ReferenceSnn(buildReference(spec, weights), mode, 3);
      const runner = new SnnRunner(convertWeights(validateSpec(spec), weights, mode), 1);
      const frameSize = 10 * 10 * 2;
      const alpha = mode === 'qcfs' ? T : 3;
      const tau = 1.3;
      let maxDiff = 0;
      let spikingSteps = 0;
      for (let i = 0; i < test.n; i++) {
        ref.reset();
        const slot = runner.admit();
        const conf = new Float64Array(T);
        const pred = new Int32Array(T);
        const refConf = new Float64Array(T);
        const refPred = new Int32Array(T);
        for (let t = 0; t < T; t++) {
          const frame = test.frames.subarray((i * T + t) * frameSize, (i * T + t + 1) * frameSize);
          const o = ref.step(frame);
          runner.step([{ slot, frame }]);
          const r = runner.read(slot);
          const scale = Math.max(1, ...Array.from(o, Math.abs));
          for (let k = 0; k < o.length; k++) maxDiff = Math.max(maxDiff, Math.abs(o[k] - r.output[k]) / scale);
          if (r.spikes.some((s) => s > 0)) spikingSteps++;
          const rc = referenceConfidence(o, alpha, tau);
          const c = confidence(r.output, alpha, tau);
          expect(c.predicted, `sample ${i} step ${t + 1}`).to.equal(rc.k);
          expect(c.confidence).to.be.closeTo(rc.c, 1e-5);
          conf[t] = c.confidence;
          pred[t] = c.predicted;
          refConf[t] = rc.c;
          refPred[t] = rc.k;
        }
        runner.release(slot);
        // The rule: stop at the first t with c_t > θ, else at T; answer argmax O_t there.
        for (const theta of [0, 0.3, 0.5, 0.7, 0.9, 0.99, 1]) {
          let t = 0;
          while (t < T - 1 && !(refConf[t] > theta)) t++;
          const d = decide(conf, pred, theta, T);
          expect(d.steps, `sample ${i} θ ${theta}`).to.equal(t + 1);
          expect(d.predicted).to.equal(refPred[t]);
        }
      }
      expect(maxDiff).to.be.below(1e-5);
      expect(spikingSteps, 'the model spikes').to.be.greaterThan(T);
    });
  }
});
