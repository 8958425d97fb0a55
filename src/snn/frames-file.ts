/**
 * "Frames file" (.ssf): a binned dataset that a dataset tool writes and `spikestream train` reads.
 *
 * Layout (all little-endian):
 *   bytes 0–7    magic "SSFRAME1" (ASCII)
 *   bytes 8–11   uint32 H: byte length of the header
 *   next H bytes header, UTF-8 JSON, space-padded so that the payload starts at a multiple of 4:
 *                { "version": 1, "n": N, "T": T, "height": Hpx, "width": Wpx, "channels": 2,
 *                  "dtype": "float32" | "uint8", "classes"?: [names], "dataset"?: string,
 *                  "binning"?: { "binUs"?: µs, "eventsPerBin"?: n, "T": T, "downsample"?: f },
 *                  "stepLabels"?: true }
 *   labels       N × int32 (class index per sample; −1: no class, e.g. a no-gesture sample of a
 *                live-style cut, which training pushes towards the uniform distribution)
 *   step labels  only with "stepLabels": true — N × T × int32, the class of each sample's prefix of
 *                k = 1…T frames (FrameDataset.stepLabels)
 *   frames       N × T × Hpx × Wpx × 2 values of dtype (NHWC per frame; channel 0 = OFF, 1 = ON;
 *                event counts per pixel and bin). float32 (the default) is exact; uint8 is 4× smaller
 *                but clips counts to 0..255 (a 4×4-downsampled DVS128 pixel can exceed 255 events
 *                in a 100 ms bin): the writer counts every clipped value and returns the count.
 */
import * as fs from 'fs';
import type { FrameDataset } from './dataset';
import { validateDataset } from './dataset';
import type { InputBinning } from './model/model-file';

export const FRAMES_MAGIC = 'SSFRAME1';

export interface FramesFileHeader {
  version: 1; n: number; T: number; height: number; width: number; channels: 2;
  dtype: 'float32' | 'uint8';
  classes?: string[]; dataset?: string; binning?: InputBinning; stepLabels?: true;
}

export interface LoadedFrames extends FrameDataset { header: FramesFileHeader }

/** Values a uint8 frames file would clip (outside 0..255 after rounding). */
export function uint8Saturated(frames: Float32Array): number {
  let n = 0;
  for (let i = 0; i < frames.length; i++) {
    const v = Math.round(frames[i]);
    if (v > 255 || v < 0) n++;
  }
  return n;
}

export function encodeFramesFile(ds: FrameDataset, opts: { dtype?: 'float32' | 'uint8'; classes?: string[]; dataset?: string; binning?: InputBinning } = {}): Uint8Array {
  validateDataset(ds);
  const dtype = opts.dtype ?? 'float32';
  const header: FramesFileHeader = { version: 1, n: ds.n, T: ds.T, height: ds.height, width: ds.width, channels: 2, dtype };
  const classes = opts.classes ?? ds.classes;
  if (classes) header.classes = classes;
  if (opts.dataset) header.dataset = opts.dataset;
  if (opts.binning) header.binning = opts.binning;
  if (ds.stepLabels) header.stepLabels = true;
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((12 + json.length) % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const bytesPer = dtype === 'float32' ? 4 : 1;
  const labelCount = ds.n + (ds.stepLabels ? ds.n * ds.T : 0);
  const total = 12 + json.length + labelCount * 4 + ds.frames.length * bytesPer;
  const out = Buffer.alloc(total);
  out.write(FRAMES_MAGIC, 0, 'ascii');
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  let o = 12 + json.length;
  for (let i = 0; i < ds.n; i++, o += 4) out.writeInt32LE(ds.labels[i], o);
  if (ds.stepLabels) for (let i = 0; i < ds.stepLabels.length; i++, o += 4) out.writeInt32LE(ds.stepLabels[i], o);
  if (dtype === 'float32') for (let i = 0; i < ds.frames.length; i++, o += 4) out.writeFloatLE(ds.frames[i], o);
  else for (let i = 0; i < ds.frames.length; i++, o++) out[o] = Math.max(0, Math.min(255, Math.round(ds.frames[i])));
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function decodeFramesFile(bytes: Uint8Array, name = 'frames file'): LoadedFrames {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 || buf.toString('ascii', 0, 8) !== FRAMES_MAGIC) throw new Error(`${name}: not a frames file (magic ${FRAMES_MAGIC} missing)`);
  const hlen = buf.readUInt32LE(8);
  if (12 + hlen > buf.length || hlen > 1 << 24) throw new Error(`${name}: header length ${hlen} exceeds the file`);
  let header: FramesFileHeader;
  try { header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)); } catch (e) { throw new Error(`${name}: bad header JSON: ${(e as Error).message}`); }
  if (header.version !== 1) throw new Error(`${name}: unsupported version ${header.version}`);
  if (header.channels !== 2) throw new Error(`${name}: channels must be 2`);
  if (header.dtype !== 'float32' && header.dtype !== 'uint8') throw new Error(`${name}: dtype must be float32 or uint8`);
  for (const k of ['n', 'T', 'height', 'width'] as const) {
    if (!Number.isInteger(header[k]) || header[k] < 1) throw new Error(`${name}: header.${k} must be a positive integer`);
  }
  const count = header.n * header.T * header.height * header.width * 2;
  const bytesPer = header.dtype === 'float32' ? 4 : 1;
  let o = 12 + hlen;
  if (header.stepLabels !== undefined && header.stepLabels !== true) throw new Error(`${name}: header.stepLabels must be true when present`);
  const stepCount = header.stepLabels ? header.n * header.T : 0;
  const expect = o + (header.n + stepCount) * 4 + count * bytesPer;
  if (buf.length !== expect) throw new Error(`${name}: size ${buf.length} bytes, header implies ${expect}`);
  const labels = new Int32Array(header.n);
  for (let i = 0; i < header.n; i++, o += 4) labels[i] = buf.readInt32LE(o);
  const stepLabels = header.stepLabels ? new Int32Array(stepCount) : undefined;
  if (stepLabels) for (let i = 0; i < stepCount; i++, o += 4) stepLabels[i] = buf.readInt32LE(o);
  const frames = new Float32Array(count);
  if (header.dtype === 'float32') {
    if (o % 4 === 0 && (buf.byteOffset + o) % 4 === 0) frames.set(new Float32Array(buf.buffer, buf.byteOffset + o, count));
    else for (let i = 0; i < count; i++, o += 4) frames[i] = buf.readFloatLE(o);
  } else {
    for (let i = 0; i < count; i++) frames[i] = buf[o + i];
  }
  const nClasses = header.classes?.length;
  if (nClasses) {
    for (let i = 0; i < header.n; i++) if (labels[i] < -1 || labels[i] >= nClasses) throw new Error(`${name}: label ${labels[i]} of sample ${i} outside the ${nClasses} classes (or −1, no class)`);
    if (stepLabels) for (let i = 0; i < stepCount; i++) if (stepLabels[i] < -1 || stepLabels[i] >= nClasses) throw new Error(`${name}: step label ${stepLabels[i]} of sample ${Math.floor(i / header.T)} outside the ${nClasses} classes (or −1, no class)`);
  }
  return { frames, labels, ...(stepLabels ? { stepLabels } : {}), n: header.n, T: header.T, height: header.height, width: header.width, classes: header.classes, header };
}

/** Writes a frames file; returns its size and, for uint8, how many values were clipped to 0..255. */
export function writeFramesFile(file: string, ds: FrameDataset, opts: Parameters<typeof encodeFramesFile>[1] = {}): { bytes: number; saturated: number } {
  const bytes = encodeFramesFile(ds, opts);
  fs.writeFileSync(file, bytes);
  return { bytes: bytes.length, saturated: (opts.dtype ?? 'float32') === 'uint8' ? uint8Saturated(ds.frames) : 0 };
}

export function readFramesFile(file: string): LoadedFrames {
  return decodeFramesFile(fs.readFileSync(file), file);
}
