/**
 * The slot bookkeeping both runners share (SnnRunner, TensorRunner): the free list, which slots
 * are admitted, their step counts, and the checks of a step's inputs.
 */
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

/** A readout from a runner's arrays: `counts[at + 2j]` spikes and `counts[at + 2j + 1]` negative spikes of spiking layer j. */
export function slotReadout(output: Float32Array, step: number, counts: ArrayLike<number>, at: number, layers: number, totalNeurons: number): SlotReadout {
  const spikes: number[] = [], negativeSpikes: number[] = [];
  let total = 0;
  for (let j = 0; j < layers; j++) {
    spikes.push(counts[at + 2 * j]);
    negativeSpikes.push(counts[at + 2 * j + 1]);
    total += spikes[j];
  }
  return { output, step, spikes, negativeSpikes, spikesPerNeuron: total / totalNeurons };
}

export type FrameLike = Float32Array | { data: Float32Array };
export type StepInputs = Map<number, FrameLike> | ReadonlyArray<{ slot: number; frame: FrameLike }>;

export class SlotsFullError extends Error {
  constructor(capacity: number) { super(`SnnRunner: all ${capacity} slots are in use`); this.name = 'SlotsFullError'; }
}

export class SlotTable {
  /** Steps taken by each slot since it was admitted. */
  readonly steps: Int32Array;
  private readonly active: Uint8Array;
  /** Step-call stamp per slot: finds a slot given twice in one call without allocating. */
  private readonly seenAt: Int32Array;
  private call = 0;
  private readonly free: number[] = [];

  constructor(readonly capacity: number, private readonly owner: string) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`${owner}: slots must be a positive integer (got ${capacity})`);
    this.steps = new Int32Array(capacity);
    this.active = new Uint8Array(capacity);
    this.seenAt = new Int32Array(capacity);
    for (let s = capacity - 1; s >= 0; s--) this.free.push(s);
  }

  get activeCount(): number { return this.capacity - this.free.length; }
  isActive(slot: number): boolean { return slot >= 0 && slot < this.capacity && this.active[slot] === 1; }

  /** A free slot, now admitted at step 0; SlotsFullError when none is free. */
  take(): number {
    const slot = this.free.pop();
    if (slot === undefined) throw new SlotsFullError(this.capacity);
    this.steps[slot] = 0;
    this.active[slot] = 1;
    return slot;
  }

  give(slot: number): void {
    this.check(slot);
    this.active[slot] = 0;
    this.free.push(slot);
  }

  check(slot: number): void {
    if (!this.isActive(slot)) throw new Error(`${this.owner}: slot ${slot} is not admitted`);
  }

  /** A step's inputs as [slot, frame data] pairs, checked: admitted slots, each once, frames of `frameSize` values (`shape` names it). */
  stepList(inputs: StepInputs, frameSize: number, shape: string): Array<[number, Float32Array]> {
    const list: Array<[number, Float32Array]> = [];
    if (inputs instanceof Map) for (const [slot, f] of inputs) list.push([slot, f instanceof Float32Array ? f : f.data]);
    else for (const { slot, frame } of inputs) list.push([slot, frame instanceof Float32Array ? frame : frame.data]);
    const call = ++this.call;
    for (const [slot, frame] of list) {
      this.check(slot);
      if (this.seenAt[slot] === call) throw new Error(`${this.owner}: slot ${slot} given twice in one step`);
      this.seenAt[slot] = call;
      if (frame.length !== frameSize) throw new Error(`${this.owner}: frame has ${frame.length} values, expected ${frameSize} (${shape})`);
    }
    return list;
  }
}
