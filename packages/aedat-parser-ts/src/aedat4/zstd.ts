/**
 * zstd payloads: the frame is walked here first (bounds, window, one frame only, declared sizes
 * within AEDAT4_MAX_DECOMPRESSED_BYTES), then fzstd decodes it.
 */
import { decompress as zstdDecompress } from 'fzstd';
import { PayloadError, u16, u32 } from './bytes.js';
import { AEDAT4_MAX_DECOMPRESSED_BYTES } from './spec.js';

const ZSTD_MAGIC = 0xfd2fb528;
const ZSTD_BLOCK_MAX = 128 * 1024;

/** Checks one zstd frame spanning all of `src`; returns its declared content size or −1. */
function checkZstdFrame(src: Uint8Array): number {
  const n = src.length;
  if (n < 6) throw new PayloadError(0, `zstd frame too short (${n} bytes)`);
  const magic = u32(src, 0);
  if (magic !== ZSTD_MAGIC) throw new PayloadError(0, `bad zstd frame magic 0x${magic.toString(16)}`);
  const fhd = src[4];
  if (fhd & 0x08) throw new PayloadError(4, 'zstd frame header reserved bit set');
  if (fhd & 0x03) throw new PayloadError(4, 'zstd frames with a dictionary are not supported');
  const single = (fhd & 0x20) !== 0;
  const fcsFlag = fhd >>> 6;
  const checksum = (fhd & 0x04) !== 0 ? 4 : 0;
  let p = 5;
  let window = -1;
  if (!single) {
    const wd = src[p++];
    const base = 2 ** (10 + (wd >>> 3));
    window = base + (base / 8) * (wd & 7);
  }
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : 1 << fcsFlag;
  if (p + fcsBytes > n) throw new PayloadError(p, 'zstd frame header truncated');
  let fcs = -1;
  if (fcsBytes === 1) fcs = src[p];
  else if (fcsBytes === 2) fcs = u16(src, p) + 256;
  else if (fcsBytes === 4) fcs = u32(src, p);
  else if (fcsBytes === 8) fcs = u32(src, p) + u32(src, p + 4) * 4294967296;
  if (fcs > AEDAT4_MAX_DECOMPRESSED_BYTES) throw new PayloadError(p, `zstd content size ${fcs} exceeds ${AEDAT4_MAX_DECOMPRESSED_BYTES}`);
  p += fcsBytes;
  if (single) window = fcs;
  if (window > AEDAT4_MAX_DECOMPRESSED_BYTES) throw new PayloadError(5, `zstd window ${window} exceeds ${AEDAT4_MAX_DECOMPRESSED_BYTES}`);
  const blockMax = Math.min(window, ZSTD_BLOCK_MAX);
  let bound = 0;
  for (;;) {
    if (p + 3 > n) throw new PayloadError(p, 'zstd frame truncated (block header)');
    const h = src[p] | (src[p + 1] << 8) | (src[p + 2] << 16);
    const last = h & 1;
    const type = (h >>> 1) & 3;
    const size = h >>> 3;
    if (type === 3) throw new PayloadError(p, 'zstd reserved block type');
    if (size > blockMax) throw new PayloadError(p, `zstd block of ${size} bytes exceeds ${blockMax}`);
    p += 3 + (type === 1 ? 1 : size);
    if (p > n) throw new PayloadError(n, 'zstd frame truncated (block data)');
    bound += type === 2 ? blockMax : size;
    if (bound > AEDAT4_MAX_DECOMPRESSED_BYTES) throw new PayloadError(p, `zstd frame decompresses past ${AEDAT4_MAX_DECOMPRESSED_BYTES} bytes`);
    if (last) break;
  }
  p += checksum;
  if (p > n) throw new PayloadError(n, 'zstd frame truncated (checksum)');
  if (p < n) throw new PayloadError(p, `${n - p} bytes after the zstd frame`);
  return fcs;
}

export function decodeZstd(src: Uint8Array): Uint8Array {
  const fcs = checkZstdFrame(src);
  let out: Uint8Array;
  try {
    out = zstdDecompress(src);
  } catch (err) {
    throw new PayloadError(0, `zstd: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (fcs >= 0 && out.length !== fcs) throw new PayloadError(5, `zstd frame holds ${out.length} bytes, its header says ${fcs}`);
  return out;
}
