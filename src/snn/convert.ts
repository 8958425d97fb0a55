/**
 * ANN → SNN conversion. Pure typed arrays (no tf): a converted network runs without TF.js.
 *
 * Hidden conv/dense layers become integrate-and-fire layers with threshold θ_l = λ_l, membrane
 * initialised to θ_l/2, bias added every step and reset by subtraction (QCFS neurons); in `qffs`
 * mode they also emit negative spikes (see runner.ts). avgpool stays a linear average of spikes.
 * The output layer accumulates O_t = Σ_{k≤t} (W·s_k + b).
 *
 * The ANN's shift φ (spec.shift) is folded into the hidden biases: (λ/L)·clip(floor(z·L/λ + φ), 0, L) is
 * the usual φ = ½ QCFS of z + (φ − ½)·λ/L, so b ← b + (φ − ½)·λ/L and the membrane stays at θ/2. At T = L
 * on a constant input this spikes exactly as often as a membrane started at φ·θ would (θ/2 + L·z +
 * (φ − ½)·λ = L·z + φ·θ); as T grows the rates approach clip(z + (φ − ½)·λ/L, 0, λ), the ANN's level
 * without its rounding bias, where a membrane started at φ·θ would approach clip(z, 0, λ) — biased by
 * (½ − φ)·λ/L in every layer (on the floor-shift fixture: 67 % argmax agreement with the ANN at T = 64
 * against 100 %).
 */
import { layerGeometry, levels, ResolvedSpec } from './spec';
import type { NamedWeight } from './weights';

export type ConversionMode = 'qcfs' | 'qffs';

export interface SnnConvLayer {
  kind: 'conv'; index: number;
  inH: number; inW: number; inC: number; outH: number; outW: number; outC: number;
  k: number; stride: number; padTop: number; padLeft: number;
  /** [k, k, inC, outC] */ weights: Float32Array; bias: Float32Array; threshold: number;
}
export interface SnnPoolLayer { kind: 'avgpool'; index: number; inH: number; inW: number; C: number; size: number; outH: number; outW: number }
export interface SnnDenseLayer { kind: 'dense'; index: number; inSize: number; outSize: number; /** [in, out] */ weights: Float32Array; bias: Float32Array; threshold: number }
export interface SnnOutputLayer { kind: 'output'; index: number; inSize: number; outSize: number; weights: Float32Array; bias: Float32Array }
export type SnnLayer = SnnConvLayer | SnnPoolLayer | SnnDenseLayer | SnnOutputLayer;

export interface SnnNetwork {
  mode: ConversionMode;
  /** Quantization levels L (the QFFS spike cap). */
  L: number;
  inputHeight: number; inputWidth: number; inputScale: number;
  layers: SnnLayer[];
  classes: string[];
}

/** Spiking layers (conv / dense) — those whose spikes are counted. */
export function spikingLayers(net: SnnNetwork): Array<SnnConvLayer | SnnDenseLayer> {
  return net.layers.filter((l): l is SnnConvLayer | SnnDenseLayer => l.kind === 'conv' || l.kind === 'dense');
}

export function neuronCount(l: SnnConvLayer | SnnDenseLayer): number {
  return l.kind === 'conv' ? l.outH * l.outW * l.outC : l.outSize;
}

/** The hidden bias with the ANN's shift folded in: b + (φ − ½)·λ/L (unchanged for the usual φ = ½). */
function shiftedBias(bias: Float32Array, spec: ResolvedSpec, lambda: number): Float32Array {
  if (spec.shift === 0.5) return bias;
  const delta = ((spec.shift - 0.5) * lambda) / levels(spec);
  return bias.map((b) => b + delta);
}

/** Builds the SNN from a spec and the ANN's weights (λ taken from the `l{i}/lambda` weights). */
export function convertWeights(spec: ResolvedSpec, weights: NamedWeight[], mode: ConversionMode = 'qcfs'): SnnNetwork {
  if (mode !== 'qcfs' && mode !== 'qffs') throw new Error(`unknown conversion mode "${mode}" (qcfs | qffs)`);
  const byName = new Map(weights.map((w) => [w.name, w]));
  const get = (name: string, size: number): Float32Array => {
    const w = byName.get(name);
    if (!w) throw new Error(`convert: missing weight ${name}`);
    if (w.data.length !== size) throw new Error(`convert: weight ${name} has ${w.data.length} values, expected ${size}`);
    return Float32Array.from(w.data);
  };
  const layers: SnnLayer[] = [];
  for (const g of layerGeometry(spec)) {
    const [ih, iw, ic] = g.inShape, [oh, ow, oc] = g.outShape;
    const l = g.layer;
    if (l.type === 'conv') {
      const threshold = get(`l${g.index}/lambda`, 1)[0];
      if (!(threshold > 0)) throw new Error(`convert: λ of layer ${g.index} must be > 0 (got ${threshold})`);
      layers.push({ kind: 'conv', index: g.index, inH: ih, inW: iw, inC: ic, outH: oh, outW: ow, outC: oc, k: l.kernel, stride: l.stride,
        padTop: g.padTop ?? 0, padLeft: g.padLeft ?? 0, weights: get(`l${g.index}/kernel`, l.kernel * l.kernel * ic * oc),
        bias: shiftedBias(get(`l${g.index}/bias`, oc), spec, threshold), threshold });
    } else if (l.type === 'avgpool') {
      layers.push({ kind: 'avgpool', index: g.index, inH: ih, inW: iw, C: ic, size: l.size, outH: oh, outW: ow });
    } else if (l.type === 'dense') {
      const threshold = get(`l${g.index}/lambda`, 1)[0];
      if (!(threshold > 0)) throw new Error(`convert: λ of layer ${g.index} must be > 0 (got ${threshold})`);
      layers.push({ kind: 'dense', index: g.index, inSize: ih * iw * ic, outSize: oc, weights: get(`l${g.index}/kernel`, ih * iw * ic * oc),
        bias: shiftedBias(get(`l${g.index}/bias`, oc), spec, threshold), threshold });
    } else {
      layers.push({ kind: 'output', index: g.index, inSize: ih * iw * ic, outSize: oc, weights: get('out/kernel', ih * iw * ic * oc), bias: get('out/bias', oc) });
    }
  }
  return { mode, L: levels(spec), inputHeight: spec.input.height, inputWidth: spec.input.width, inputScale: spec.input.scale, layers, classes: [...spec.classes] };
}
