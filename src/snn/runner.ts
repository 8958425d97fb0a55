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
import { slotReadout, SlotTable, type FrameLike, type SlotReadout, type StepInputs } from './slots';

export { SlotsFullError, type FrameLike, type SlotReadout, type StepInputs } from './slots';

export class SnnRunner {
  readonly kind = 'typed' as const;
  readonly net: SnnNetwork;
  readonly capacity: number;
  readonly frameSize: number;
  /** Neurons per spiking layer, and their sum. */
  readonly neurons: number[];
  readonly totalNeurons: number;

  private readonly k: KernelMemory;
  private readonly slots: SlotTable;

  constructor(net: SnnNetwork, slots: number) {
    this.slots = new SlotTable(slots, 'SnnRunner');
    this.net = net;
    this.capacity = slots;
    this.frameSize = net.inputHeight * net.inputWidth * 2;
    this.neurons = spikingLayers(net).map(neuronCount);
    this.totalNeurons = this.neurons.reduce((a, b) => a + b, 0);
    this.k = stepKernel(net, slots);
  }

  get activeCount(): number { return this.slots.activeCount; }
  isActive(slot: number): boolean { return this.slots.isActive(slot); }

  /** Takes a free slot and resets its state; throws SlotsFullError when none is free. */
  admit(): number {
    const slot = this.slots.take();
    this.k.reset(slot);
    return slot;
  }

  /** Frees a slot (its state is reset on the next admit()). */
  release(slot: number): void {
    this.slots.give(slot);
  }

  /** Advances each given slot by one step with its frame (H×W×2 NHWC event counts). */
  step(inputs: StepInputs): void {
    const list = this.slots.stepList(inputs, this.frameSize, `${this.net.inputHeight}×${this.net.inputWidth}×2`);
    for (const [slot, frame] of list) {
      this.k.step(slot, frame);
      this.slots.steps[slot]++;
    }
  }

  /** The slot's accumulated output O_t, step count and spike counts. */
  read(slot: number): SlotReadout {
    this.slots.check(slot);
    const c = this.net.classes.length, k = this.neurons.length;
    const output = new Float32Array(c);
    for (let i = 0; i < c; i++) output[i] = this.k.out[slot * c + i];
    return slotReadout(output, this.slots.steps[slot], this.k.counts, slot * k * 2, k, this.totalNeurons);
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
