/**
 * SnnRunner's WebAssembly SIMD kernel against a plain scalar step written here (double state,
 * the bias then each input event in list order, then the threshold: the arithmetic the kernel
 * promises): bitwise the same O_t and spike counts at every step, for QCFS and QFFS, on the bundled
 * model with the bundled recording's frames and on a random network whose channel counts are not
 * multiples of the SIMD width and whose second conv has stride 2 and 'valid' padding.
 */
import { expect } from 'chai';
import * as path from 'path';
import { QuantizedAnn } from '../../src/snn/ann';
import { initBackend } from '../../src/snn/backend';
import { convertWeights, spikingLayers, neuronCount, type SnnNetwork } from '../../src/snn/convert';
import { frameOf, type FrameDataset } from '../../src/snn/dataset';
import { simulate, SnnRunner } from '../../src/snn/runner';
import { validateSpec } from '../../src/snn/spec';
import { makeToyBars } from '../../src/snn/toy';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { collectFrameDataset } from '../../streams/sinks/to-frame-dataset';
import { openDataset } from '../../streams/sources/open-dataset';
import { repoRoot } from '../helpers/paths';

/** One sample's scalar SNN: sparse (index, value) lists between layers, as the kernel keeps them. */
class ScalarSnn {
  private readonly mem: Float64Array[];
  private readonly net: Int32Array[];
  readonly out: Float64Array;
  readonly spikes: number[];
  readonly negative: number[];
  constructor(private readonly n: SnnNetwork) {
    const sp = spikingLayers(n);
    this.mem = sp.map((l) => new Float64Array(neuronCount(l)).fill(l.threshold / 2));
    this.net = sp.map((l) => new Int32Array(neuronCount(l)));
    this.out = new Float64Array(n.classes.length);
    this.spikes = sp.map(() => 0);
    this.negative = sp.map(() => 0);
  }
  step(frame: Float32Array): void {
    let idx: number[] = [], val: number[] = [];
    frame.forEach((f, i) => { if (f !== 0) { idx.push(i); val.push(f * this.n.inputScale); } });
    let j = 0;
    for (const l of this.n.layers) {
      if (l.kind === 'avgpool') {
        const acc = new Map<number, number>();
        idx.forEach((id, e) => {
          const ci = id % l.C, pix = (id - ci) / l.C, ix = pix % l.inW, iy = (pix - ix) / l.inW;
          const oy = Math.floor(iy / l.size), ox = Math.floor(ix / l.size);
          if (oy >= l.outH || ox >= l.outW) return;
          const o = (oy * l.outW + ox) * l.C + ci;
          acc.set(o, (acc.get(o) ?? 0) + val[e]);
        });
        idx = []; val = [];
        for (const [o, v] of acc) if (v !== 0) { idx.push(o); val.push(v * (1 / (l.size * l.size))); }
        continue;
      }
      if (l.kind === 'output') {
        for (let q = 0; q < l.outSize; q++) this.out[q] += l.bias[q];
        idx.forEach((id, e) => { for (let q = 0; q < l.outSize; q++) this.out[q] += val[e] * l.weights[id * l.outSize + q]; });
        return;
      }
      const mem = this.mem[j], net = this.net[j], th = l.threshold;
      const C = l.kind === 'conv' ? l.outC : l.outSize;
      for (let i = 0; i < mem.length; i++) mem[i] += l.bias[i % C];
      idx.forEach((id, e) => {
        const v = val[e];
        if (l.kind === 'dense') { for (let q = 0; q < C; q++) mem[q] += v * l.weights[id * C + q]; return; }
        const ci = id % l.inC, pix = (id - ci) / l.inC, ix = pix % l.inW, iy = (pix - ix) / l.inW;
        for (let ky = 0; ky < l.k; ky++) for (let kx = 0; kx < l.k; kx++) {
          const ty = iy + l.padTop - ky, tx = ix + l.padLeft - kx;
          if (ty < 0 || tx < 0 || ty % l.stride || tx % l.stride) continue;
          const oy = ty / l.stride, ox = tx / l.stride;
          if (oy >= l.outH || ox >= l.outW) continue;
          for (let c = 0; c < C; c++) mem[(oy * l.outW + ox) * C + c] += v * l.weights[((ky * l.k + kx) * l.inC + ci) * C + c];
        }
      });
      idx = []; val = [];
      for (let i = 0; i < mem.length; i++) {
        if (mem[i] >= th && (this.n.mode === 'qcfs' || net[i] < this.n.L)) { mem[i] -= th; net[i]++; idx.push(i); val.push(th); }
        else if (this.n.mode === 'qffs' && mem[i] < 0 && net[i] > 0) { mem[i] += th; net[i]--; idx.push(i); val.push(-th); this.negative[j]++; }
      }
      this.spikes[j] += idx.length;
      j++;
    }
  }
}

/** Steps `ds` through SnnRunner (several slots, samples at different steps) and ScalarSnn; counts mismatching sample-steps. */
function mismatches(net: SnnNetwork, ds: FrameDataset, slots: number): { compared: number; differ: number } {
  const r = new SnnRunner(net, slots);
  let compared = 0, differ = 0;
  const live: { slot: number; ref: ScalarSnn; i: number; t: number }[] = [];
  let next = 0;
  while (next < ds.n || live.length) {
    while (live.length < slots && next < ds.n) live.push({ slot: r.admit(), ref: new ScalarSnn(net), i: next++, t: 0 });
    r.step(live.map((s) => ({ slot: s.slot, frame: frameOf(ds, s.i, s.t) })));
    for (const s of live) {
      s.ref.step(frameOf(ds, s.i, s.t));
      s.t++;
      const got = r.read(s.slot);
      compared++;
      const same = got.output.every((v, q) => Object.is(v, Math.fround(s.ref.out[q]))) &&
        got.spikes.every((v, q) => v === s.ref.spikes[q]) && got.negativeSpikes.every((v, q) => v === s.ref.negative[q]);
      if (!same) differ++;
    }
    for (const s of live.filter((x) => x.t === ds.T)) r.release(s.slot);
    live.splice(0, live.length, ...live.filter((x) => x.t < ds.T));
  }
  return { compared, differ };
}

describe('SnnRunner kernel (WebAssembly SIMD) against a plain scalar step', function () {
  this.timeout(120_000);
  let gestureFrames: FrameDataset;

  before(async () => {
    await initBackend('wasm', { log: () => undefined });
    const m = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    gestureFrames = await collectFrameDataset(await openDataset(path.join(repoRoot, 'recordings', 'gestures'), { split: 'all' }), { binUs: m.binUs, T: m.maxSteps, downsample: m.downsample });
  });

  for (const mode of ['qcfs', 'qffs'] as const) {
    it(`bundled model, ${mode}: bitwise the same O_t and spike counts at every step`, () => {
      const net = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'), { mode }).net;
      const r = mismatches(net, gestureFrames, 4);
      expect(r.compared).to.equal(gestureFrames.n * gestureFrames.T);
      expect(r.differ).to.equal(0);
    });

    it(`odd channel counts, stride-2 'valid' conv, input scale 0.5, ${mode}: bitwise the same`, () => {
      const spec = validateSpec({
        input: { height: 14, width: 14, channels: 2, scale: 0.5 },
        layers: [{ type: 'conv', kernel: 3, channels: 6 }, { type: 'avgpool', size: 2 }, { type: 'conv', kernel: 3, channels: 5, stride: 2, padding: 'valid' }, { type: 'dense', units: 7 }],
        classes: ['a', 'b', 'c'],
      });
      const ann = QuantizedAnn.create(spec, 11, 0.3); // low λ: every layer spikes (QFFS: negative spikes too)
      const net = convertWeights(spec, ann.getWeights(), mode);
      ann.dispose();
      const ds = makeToyBars({ n: 12, T: 10, height: 14, width: 14, seed: 5, density: 0.8, noise: 0.05 });
      const r = mismatches(net, ds, 5);
      expect(r.compared).to.equal(120);
      expect(r.differ).to.equal(0);
      const one = simulate(net, Array.from({ length: ds.T }, (_, t) => frameOf(ds, 0, t))).final;
      expect(Math.min(...one.spikes)).to.be.greaterThan(0);
      if (mode === 'qffs') expect(Math.min(...one.negativeSpikes)).to.be.greaterThan(0);
    });
  }

  it('says how many slots fit when the kernel memory would pass 4 GiB', () => {
    const net = loadClassifierModel(path.join(repoRoot, 'models', 'gesture')).net;
    expect(() => new SnnRunner(net, 100_000)).to.throw(/100000 slots need .* GiB of kernel memory/);
  });
});
