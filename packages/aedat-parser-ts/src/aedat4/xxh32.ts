/** xxHash32, for the LZ4 frame header checksum (read and written). */
import { i32 } from './bytes.js';

const P1 = 2654435761 | 0;
const P2 = 2246822519 | 0;
const P3 = 3266489917 | 0;
const P4 = 668265263;
const P5 = 374761393;
function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}
/** xxHash32 of b[s, e) (LZ4 frame header checksums). */
export function xxh32(b: Uint8Array, s: number, e: number, seed = 0): number {
  let p = s;
  let h: number;
  if (e - s >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    for (; p + 16 <= e; p += 16) {
      v1 = Math.imul(rotl((v1 + Math.imul(i32(b, p), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(i32(b, p + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(i32(b, p + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(i32(b, p + 12), P2)) | 0, 13), P1);
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + (e - s)) | 0;
  for (; p + 4 <= e; p += 4) h = Math.imul(rotl((h + Math.imul(i32(b, p), P3)) | 0, 17), P4);
  for (; p < e; p++) h = Math.imul(rotl((h + Math.imul(b[p], P5)) | 0, 11), P1);
  h ^= h >>> 15;
  h = Math.imul(h, P2);
  h ^= h >>> 13;
  h = Math.imul(h, P3);
  h ^= h >>> 16;
  return h >>> 0;
}
