/**
 * LZ4 frame compression for the writer: a greedy hash matcher that obeys the block end rules
 * (the last 5 bytes are literals and the last match starts at least 12 bytes before the block
 * end). Frames: 64 KiB independent blocks, no checksums, header checksum set — what LZ4F and
 * DV accept.
 */
import { i32 } from './bytes.js';
import { LZ4_MAGIC } from './lz4.js';
import { xxh32 } from './xxh32.js';

const LZ4_BLOCK = 64 * 1024;
const HASH_BITS = 14;
const FLG = 0x60; // version 01, independent blocks, no checksums, no content size
const BD = 0x40; // 64 KiB max block
const HC = (xxh32(Uint8Array.of(FLG, BD), 0, 2) >>> 8) & 0xff;

function writeLength(dst: Uint8Array, d: number, n: number): number {
  while (n >= 255) {
    dst[d++] = 255;
    n -= 255;
  }
  dst[d++] = n;
  return d;
}

/** Compresses src[s0, sEnd) as one LZ4 block into dst at d0; returns the end, or −1 if not smaller. */
function lz4CompressBlock(src: Uint8Array, s0: number, sEnd: number, dst: Uint8Array, d0: number, table: Int32Array): number {
  const len = sEnd - s0;
  let d = d0;
  let anchor = s0;
  const limit = d0 + len; // give up when output would not be smaller
  if (len >= 13) {
    table.fill(-1);
    const mfLimit = sEnd - 12;
    const matchLimit = sEnd - 5;
    let s = s0;
    while (s <= mfLimit) {
      const seq = i32(src, s);
      const h = Math.imul(seq, 2654435761) >>> (32 - HASH_BITS);
      const ref = table[h];
      table[h] = s;
      if (ref < 0 || s - ref > 65535 || i32(src, ref) !== seq) {
        s += 1 + ((s - anchor) >>> 6);
        continue;
      }
      let ml = 4;
      while (s + ml < matchLimit && src[s + ml] === src[ref + ml]) ml++;
      const lit = s - anchor;
      if (d + 1 + lit + lit / 255 + 3 + ml / 255 + 1 > limit) return -1;
      const tokenAt = d++;
      let token: number;
      if (lit >= 15) {
        token = 15 << 4;
        d = writeLength(dst, d, lit - 15);
      } else token = lit << 4;
      for (let k = anchor; k < s; k++) dst[d++] = src[k];
      const off = s - ref;
      dst[d++] = off & 0xff;
      dst[d++] = off >>> 8;
      const mlc = ml - 4;
      if (mlc >= 15) {
        token |= 15;
        d = writeLength(dst, d, mlc - 15);
      } else token |= mlc;
      dst[tokenAt] = token;
      s += ml;
      anchor = s;
    }
  }
  const lit = sEnd - anchor;
  if (d + 1 + lit + lit / 255 + 1 > limit) return -1;
  if (lit >= 15) {
    dst[d++] = 15 << 4;
    d = writeLength(dst, d, lit - 15);
  } else dst[d++] = lit << 4;
  for (let k = anchor; k < sEnd; k++) dst[d++] = src[k];
  return d >= limit ? -1 : d;
}

const hashTable = new Int32Array(1 << HASH_BITS);

/** One LZ4 frame holding `src`. */
export function lz4CompressFrame(src: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(src.length / LZ4_BLOCK));
  const out = new Uint8Array(7 + blocks * (4 + LZ4_BLOCK + 16) + 4);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, LZ4_MAGIC, true);
  out[4] = FLG;
  out[5] = BD;
  out[6] = HC;
  let d = 7;
  for (let s = 0; s < src.length; s += LZ4_BLOCK) {
    const e = Math.min(src.length, s + LZ4_BLOCK);
    const end = lz4CompressBlock(src, s, e, out, d + 4, hashTable);
    if (end < 0) {
      dv.setUint32(d, (0x80000000 | (e - s)) >>> 0, true);
      out.set(src.subarray(s, e), d + 4);
      d += 4 + (e - s);
    } else {
      dv.setUint32(d, end - d - 4, true);
      d = end;
    }
  }
  dv.setUint32(d, 0, true); // end mark
  return out.slice(0, d + 4);
}
