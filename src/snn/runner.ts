/**
 * Stateful, slot-batched SNN runner on typed arrays (no TF.js).
 *
 * Each slot holds one sample's state: membrane potentials (Float64) and net spike counts of every
 * spiking layer, the output accumulator O_t, the step number and spike counts. `step()` advances
 * every given slot by one time step in one call; the slots may be at different steps. The work is
 * event-driven: a layer only touches the weights of its inputs that are non-zero (input pixels with
 * events, spikes, pooled spikes), so its cost follows the activity, which is sparse for DVS frames
 * and 2-bit spiking layers. A sample's arithmetic depends only on its own inputs (same operations in
 * the same order), so its result does not depend on its slot or on the other samples in the batch.
 *
 * Neurons (per hidden layer l, threshold θ = λ_l, L = 2^bits − 1):
 *   v ← v + W·s_in + b
 *   QCFS: if v ≥ θ: emit +θ, v ← v − θ
 *   QFFS: if v ≥ θ and net < L: emit +θ, v ← v − θ, net ← net + 1
 *         else if v < 0 and net > 0: emit −θ, v ← v + θ, net ← net − 1
 *   (membrane starts at θ/2, net at 0)
 * Output layer: O_t = O_{t−1} + W·s_t + b.
 *
 * Spike accounting: per spiking layer, the number of spike events since admit(); negative (QFFS)
 * spikes count by their magnitude (|−1| = 1) and are also reported apart. Spikes per neuron divide
 * the total over all spiking layers by their neuron count (output layer excluded, as in the paper).
 */
import { neuronCount, SnnConvLayer, SnnDenseLayer, SnnNetwork, spikingLayers } from './convert';

export interface SlotReadout {
  /** O_t, the accumulated output (one value per class). */
  output: Float32Array;
  /** Steps taken since admit(). */
  step: number;
  /** Spike events per spiking layer (|negative| included). */
  spikes: number[];
  /** Negative (QFFS) spike events per spiking layer. */
  negativeSpikes: number[];
  /** Σ spikes / Σ neurons over the spiking layers (output excluded). */
  spikesPerNeuron: number;
}

export type FrameLike = Float32Array | { data: Float32Array };
export type StepInputs = Map<number, FrameLike> | ReadonlyArray<{ slot: number; frame: FrameLike }>;

export class SlotsFullError extends Error {
  constructor(capacity: number) { super(`SnnRunner: all ${capacity} slots are in use`); this.name = 'SlotsFullError'; }
}

export class SnnRunner {
  readonly net: SnnNetwork;
  readonly capacity: number;
  readonly frameSize: number;
  /** Neurons per spiking layer, and their sum. */
  readonly neurons: number[];
  readonly totalNeurons: number;

  private readonly spiking: Array<SnnConvLayer | SnnDenseLayer>;
  private readonly mem: Float64Array[];
  private readonly net_: Int32Array[];
  private readonly out: Float64Array;
  private readonly steps: Int32Array;
  private readonly active: Uint8Array;
  private readonly spikeCount: Float64Array;
  private readonly negCount: Float64Array;
  private readonly free: number[] = [];
  // scratch (shared by all slots; slots are processed one after another)
  private idxA: Int32Array; private valA: Float64Array;
  private idxB: Int32Array; private valB: Float64Array;
  private readonly poolAcc: Float64Array; private readonly poolMark: Uint8Array;

  constructor(net: SnnNetwork, slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`SnnRunner: slots must be a positive integer (got ${slots})`);
    this.net = net;
    this.capacity = slots;
    this.frameSize = net.inputHeight * net.inputWidth * 2;
    this.spiking = spikingLayers(net);
    this.neurons = this.spiking.map(neuronCount);
    this.totalNeurons = this.neurons.reduce((a, b) => a + b, 0);
    this.mem = this.neurons.map((n) => new Float64Array(n * slots));
    this.net_ = this.neurons.map((n) => new Int32Array(n * slots));
    const classes = net.classes.length;
    this.out = new Float64Array(classes * slots);
    this.steps = new Int32Array(slots);
    this.active = new Uint8Array(slots);
    this.spikeCount = new Float64Array(this.spiking.length * slots);
    this.negCount = new Float64Array(this.spiking.length * slots);
    let maxSize = this.frameSize, maxPool = 1;
    for (const l of net.layers) {
      if (l.kind === 'conv') maxSize = Math.max(maxSize, l.outH * l.outW * l.outC);
      else if (l.kind === 'dense' || l.kind === 'output') maxSize = Math.max(maxSize, l.outSize, l.inSize);
      else maxPool = Math.max(maxPool, l.outH * l.outW * l.C);
    }
    this.idxA = new Int32Array(maxSize); this.valA = new Float64Array(maxSize);
    this.idxB = new Int32Array(maxSize); this.valB = new Float64Array(maxSize);
    this.poolAcc = new Float64Array(maxPool); this.poolMark = new Uint8Array(maxPool);
    for (let s = slots - 1; s >= 0; s--) this.free.push(s);
  }

  get activeCount(): number { return this.capacity - this.free.length; }
  isActive(slot: number): boolean { return slot >= 0 && slot < this.capacity && this.active[slot] === 1; }

  /** Takes a free slot and resets its state; throws SlotsFullError when none is free. */
  admit(): number {
    const slot = this.free.pop();
    if (slot === undefined) throw new SlotsFullError(this.capacity);
    this.reset(slot);
    this.active[slot] = 1;
    return slot;
  }

  /** Frees a slot (its state is reset on the next admit()). */
  release(slot: number): void {
    this.check(slot);
    this.active[slot] = 0;
    this.free.push(slot);
  }

  private check(slot: number): void {
    if (!this.isActive(slot)) throw new Error(`SnnRunner: slot ${slot} is not admitted`);
  }

  private reset(slot: number): void {
    this.spiking.forEach((l, j) => {
      const n = this.neurons[j];
      this.mem[j].fill(l.threshold / 2, slot * n, (slot + 1) * n);
      this.net_[j].fill(0, slot * n, (slot + 1) * n);
    });
    const c = this.net.classes.length;
    this.out.fill(0, slot * c, (slot + 1) * c);
    this.steps[slot] = 0;
    const k = this.spiking.length;
    this.spikeCount.fill(0, slot * k, (slot + 1) * k);
    this.negCount.fill(0, slot * k, (slot + 1) * k);
  }

  /** Advances each given slot by one step with its frame (H×W×2 NHWC event counts). */
  step(inputs: StepInputs): void {
    const list: Array<[number, Float32Array]> = [];
    if (inputs instanceof Map) for (const [slot, f] of inputs) list.push([slot, f instanceof Float32Array ? f : f.data]);
    else for (const { slot, frame } of inputs) list.push([slot, frame instanceof Float32Array ? frame : frame.data]);
    const seen = new Set<number>();
    for (const [slot, frame] of list) {
      this.check(slot);
      if (seen.has(slot)) throw new Error(`SnnRunner: slot ${slot} given twice in one step`);
      seen.add(slot);
      if (frame.length !== this.frameSize) throw new Error(`SnnRunner: frame has ${frame.length} values, expected ${this.frameSize} (${this.net.inputHeight}×${this.net.inputWidth}×2)`);
    }
    for (const [slot, frame] of list) this.stepSlot(slot, frame);
  }

  /** The slot's accumulated output O_t, step count and spike counts. */
  read(slot: number): SlotReadout {
    this.check(slot);
    const c = this.net.classes.length, k = this.spiking.length;
    const output = new Float32Array(c);
    for (let i = 0; i < c; i++) output[i] = this.out[slot * c + i];
    const spikes: number[] = [], negativeSpikes: number[] = [];
    let total = 0;
    for (let j = 0; j < k; j++) { spikes.push(this.spikeCount[slot * k + j]); negativeSpikes.push(this.negCount[slot * k + j]); total += spikes[j]; }
    return { output, step: this.steps[slot], spikes, negativeSpikes, spikesPerNeuron: total / this.totalNeurons };
  }

  private stepSlot(slot: number, frame: Float32Array): void {
    // Input: the frame's non-zero pixels, scaled.
    let idx = this.idxA, val = this.valA, n = 0;
    const scale = this.net.inputScale;
    for (let i = 0; i < frame.length; i++) {
      const f = frame[i];
      if (f !== 0) { idx[n] = i; val[n] = f * scale; n++; }
    }
    let j = 0;
    const k = this.spiking.length;
    for (const l of this.net.layers) {
      if (l.kind === 'avgpool') {
        n = this.pool(l.inW, l.C, l.size, l.outH, l.outW, idx, val, n, this.idxB, this.valB);
      } else if (l.kind === 'output') {
        const c = l.outSize, base = slot * c, o = this.out, w = l.weights, b = l.bias;
        for (let q = 0; q < c; q++) o[base + q] += b[q];
        for (let e = 0; e < n; e++) {
          const v = val[e], wb = idx[e] * c;
          for (let q = 0; q < c; q++) o[base + q] += v * w[wb + q];
        }
        break;
      } else {
        const N = this.neurons[j], off = slot * N, mem = this.mem[j];
        if (l.kind === 'conv') this.convIntegrate(l, mem, off, idx, val, n);
        else this.denseIntegrate(l, mem, off, idx, val, n);
        const r = this.fire(l.threshold, mem, this.net_[j], off, N, this.idxB, this.valB);
        n = r;
        this.spikeCount[slot * k + j] += this.lastPos + this.lastNeg;
        this.negCount[slot * k + j] += this.lastNeg;
        j++;
      }
      // swap buffers: the layer's output (in B) becomes the next input (in A)
      const ti = this.idxA, tv = this.valA;
      this.idxA = this.idxB; this.valA = this.valB; this.idxB = ti; this.valB = tv;
      idx = this.idxA; val = this.valA;
    }
    this.steps[slot]++;
  }

  private lastPos = 0;
  private lastNeg = 0;

  private convIntegrate(l: SnnConvLayer, mem: Float64Array, off: number, idx: Int32Array, val: Float64Array, n: number): void {
    const { inW, inC, outH, outW, outC, k, stride, padTop, padLeft } = l;
    const w = l.weights, b = l.bias;
    const P = outH * outW;
    for (let p = 0, o = off; p < P; p++) for (let c = 0; c < outC; c++, o++) mem[o] += b[c];
    if (stride === 1) {
      // fast path: output rows/cols touched by input (iy, ix) are a contiguous range
      for (let e = 0; e < n; e++) {
        const v = val[e], id = idx[e];
        const ci = id % inC, pix = (id - ci) / inC, ix = pix % inW, iy = (pix - ix) / inW;
        const ty = iy + padTop, tx = ix + padLeft;
        const oy0 = ty - k + 1 > 0 ? ty - k + 1 : 0, oy1 = ty < outH - 1 ? ty : outH - 1;
        const ox0 = tx - k + 1 > 0 ? tx - k + 1 : 0, ox1 = tx < outW - 1 ? tx : outW - 1;
        for (let oy = oy0; oy <= oy1; oy++) {
          const ky = ty - oy;
          for (let ox = ox0; ox <= ox1; ox++) {
            const wb = ((ky * k + (tx - ox)) * inC + ci) * outC, vb = off + (oy * outW + ox) * outC;
            for (let c = 0; c < outC; c++) mem[vb + c] += v * w[wb + c];
          }
        }
      }
      return;
    }
    for (let e = 0; e < n; e++) {
      const v = val[e], id = idx[e];
      const ci = id % inC, pix = (id - ci) / inC, ix = pix % inW, iy = (pix - ix) / inW;
      for (let ky = 0; ky < k; ky++) {
        const ty = iy + padTop - ky;
        if (ty < 0) break;
        if (ty % stride !== 0) continue;
        const oy = ty / stride;
        if (oy >= outH) continue;
        for (let kx = 0; kx < k; kx++) {
          const tx = ix + padLeft - kx;
          if (tx < 0) break;
          if (tx % stride !== 0) continue;
          const ox = tx / stride;
          if (ox >= outW) continue;
          const wb = ((ky * k + kx) * inC + ci) * outC, vb = off + (oy * outW + ox) * outC;
          for (let c = 0; c < outC; c++) mem[vb + c] += v * w[wb + c];
        }
      }
    }
  }

  private denseIntegrate(l: SnnDenseLayer, mem: Float64Array, off: number, idx: Int32Array, val: Float64Array, n: number): void {
    const m = l.outSize, w = l.weights, b = l.bias;
    for (let q = 0; q < m; q++) mem[off + q] += b[q];
    for (let e = 0; e < n; e++) {
      const v = val[e], wb = idx[e] * m;
      for (let q = 0; q < m; q++) mem[off + q] += v * w[wb + q];
    }
  }

  /** Threshold pass; writes the spikes (index, ±θ) to oIdx/oVal and returns their number. */
  private fire(theta: number, mem: Float64Array, net: Int32Array, off: number, N: number, oIdx: Int32Array, oVal: Float64Array): number {
    let n = 0, neg = 0;
    if (this.net.mode === 'qcfs') {
      for (let i = 0; i < N; i++) {
        if (mem[off + i] >= theta) { mem[off + i] -= theta; oIdx[n] = i; oVal[n] = theta; n++; }
      }
    } else {
      const cap = this.net.L;
      for (let i = 0; i < N; i++) {
        const v = mem[off + i];
        if (v >= theta) {
          if (net[off + i] < cap) { mem[off + i] = v - theta; net[off + i]++; oIdx[n] = i; oVal[n] = theta; n++; }
        } else if (v < 0 && net[off + i] > 0) {
          mem[off + i] = v + theta; net[off + i]--; oIdx[n] = i; oVal[n] = -theta; n++; neg++;
        }
      }
    }
    this.lastPos = n - neg; this.lastNeg = neg;
    return n;
  }

  /** Non-overlapping average pooling of a sparse map; returns the number of non-zero outputs. */
  private pool(inW: number, C: number, size: number, outH: number, outW: number, idx: Int32Array, val: Float64Array, n: number,
    oIdx: Int32Array, oVal: Float64Array): number {
    const acc = this.poolAcc, mark = this.poolMark;
    let m = 0;
    for (let e = 0; e < n; e++) {
      const id = idx[e], ci = id % C, pix = (id - ci) / C, ix = pix % inW, iy = (pix - ix) / inW;
      const oy = Math.floor(iy / size), ox = Math.floor(ix / size);
      if (oy >= outH || ox >= outW) continue;
      const o = (oy * outW + ox) * C + ci;
      if (!mark[o]) { mark[o] = 1; oIdx[m++] = o; }
      acc[o] += val[e];
    }
    const inv = 1 / (size * size);
    let kept = 0;
    for (let e = 0; e < m; e++) {
      const o = oIdx[e], v = acc[o];
      acc[o] = 0; mark[o] = 0;
      if (v !== 0) { oIdx[kept] = o; oVal[kept] = v * inv; kept++; }
    }
    return kept;
  }
}

/** Runs one sample through T = frames.length steps; returns O_t after each step and the final readout. */
export function simulate(net: SnnNetwork, frames: ReadonlyArray<FrameLike>): { outputs: Float32Array[]; final: SlotReadout } {
  const r = new SnnRunner(net, 1);
  const slot = r.admit();
  const outputs: Float32Array[] = [];
  for (const f of frames) { r.step([{ slot, frame: f }]); outputs.push(r.read(slot).output); }
  const final = r.read(slot);
  return { outputs, final };
}
