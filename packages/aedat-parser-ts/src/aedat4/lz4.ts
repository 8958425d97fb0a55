/**
 * LZ4 frame decoding, bounds-checked: every length and offset read from the input is checked
 * against the input and the output before use (lz4js does no bounds checking and was slower).
 * Errors are PayloadErrors at an offset inside the frame.
 */
import { PayloadError, u32 } from './bytes.js';
import { AEDAT4_MAX_DECOMPRESSED_BYTES } from './spec.js';
import { xxh32 } from './xxh32.js';

export const LZ4_MAGIC = 0x184d2204;

/** Bytes of slack kept after the output buffer's usable end, for 16-byte wild copies. */
const LZ4_SLACK = 32;

/**
 * Decodes one LZ4 block src[s, sEnd) into dst starting at d; output may not pass dEnd and
 * match references may not reach before `low`. Returns the new output position.
 *
 * Short literal runs and matches (the common case in event packets: 1–3 literals, 5–8 byte
 * matches) are copied 4 bytes at a time through DataViews, possibly writing up to 16 bytes
 * past the logical end ("wild copy"): `dst` has LZ4_SLACK bytes beyond any dEnd, and those
 * bytes are either overwritten later or lie past the returned length. Wild reads from `src`
 * are only done when 16 bytes are present.
 */
function lz4DecodeBlock(
  src: Uint8Array,
  sv: DataView,
  s: number,
  sEnd: number,
  dst: Uint8Array,
  dv: DataView,
  d: number,
  dEnd: number,
  low: number,
): number {
  const srcLen = src.length;
  for (;;) {
    if (s >= sEnd) throw new PayloadError(s, 'LZ4 block ends without a final literal run');
    const token = src[s++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new PayloadError(s, 'LZ4 literal length runs past the block');
        b = src[s++];
        lit += b;
      } while (b === 255);
    }
    if (lit > 0) {
      if (s + lit > sEnd) throw new PayloadError(s, `LZ4 literal run of ${lit} bytes passes the block end`);
      if (d + lit > dEnd) throw new PayloadError(s, 'LZ4 block decompresses past its maximum size');
      if (lit <= 8 && s + 8 <= srcLen) {
        dv.setUint32(d, sv.getUint32(s, true), true);
        dv.setUint32(d + 4, sv.getUint32(s + 4, true), true);
        s += lit;
        d += lit;
      } else if (lit < 32) {
        const e = s + lit;
        while (s < e) dst[d++] = src[s++];
      } else {
        dst.set(src.subarray(s, s + lit), d);
        s += lit;
        d += lit;
      }
    }
    if (s === sEnd) return d; // last sequence: literals only
    if (s + 2 > sEnd) throw new PayloadError(s, 'LZ4 match offset truncated');
    const off = src[s] | (src[s + 1] << 8);
    if (off === 0 || d - off < low) throw new PayloadError(s, `LZ4 match offset ${off} reaches before the data`);
    s += 2;
    let ml = token & 15;
    if (ml === 15) {
      let b: number;
      do {
        if (s >= sEnd) throw new PayloadError(s, 'LZ4 match length runs past the block');
        b = src[s++];
        ml += b;
      } while (b === 255);
    }
    ml += 4;
    if (d + ml > dEnd) throw new PayloadError(s, 'LZ4 block decompresses past its maximum size');
    let m = d - off;
    if (off >= 4 && ml <= 16) {
      // 4-byte steps read only bytes already written when off >= 4.
      dv.setUint32(d, dv.getUint32(m, true), true);
      dv.setUint32(d + 4, dv.getUint32(m + 4, true), true);
      if (ml > 8) {
        dv.setUint32(d + 8, dv.getUint32(m + 8, true), true);
        dv.setUint32(d + 12, dv.getUint32(m + 12, true), true);
      }
      d += ml;
    } else if (off >= ml && ml >= 32) {
      dst.copyWithin(d, m, m + ml);
      d += ml;
    } else {
      const e = d + ml;
      while (d < e) dst[d++] = dst[m++];
    }
  }
}

/**
 * Decodes one LZ4 frame (the whole of `src`) into a reusable output buffer. Supports linked and
 * independent blocks, uncompressed blocks, content size, block/content checksums (skipped, not
 * verified) and verifies the header checksum. Dictionaries and trailing bytes are errors.
 */
export class Lz4FrameDecoder {
  private out = new Uint8Array(64 * 1024 + LZ4_SLACK);
  private outView = new DataView(this.out.buffer);

  /**
   * The decompressed bytes: a view valid until the next call. Throws PayloadError.
   * decoder inner loop: the block and sequence loops share their cursors in locals; split into
   * methods they would pass or store them for every literal run and match.
   */
  decode(src: Uint8Array): Uint8Array {
    const n = src.length;
    if (n < 7) throw new PayloadError(0, `LZ4 frame too short (${n} bytes)`);
    const magic = u32(src, 0);
    if (magic !== LZ4_MAGIC) throw new PayloadError(0, `bad LZ4 frame magic 0x${magic.toString(16)}`);
    const flg = src[4];
    if (flg >>> 6 !== 1) throw new PayloadError(4, `unsupported LZ4 frame version ${flg >>> 6}`);
    if (flg & 0x02) throw new PayloadError(4, 'LZ4 frame descriptor reserved bit set');
    if (flg & 0x01) throw new PayloadError(4, 'LZ4 frames with a dictionary are not supported');
    const independent = (flg & 0x20) !== 0;
    const blockSum = (flg & 0x10) !== 0 ? 4 : 0;
    const hasSize = (flg & 0x08) !== 0;
    const contentSum = (flg & 0x04) !== 0 ? 4 : 0;
    const bd = src[5];
    const bsId = (bd >>> 4) & 7;
    if (bd & 0x8f || bsId < 4) throw new PayloadError(5, `bad LZ4 block descriptor 0x${bd.toString(16)}`);
    const blockMax = 1 << (8 + 2 * bsId);
    let p = 6;
    let contentSize = -1;
    if (hasSize) {
      if (n < p + 9) throw new PayloadError(p, 'LZ4 frame header truncated');
      contentSize = u32(src, p) + u32(src, p + 4) * 4294967296;
      if (contentSize > AEDAT4_MAX_DECOMPRESSED_BYTES) {
        throw new PayloadError(p, `LZ4 content size ${contentSize} exceeds ${AEDAT4_MAX_DECOMPRESSED_BYTES}`);
      }
      p += 8;
    }
    const hc = (xxh32(src, 4, p) >>> 8) & 0xff;
    if (src[p] !== hc) throw new PayloadError(p, 'LZ4 frame header checksum mismatch');
    p++;
    const firstBlock = p;
    // Pass 1: walk the block headers, check they lie inside the payload, bound the output.
    let bound = 0;
    for (;;) {
      if (p + 4 > n) throw new PayloadError(p, 'LZ4 frame truncated (block header)');
      const word = u32(src, p);
      if (word === 0) {
        p += 4 + contentSum;
        break;
      }
      const raw = word >= 0x80000000;
      const size = raw ? word - 0x80000000 : word;
      if (size > blockMax) throw new PayloadError(p, `LZ4 block of ${size} bytes exceeds the frame's ${blockMax}`);
      p += 4 + size + blockSum;
      if (p > n) throw new PayloadError(n, 'LZ4 frame truncated (block data)');
      bound += raw ? size : Math.min(blockMax, size * 255 + 16);
      if (bound > AEDAT4_MAX_DECOMPRESSED_BYTES) {
        throw new PayloadError(p, `LZ4 frame decompresses past ${AEDAT4_MAX_DECOMPRESSED_BYTES} bytes`);
      }
    }
    if (p > n) throw new PayloadError(n, 'LZ4 frame truncated (content checksum)');
    if (p < n) throw new PayloadError(p, `${n - p} bytes after the LZ4 frame`);
    if (contentSize >= 0) bound = Math.min(bound, contentSize);
    if (this.out.length < bound + LZ4_SLACK) {
      this.out = new Uint8Array(Math.max(bound, this.out.length * 2) + LZ4_SLACK);
      this.outView = new DataView(this.out.buffer);
    }
    const out = this.out;
    const ov = this.outView;
    const sv = new DataView(src.buffer, src.byteOffset, src.length);
    // Pass 2: decode.
    let d = 0;
    p = firstBlock;
    for (;;) {
      const word = u32(src, p);
      p += 4;
      if (word === 0) break;
      const blockStart = d;
      if (word >= 0x80000000) {
        const size = word - 0x80000000;
        if (d + size > bound) throw new PayloadError(p, 'LZ4 frame decompresses past its content size');
        out.set(src.subarray(p, p + size), d);
        d += size;
        p += size + blockSum;
      } else {
        const dEnd = Math.min(bound, blockStart + blockMax);
        d = lz4DecodeBlock(src, sv, p, p + word, out, ov, d, dEnd, independent ? blockStart : 0);
        p += word + blockSum;
      }
    }
    if (contentSize >= 0 && d !== contentSize) {
      throw new PayloadError(6, `LZ4 frame holds ${d} bytes, its header says ${contentSize}`);
    }
    return out.subarray(0, d);
  }
}
