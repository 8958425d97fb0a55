/**
 * Stateful, slot-batched SNN runner on typed arrays (no TF.js): the step is a WebAssembly SIMD
 * kernel (kernels/step.c, built into kernels/step-wasm.ts); state lives in the kernel's memory.
 *
 * Each slot holds one sample's state: membrane potentials (Float64) and net spike counts of every
 * spiking layer, the output accumulator O_t, the step number and spike counts. `step()` advances
 * every given slot by one time step in one call; the slots may be at different steps. The work is
 * event-driven: a layer only touches the weights of its inputs that are non-zero (input pixels with
 * events, spikes, pooled spikes), so its cost follows the activity, which is sparse for DVS frames
 * and 2-bit spiking layers. A sample's arithmetic depends only on its own inputs (same operations in
 * the same order), so its result does not depend on its slot or on the other samples in the batch.
 * The kernel's SIMD lanes are neighbouring neurons, never two terms of one sum, so its results are
 * bitwise those of plain double arithmetic (see kernels/step.c).
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
import { neuronCount, type SnnNetwork, spikingLayers } from './convert';
import { KernelMemory, stepKernel } from './kernels/kernel';

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

  private readonly k: KernelMemory;
  private readonly steps: Int32Array;
  private readonly active: Uint8Array;
  /** Step-call stamp per slot: finds a slot given twice in one call without allocating. */
  private readonly seenAt: Int32Array;
  private call = 0;
  private readonly free: number[] = [];

  constructor(net: SnnNetwork, slots: number) {
    if (!Number.isInteger(slots) || slots < 1) throw new Error(`SnnRunner: slots must be a positive integer (got ${slots})`);
    this.net = net;
    this.capacity = slots;
    this.frameSize = net.inputHeight * net.inputWidth * 2;
    this.neurons = spikingLayers(net).map(neuronCount);
    this.totalNeurons = this.neurons.reduce((a, b) => a + b, 0);
    this.k = stepKernel(net, slots);
    this.steps = new Int32Array(slots);
    this.active = new Uint8Array(slots);
    this.seenAt = new Int32Array(slots);
    for (let s = slots - 1; s >= 0; s--) this.free.push(s);
  }

  get activeCount(): number { return this.capacity - this.free.length; }
  isActive(slot: number): boolean { return slot >= 0 && slot < this.capacity && this.active[slot] === 1; }

  /** Takes a free slot and resets its state; throws SlotsFullError when none is free. */
  admit(): number {
    const slot = this.free.pop();
    if (slot === undefined) throw new SlotsFullError(this.capacity);
    this.k.reset(slot);
    this.steps[slot] = 0;
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

  /** Advances each given slot by one step with its frame (H×W×2 NHWC event counts). */
  step(inputs: StepInputs): void {
    const list = stepList(inputs);
    const call = ++this.call;
    for (const [slot, frame] of list) {
      this.check(slot);
      if (this.seenAt[slot] === call) throw new Error(`SnnRunner: slot ${slot} given twice in one step`);
      this.seenAt[slot] = call;
      if (frame.length !== this.frameSize) throw new Error(`SnnRunner: frame has ${frame.length} values, expected ${this.frameSize} (${this.net.inputHeight}×${this.net.inputWidth}×2)`);
    }
    for (const [slot, frame] of list) {
      this.k.step(slot, frame);
      this.steps[slot]++;
    }
  }

  /** The slot's accumulated output O_t, step count and spike counts. */
  read(slot: number): SlotReadout {
    this.check(slot);
    const c = this.net.classes.length, k = this.neurons.length;
    const out = this.k.out, counts = this.k.counts;
    const output = new Float32Array(c);
    for (let i = 0; i < c; i++) output[i] = out[slot * c + i];
    const spikes: number[] = [], negativeSpikes: number[] = [];
    let total = 0;
    for (let j = 0; j < k; j++) {
      spikes.push(counts[(slot * k + j) * 2]);
      negativeSpikes.push(counts[(slot * k + j) * 2 + 1]);
      total += spikes[j];
    }
    return { output, step: this.steps[slot], spikes, negativeSpikes, spikesPerNeuron: total / this.totalNeurons };
  }
}

/** A step's inputs as [slot, frame data] pairs. */
export function stepList(inputs: StepInputs): Array<[number, Float32Array]> {
  const list: Array<[number, Float32Array]> = [];
  if (inputs instanceof Map) for (const [slot, f] of inputs) list.push([slot, f instanceof Float32Array ? f : f.data]);
  else for (const { slot, frame } of inputs) list.push([slot, frame instanceof Float32Array ? frame : frame.data]);
  return list;
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
