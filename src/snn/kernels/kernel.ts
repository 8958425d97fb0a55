/**
 * Loads the SNN step kernel (step.c, WebAssembly SIMD) and lays out its memory for one network and
 * a number of slots: the network descriptor, the weights (Float32), the per-slot state (Float64
 * membranes, Int32 QFFS net counts, Float64 O_t and spike counts) and the scratch spike lists.
 * One instance (own memory) per runner; the module is compiled once per process.
 */
import { neuronCount, spikingLayers, type SnnNetwork } from '../convert';
import { STEP_WASM_BASE64 } from './step-wasm';

/** Byte sizes of the C structs `Layer` and `Net` (step.c; wasm32 layout). */
const LAYER_BYTES = 88;
const NET_BYTES = 80;
const KIND = { conv: 0, avgpool: 1, dense: 2, output: 3 } as const;

// The project's lib (ES2022, no DOM) has no WebAssembly typings: the few this file uses.
interface WasmMemory { readonly buffer: ArrayBuffer; grow(pages: number): number }
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (d: { initial: number }) => WasmMemory;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface StepExports {
  step_slot(net: number, slot: number): void;
  reset_slot(net: number, slot: number): void;
  __heap_base: { value: number };
}

let compiled: object | undefined;

function kernelModule(): object {
  compiled ??= new Wasm.Module(Buffer.from(STEP_WASM_BASE64, 'base64'));
  return compiled;
}

/** The kernel's state for one runner: O_t and spike counts readable as typed arrays. */
export interface KernelMemory {
  /** O_t per slot: [slot · classes + q]. */
  readonly out: Float64Array;
  /** Per slot and spiking layer: [(slot · layers + j) · 2] spikes, [… + 1] negative spikes. */
  readonly counts: Float64Array;
  reset(slot: number): void;
  step(slot: number, frame: Float32Array): void;
}

/** A bump allocator over byte offsets (16-byte aligned blocks). */
class Layout {
  constructor(public end: number) {}
  take(bytes: number): number {
    const at = Math.ceil(this.end / 16) * 16;
    this.end = at + bytes;
    return at;
  }
}

export function stepKernel(net: SnnNetwork, slots: number): KernelMemory {
  const memory = new Wasm.Memory({ initial: 4 }); // ≥ the module's stack and data
  const ex = new Wasm.Instance(kernelModule(), { env: { memory } }).exports as unknown as StepExports;
  const lay = new Layout(ex.__heap_base.value);
  const spiking = spikingLayers(net);
  const classes = net.classes.length;
  const frameSize = net.inputHeight * net.inputWidth * 2;
  let maxSize = frameSize, maxPool = 1;
  for (const l of net.layers) {
    if (l.kind === 'conv') maxSize = Math.max(maxSize, l.outH * l.outW * l.outC);
    else if (l.kind === 'dense' || l.kind === 'output') maxSize = Math.max(maxSize, l.outSize, l.inSize);
    else maxPool = Math.max(maxPool, l.outH * l.outW * l.C);
  }
  const netAt = lay.take(NET_BYTES);
  const layersAt = lay.take(LAYER_BYTES * net.layers.length);
  // Weights, then state, then scratch: plan every offset first, grow once, then write.
  const plan = net.layers.map((l) => {
    if (l.kind === 'avgpool') return { weights: 0, bias: 0, bias64: 0, mem: 0, net: 0 };
    const weights = lay.take(l.weights.length * 4), bias = lay.take(l.bias.length * 4);
    if (l.kind === 'output') return { weights, bias, bias64: 0, mem: 0, net: 0 };
    const N = neuronCount(l);
    return { weights, bias, bias64: lay.take(l.bias.length * 8), mem: lay.take(N * slots * 8), net: net.mode === 'qffs' ? lay.take(N * slots * 4) : 0 };
  });
  const outAt = lay.take(slots * classes * 8), countsAt = lay.take(slots * spiking.length * 2 * 8);
  const idxA = lay.take(maxSize * 4), idxB = lay.take(maxSize * 4), valA = lay.take(maxSize * 8), valB = lay.take(maxSize * 8);
  const poolAcc = lay.take(maxPool * 8), poolMark = lay.take(maxPool), frameAt = lay.take(frameSize * 4);
  const pages = Math.ceil(lay.end / 65536);
  if (pages > 65536) throw new Error(`SnnRunner: ${slots} slots need ${(lay.end / 2 ** 30).toFixed(1)} GiB of kernel memory (at most 4 GiB): use fewer slots`);
  if (pages > memory.buffer.byteLength / 65536) memory.grow(pages - memory.buffer.byteLength / 65536);
  const buf = memory.buffer;
  const i32 = new Int32Array(buf), f32 = new Float32Array(buf), f64 = new Float64Array(buf);
  let j = 0;
  net.layers.forEach((l, li) => {
    const at = (layersAt + li * LAYER_BYTES) / 4, p = plan[li];
    let g: number[];
    if (l.kind === 'conv') g = [l.inH, l.inW, l.inC, l.outH, l.outW, l.outC, l.k, l.stride, l.padTop, l.padLeft, 0];
    else if (l.kind === 'avgpool') g = [l.inH, l.inW, l.C, l.outH, l.outW, l.C, 0, 1, 0, 0, l.size];
    else g = [1, 1, l.inSize, 1, 1, l.outSize, 1, 1, 0, 0, 0];
    const spikingIndex = l.kind === 'conv' || l.kind === 'dense' ? j++ : -1;
    i32.set([KIND[l.kind], ...g, p.weights, p.bias, p.mem, p.net, l.kind === 'conv' || l.kind === 'dense' ? neuronCount(l) : 0, spikingIndex, p.bias64, 0], at);
    f64[(layersAt + li * LAYER_BYTES + 80) / 8] = l.kind === 'conv' || l.kind === 'dense' ? l.threshold : 0;
    if (l.kind !== 'avgpool') {
      f32.set(l.weights, p.weights / 4);
      f32.set(l.bias, p.bias / 4);
      if (p.bias64) f64.set(l.bias, p.bias64 / 8);
    }
  });
  i32.set([net.layers.length, layersAt, net.mode === 'qffs' ? 1 : 0, net.L, frameSize, spiking.length, classes, 0,
    idxA, idxB, valA, valB, poolAcc, poolMark, outAt, countsAt, frameAt, 0], netAt / 4);
  f64[(netAt + 72) / 8] = net.inputScale;
  const frame = f32.subarray(frameAt / 4, frameAt / 4 + frameSize);
  return {
    out: f64.subarray(outAt / 8, outAt / 8 + slots * classes),
    counts: f64.subarray(countsAt / 8, countsAt / 8 + slots * spiking.length * 2),
    reset: (slot) => ex.reset_slot(netAt, slot),
    step: (slot, data) => {
      frame.set(data);
      ex.step_slot(netAt, slot);
    },
  };
}
