/**
 * The quantized ANN (QCFS activations, full-precision weights and output layer), built from tf ops
 * and tf.Variables directly so that conversion and training stay transparent.
 *
 * Weight names (also used in model files):
 *   `l{i}/kernel` conv [k, k, cin, cout] or dense [in, out]; `l{i}/bias` [out]; `l{i}/lambda` [] — for
 *   spec layer i (conv or dense); `out/kernel` [in, classes], `out/bias` [classes] for the output layer.
 */
import * as tf from '@tensorflow/tfjs';
import { type ConvPadding, layerGeometry, levels, LayerGeometry, ResolvedSpec } from './spec';
import { qcfs, qcfsForward } from './qcfs';
import { mulberry32, normal } from '../prng';

let variableCounter = 0;

/** A spec conv padding as TF.js takes it (explicit padding as [[0, 0], [top, bottom], [left, right], [0, 0]]). */
function tfPadding(p: ConvPadding | 'same' | 'valid'): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] {
  return typeof p === 'string' ? p : [[0, 0], [p.top, p.bottom], [p.left, p.right], [0, 0]];
}

export type { NamedWeight } from './weights';
import type { NamedWeight } from './weights';

export interface AnnParamLayer {
  geometry: LayerGeometry;
  kind: 'conv' | 'dense' | 'output';
  kernel: tf.Variable;
  bias: tf.Variable;
  /** QCFS threshold λ (hidden layers only). */
  lambda?: tf.Variable;
}

export class QuantizedAnn {
  readonly spec: ResolvedSpec;
  readonly geometry: LayerGeometry[];
  readonly L: number;
  /** Parameter layers by spec index (avgpool layers have none); the output layer is last. */
  readonly params: Map<number, AnnParamLayer> = new Map();

  private constructor(spec: ResolvedSpec, weights: Map<string, NamedWeight>) {
    this.spec = spec;
    this.geometry = layerGeometry(spec);
    this.L = levels(spec);
    for (const g of this.geometry) {
      if (g.layer.type === 'avgpool') continue;
      const prefix = g.layer.type === 'output' ? 'out' : `l${g.index}`;
      const get = (n: string, shape: number[]) => {
        const w = weights.get(`${prefix}/${n}`);
        if (!w) throw new Error(`missing weight ${prefix}/${n}`);
        const expect = shape.reduce((a, b) => a * b, 1);
        if (w.data.length !== expect || w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i]))
          throw new Error(`weight ${prefix}/${n} has shape [${w.shape}] but the spec needs [${shape}]`);
        const name = `${prefix}/${n}#${++variableCounter}`;
        return tf.tidy(() => tf.variable(tf.tensor(w.data, shape), true, name));
      };
      const [ih, iw, ic] = g.inShape, oc = g.outShape[2];
      const kind = g.layer.type === 'conv' ? 'conv' : g.layer.type === 'dense' ? 'dense' : 'output';
      const kshape = g.layer.type === 'conv' ? [g.layer.kernel, g.layer.kernel, ic, oc] : [ih * iw * ic, oc];
      const p: AnnParamLayer = { geometry: g, kind, kernel: get('kernel', kshape), bias: get('bias', [oc]) };
      if (kind !== 'output') p.lambda = get('lambda', []);
      this.params.set(g.index, p);
    }
  }

  /** He-normal weights from a seeded PRNG, zero biases, λ = lambdaInit (refine with calibrateLambdas). */
  static create(spec: ResolvedSpec, seed = 0, lambdaInit = 4): QuantizedAnn {
    const rng = mulberry32(seed);
    const weights = new Map<string, NamedWeight>();
    for (const g of layerGeometry(spec)) {
      if (g.layer.type === 'avgpool') continue;
      const prefix = g.layer.type === 'output' ? 'out' : `l${g.index}`;
      const [ih, iw, ic] = g.inShape, oc = g.outShape[2];
      const shape = g.layer.type === 'conv' ? [g.layer.kernel, g.layer.kernel, ic, oc] : [ih * iw * ic, oc];
      const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = Math.sqrt(2 / fanIn);
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = normal(rng) * std;
      weights.set(`${prefix}/kernel`, { name: `${prefix}/kernel`, shape, data });
      weights.set(`${prefix}/bias`, { name: `${prefix}/bias`, shape: [oc], data: new Float32Array(oc) });
      if (g.layer.type !== 'output') weights.set(`${prefix}/lambda`, { name: `${prefix}/lambda`, shape: [], data: Float32Array.of(lambdaInit) });
    }
    return new QuantizedAnn(spec, weights);
  }

  static fromWeights(spec: ResolvedSpec, weights: NamedWeight[]): QuantizedAnn {
    return new QuantizedAnn(spec, new Map(weights.map((w) => [w.name, w])));
  }

  /** All trainable variables (kernels, biases, λ), in a stable order. */
  variables(): tf.Variable[] {
    const v: tf.Variable[] = [];
    for (const p of this.params.values()) { v.push(p.kernel, p.bias); if (p.lambda) v.push(p.lambda); }
    return v;
  }

  /** Names parallel to variables(). */
  variableNames(): string[] {
    const n: string[] = [];
    for (const p of this.params.values()) {
      const prefix = p.kind === 'output' ? 'out' : `l${p.geometry.index}`;
      n.push(`${prefix}/kernel`, `${prefix}/bias`);
      if (p.lambda) n.push(`${prefix}/lambda`);
    }
    return n;
  }

  /** Which variables get weight decay (kernels only). */
  decayMask(): boolean[] {
    return this.variableNames().map((n) => n.endsWith('/kernel'));
  }

  /**
   * Logits [B, classes] for input [B, H, W, 2] (event counts; multiplied by spec.input.scale).
   * `train` uses the QCFS custom gradient; otherwise the plain forward. `quantize: false` replaces each
   * QCFS by clip(x + (φ − ½)·λ/L, 0, λ), its limit without rounding: what the converted SNN's rates
   * converge to as T grows (convert.ts). `onPreActivation` sees each hidden layer's input to QCFS (used for λ calibration).
   */
  forward(x: tf.Tensor4D, opts: { train?: boolean; quantize?: boolean; onPreActivation?: (index: number, z: tf.Tensor) => void } = {}): tf.Tensor2D {
    const act = opts.train ? qcfs : qcfsForward;
    return tf.tidy(() => {
      let h: tf.Tensor = this.spec.input.scale === 1 ? x : tf.mul(x, this.spec.input.scale);
      for (const g of this.geometry) {
        const l = g.layer;
        if (l.type === 'avgpool') {
          h = tf.avgPool(h as tf.Tensor4D, l.size, l.size, 'valid');
          continue;
        }
        const p = this.params.get(g.index)!;
        if (l.type === 'conv') {
          h = tf.add(tf.conv2d(h as tf.Tensor4D, p.kernel as tf.Tensor4D, l.stride, tfPadding(l.padding)), p.bias);
        } else {
          if (h.rank !== 2) h = tf.reshape(h, [h.shape[0], -1]);
          h = tf.add(tf.matMul(h as tf.Tensor2D, p.kernel as tf.Tensor2D), p.bias);
        }
        if (p.lambda) {
          if (opts.onPreActivation) opts.onPreActivation(g.index, h);
          if (opts.quantize === false) {
            const shift = this.spec.shift === 0.5 ? h : tf.add(h, tf.mul(p.lambda, (this.spec.shift - 0.5) / this.L));
            h = tf.minimum(tf.relu(shift), p.lambda);
          }
          else h = act(h, p.lambda, this.L, this.spec.shift);
        }
      }
      return h as tf.Tensor2D;
    });
  }

  /**
   * Data-driven λ initialisation: layer by layer, λ = the `quantile` of the positive pre-activations
   * on `x` (with the already-calibrated λ of earlier layers in effect).
   */
  calibrateLambdas(x: tf.Tensor4D, quantile = 0.995): void {
    for (const p of this.params.values()) {
      if (!p.lambda) continue;
      let found: Float32Array | null = null;
      tf.tidy(() => {
        this.forward(x, { onPreActivation: (i, z) => { if (i === p.geometry.index) found = z.dataSync() as Float32Array; } });
      });
      const pos = Array.from(found ?? []).filter((v) => v > 0).sort((a, b) => a - b);
      if (pos.length) {
        const q = pos[Math.min(pos.length - 1, Math.floor(quantile * pos.length))];
        if (q > 1e-6) tf.tidy(() => p.lambda!.assign(tf.scalar(q)));
      }
    }
  }

  /** λ per hidden parameter layer, keyed by spec layer index. */
  lambdas(): Map<number, number> {
    const m = new Map<number, number>();
    for (const p of this.params.values()) if (p.lambda) m.set(p.geometry.index, p.lambda.dataSync()[0]);
    return m;
  }

  /** Copies of all weights (for saving and conversion). */
  getWeights(): NamedWeight[] {
    const names = this.variableNames();
    return this.variables().map((v, i) => ({ name: names[i], shape: v.shape.slice(), data: Float32Array.from(v.dataSync() as Float32Array) }));
  }

  setWeights(weights: NamedWeight[]): void {
    const byName = new Map(weights.map((w) => [w.name, w]));
    const names = this.variableNames();
    this.variables().forEach((v, i) => {
      const w = byName.get(names[i]);
      if (!w) throw new Error(`missing weight ${names[i]}`);
      tf.tidy(() => v.assign(tf.tensor(w.data, v.shape)));
    });
  }

  /** Class predictions for input [B,H,W,2]. */
  predict(x: tf.Tensor4D): Int32Array {
    return tf.tidy(() => tf.argMax(this.forward(x), 1).dataSync() as Int32Array);
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }
}
