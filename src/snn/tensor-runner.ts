/**
 * The SNN step as batched TF.js ops, for tfjs-node / tfjs-node-gpu: membranes, QFFS net counts,
 * O_t and spike counts are tensors with one row per slot; one `step()` gathers the rows of the
 * slots it is given, runs every layer on all of them at once (conv2d / avgPool / matMul and the
 * threshold as element-wise ops), scatters the new rows back and downloads O_t and the spike counts
 * of those rows in one read. Same neuron model as SnnRunner (runner.ts), in Float32 and with dense
 * sums: O_t agrees with SnnRunner to ~1e-6 relative, not bitwise (test/snn/tensor-runner.test.ts).
 * `dispose()` frees every tensor it holds.
 */
import * as tf from '@tensorflow/tfjs';
import { neuronCount, spikingLayers, type SnnLayer, type SnnNetwork } from './convert';
import { slotReadout, SlotTable, type SlotReadout, type StepInputs } from './slots';

interface Weights { w: tf.Tensor; b: tf.Tensor }

export class TensorRunner {
  readonly kind = 'tensor' as const;
  readonly net: SnnNetwork;
  readonly capacity: number;
  readonly frameSize: number;
  readonly neurons: number[];
  readonly totalNeurons: number;

  private readonly weights: Array<Weights | undefined>;
  /** Per spiking layer [capacity, …neuron shape]; `counts` [capacity, layers, 2] (spikes, negative). */
  private mem: tf.Tensor[];
  private netCount: tf.Tensor[];
  private out: tf.Tensor2D;
  private counts: tf.Tensor3D;
  /** Host copies of the rows last stepped: O_t and counts per slot. */
  private readonly hostOut: Float32Array;
  private readonly hostCounts: Float32Array;
  private readonly slots: SlotTable;
  private readonly pendingReset = new Set<number>();
  private disposed = false;

  constructor(net: SnnNetwork, slots: number) {
    this.slots = new SlotTable(slots, 'TensorRunner');
    this.net = net;
    this.capacity = slots;
    this.frameSize = net.inputHeight * net.inputWidth * 2;
    const spiking = spikingLayers(net);
    this.neurons = spiking.map(neuronCount);
    this.totalNeurons = this.neurons.reduce((a, b) => a + b, 0);
    this.weights = net.layers.map((l) => {
      if (l.kind === 'avgpool') return undefined;
      const w = l.kind === 'conv' ? tf.tensor4d(l.weights, [l.k, l.k, l.inC, l.outC]) : tf.tensor2d(l.weights, [l.inSize, l.outSize]);
      return { w, b: tf.tensor1d(l.bias) };
    });
    this.mem = spiking.map((l) => tf.zeros([slots, ...stateShape(l)]));
    this.netCount = net.mode === 'qffs' ? spiking.map((l) => tf.zeros([slots, ...stateShape(l)])) : [];
    this.out = tf.zeros([slots, net.classes.length]);
    this.counts = tf.zeros([slots, spiking.length, 2]);
    this.hostOut = new Float32Array(slots * net.classes.length);
    this.hostCounts = new Float32Array(slots * spiking.length * 2);
  }

  get activeCount(): number { return this.slots.activeCount; }
  isActive(slot: number): boolean { return this.slots.isActive(slot); }

  /** Takes a free slot; its rows are reset in the next step() that includes it. */
  admit(): number {
    if (this.disposed) throw new Error('TensorRunner: disposed');
    const slot = this.slots.take();
    this.pendingReset.add(slot);
    const C = this.net.classes.length, K = this.neurons.length * 2;
    this.hostOut.fill(0, slot * C, (slot + 1) * C);
    this.hostCounts.fill(0, slot * K, (slot + 1) * K);
    return slot;
  }

  release(slot: number): void {
    this.slots.give(slot);
    this.pendingReset.delete(slot);
  }

  /** Advances the given slots by one step, all in one batched call. */
  step(inputs: StepInputs): void {
    const list = this.slots.stepList(inputs, this.frameSize, `${this.net.inputHeight}×${this.net.inputWidth}×2`);
    if (list.length === 0) return;
    const B = list.length, H = this.net.inputHeight, W = this.net.inputWidth;
    const frames = new Float32Array(B * this.frameSize);
    const rows = new Int32Array(B), fresh = new Float32Array(B);
    list.forEach(([slot, frame], i) => {
      frames.set(frame, i * this.frameSize);
      rows[i] = slot;
      if (this.pendingReset.delete(slot)) fresh[i] = 1;
    });
    const next = tf.tidy(() => {
      const idx = tf.tensor1d(rows, 'int32');
      const isFresh = tf.tensor1d(fresh);
      const scatter = (all: tf.Tensor, upd: tf.Tensor) => tf.tensorScatterUpdate(all, idx.expandDims(1), upd);
      // A fresh row starts from v = θ/2, net = 0, O = 0, counts = 0.
      const keep = (t: tf.Tensor, start: number | tf.Tensor) => {
        const f = isFresh.reshape([B, ...Array(t.rank - 1).fill(1)]);
        return tf.add(tf.mul(t, tf.sub(1, f)), tf.mul(f, start));
      };
      let s: tf.Tensor = tf.mul(tf.tensor4d(frames, [B, H, W, 2]), this.net.inputScale);
      const mem: tf.Tensor[] = [], nets: tf.Tensor[] = [], spikeCols: tf.Tensor[] = [];
      let j = 0;
      let out: tf.Tensor2D | undefined;
      this.net.layers.forEach((l, li) => {
        if (l.kind === 'avgpool') {
          s = tf.avgPool(s as tf.Tensor4D, l.size, l.size, 'valid');
          return;
        }
        const wb = this.weights[li]!;
        if (l.kind === 'output') {
          const z = tf.add(tf.matMul(s.reshape([B, l.inSize]), wb.w as tf.Tensor2D), wb.b);
          out = tf.add(keep(tf.gather(this.out, idx), 0), z) as tf.Tensor2D;
          return;
        }
        const z = l.kind === 'conv'
          ? tf.add(tf.conv2d(s as tf.Tensor4D, wb.w as tf.Tensor4D, l.stride, explicitPad(l)), wb.b)
          : tf.add(tf.matMul(s.reshape([B, l.inSize]), wb.w as tf.Tensor2D), wb.b);
        const th = l.threshold;
        const v = tf.add(keep(tf.gather(this.mem[j], idx), th / 2), z);
        let spikes: tf.Tensor, pos: tf.Tensor, neg: tf.Tensor;
        if (this.net.mode === 'qcfs') {
          pos = tf.cast(tf.greaterEqual(v, th), 'float32');
          neg = tf.zerosLike(pos);
          spikes = pos;
        } else {
          const n = keep(tf.gather(this.netCount[j], idx), 0);
          pos = tf.cast(tf.logicalAnd(tf.greaterEqual(v, th), tf.less(n, this.net.L)), 'float32');
          neg = tf.cast(tf.logicalAnd(tf.less(v, 0), tf.greater(n, 0)), 'float32');
          spikes = tf.sub(pos, neg);
          nets.push(scatter(this.netCount[j], tf.add(n, spikes)));
        }
        const emitted = tf.mul(spikes, th);
        mem.push(scatter(this.mem[j], tf.sub(v, emitted)));
        const axes = Array.from({ length: v.rank - 1 }, (_, a) => a + 1);
        spikeCols.push(tf.stack([tf.add(tf.sum(pos, axes), tf.sum(neg, axes)), tf.sum(neg, axes)], 1));
        s = emitted;
        j++;
      });
      const counts = tf.add(keep(tf.gather(this.counts, idx), 0), tf.stack(spikeCols, 1)) as tf.Tensor3D;
      // One download: O_t and counts of the stepped rows.
      const C = this.net.classes.length;
      const host = tf.concat([out!, counts.reshape([B, -1])], 1);
      return { mem, nets, out: scatter(this.out, out!) as tf.Tensor2D, counts: scatter(this.counts, counts) as tf.Tensor3D, host, C };
    });
    const host = next.host.dataSync() as Float32Array;
    next.host.dispose();
    tf.dispose([this.mem, this.netCount, this.out, this.counts]);
    this.mem = next.mem;
    this.netCount = next.nets;
    this.out = next.out;
    this.counts = next.counts;
    const C = next.C, K = this.neurons.length * 2, row = C + K;
    for (let i = 0; i < B; i++) {
      const slot = rows[i];
      this.hostOut.set(host.subarray(i * row, i * row + C), slot * C);
      this.hostCounts.set(host.subarray(i * row + C, (i + 1) * row), slot * K);
      this.slots.steps[slot]++;
    }
  }

  read(slot: number): SlotReadout {
    this.slots.check(slot);
    const C = this.net.classes.length, k = this.neurons.length;
    return slotReadout(this.hostOut.slice(slot * C, (slot + 1) * C), this.slots.steps[slot], this.hostCounts, slot * k * 2, k, this.totalNeurons);
  }

  /** Frees every tensor (weights and state); the runner cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([this.mem, this.netCount, this.out, this.counts]);
    for (const w of this.weights) if (w) tf.dispose([w.w, w.b]);
  }
}

function stateShape(l: Exclude<SnnLayer, { kind: 'avgpool' | 'output' }>): number[] {
  return l.kind === 'conv' ? [l.outH, l.outW, l.outC] : [l.outSize];
}

/** The conv's padding as TF.js explicit padding (the converter's 'same' puts the smaller half first, as TF does). */
function explicitPad(l: Extract<SnnLayer, { kind: 'conv' }>): [[number, number], [number, number], [number, number], [number, number]] {
  const bottom = Math.max(0, (l.outH - 1) * l.stride + l.k - l.inH - l.padTop);
  const right = Math.max(0, (l.outW - 1) * l.stride + l.k - l.inW - l.padLeft);
  return [[0, 0], [l.padTop, bottom], [l.padLeft, right], [0, 0]];
}
