/**
 * AEDAT 4.0 (iniVation DV) decoder.
 *
 * Layout: `#!AER-DAT4.0\r\n`, uint32 LE IOHeader length, IOHeader flatbuffer ("IOHE":
 * compression, dataTablePosition, XML description), then packets: int32 streamId, uint32 size,
 * payload. A payload is a size-prefixed flatbuffer whose identifier (bytes 8–12) names its type,
 * compressed as a whole (one LZ4 frame or one zstd frame) when the header says so. Only the
 * events stream ("EVTS") is decoded; other streams are skipped without decompressing. Reading
 * stops at dataTablePosition (the FileDataTable lives there).
 *
 * Events: EventPacket.elements, 16-byte structs {int64 t (µs, Unix time), int16 x, int16 y,
 * bool on, 3 pad}. Coordinates are DV's: origin top-left, x to the right, y down.
 *
 * Every offset and length read from the input is bounds-checked; corrupt input throws
 * FormatError('aedat4', fileOffset, reason). LZ4 frames are decoded by the bounds-checked codec
 * below (lz4js does no bounds checking and was slower); zstd frames are walked and size-checked
 * here before fzstd decodes them.
 */
import { decompress as zstdDecompress } from 'fzstd';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import type { EventDecoder } from './decoder';
import { FormatError } from './format-error';
import { NO_EVENTS } from './header-lines';

export const AEDAT4_MAGIC = '#!AER-DAT4.0\r\n';
const MAGIC_BYTES = Uint8Array.from(AEDAT4_MAGIC, (c) => c.charCodeAt(0));
/** Largest IOHeader we accept (DV writes a few KiB). */
export const AEDAT4_MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Largest packet payload we accept (DV packets are typically well under 1 MiB). */
export const AEDAT4_MAX_PACKET_BYTES = 64 * 1024 * 1024;
/** Largest decompressed packet we accept. */
export const AEDAT4_MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

export type Aedat4CompressionName = 'none' | 'lz4' | 'lz4-high' | 'zstd' | 'zstd-high';
const COMPRESSION_NAMES: readonly Aedat4CompressionName[] = ['none', 'lz4', 'lz4-high', 'zstd', 'zstd-high'];

/** One `outInfo/<id>` node of the description. */
export interface Aedat4StreamInfo {
  id: number;
  /** Flatbuffer type identifier: EVTS, FRME, IMUS, TRIG, … */
  typeIdentifier: string;
  /** `originalOutputName` (e.g. "events"), when present. */
  name?: string;
  /** `info/sizeX`, `info/sizeY` (event and frame streams). */
  width?: number;
  height?: number;
  /** `info/source`, e.g. "DVS128_0279". */
  source?: string;
  /** The per-stream `compression` attribute as written (informational; the IOHeader decides). */
  compression?: string;
}

export interface Aedat4Header {
  compression: Aedat4CompressionName;
  /** File offset of the FileDataTable, or −1 when there is none. */
  dataTablePosition: number;
  /** The XML description as stored. */
  description: string;
  streams: Aedat4StreamInfo[];
  /** Bytes before the first packet: magic + length word + IOHeader. */
  headerBytes: number;
}

export interface Aedat4DecoderOptions {
  /** Which EVTS stream to decode; default: the first EVTS stream of the description. */
  streamId?: number;
}

/** True when `head` begins with the AEDAT 4.0 magic line (needs at least 12 bytes). */
export function looksLikeAedat4(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  for (let i = 0; i < Math.min(head.length, MAGIC_BYTES.length); i++) if (head[i] !== MAGIC_BYTES[i]) return false;
  return true;
}

/**
 * Parses the file header from the first bytes of a file (they must hold the whole IOHeader:
 * a few KiB is normally enough; `headerBytes` of the result says how much was needed).
 * Throws FormatError when the bytes are not an AEDAT 4.0 header or stop inside it.
 */
export function readAedat4Header(head: Uint8Array): Aedat4Header {
  const dec = new Aedat4Decoder();
  dec.push(head.subarray(0, Math.min(head.length, AEDAT4_MAX_HEADER_BYTES + 18)), true);
  const h = dec.header;
  if (h === undefined) {
    throw new FormatError('aedat4', head.length, `header incomplete: ${head.length} bytes given, more needed`);
  }
  return h;
}

/** The stream table (`outInfo`) of a file, from its first bytes; see readAedat4Header. */
export function readAedat4Streams(head: Uint8Array): Aedat4StreamInfo[] {
  return readAedat4Header(head).streams;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A failure inside a packet payload, at `at` bytes from the payload start; wrapped by the caller. */
class PayloadError extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function u16(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}
function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}
function i32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}
function fourcc(b: Uint8Array, p: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = b[p + i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}

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

// ---------------------------------------------------------------------------------------------
// LZ4 frame decoding (bounds-checked)

const LZ4_MAGIC = 0x184d2204;

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

  /** The decompressed bytes: a view valid until the next call. Throws PayloadError. */
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

// ---------------------------------------------------------------------------------------------
// zstd: walk the frame (bounds, window, one frame only), then let fzstd decode it.

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

function decodeZstd(src: Uint8Array): Uint8Array {
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

// ---------------------------------------------------------------------------------------------
// Flatbuffer tables (hand-read, bounds-checked)

/**
 * Locates field `index` of the table at `table` in b[base, end): returns its absolute position,
 * or −1 when absent. Checks that `width` bytes of the field lie inside the table and buffer.
 * `from` is where the table's offset was read (for the error position).
 */
function fbField(b: Uint8Array, base: number, end: number, from: number, table: number, index: number, width: number, what: string): number {
  if (table < base || table + 4 > end) throw new PayloadError(from, `${what}: table offset ${table - base} out of range`);
  const vt = table - i32(b, table);
  if (vt < base || vt + 4 > end) throw new PayloadError(table, `${what}: vtable offset out of range`);
  const vtSize = u16(b, vt);
  const tableSize = u16(b, vt + 2);
  if (vtSize < 4 || vtSize & 1 || vt + vtSize > end) throw new PayloadError(vt, `${what}: bad vtable size ${vtSize}`);
  if (tableSize < 4 || table + tableSize > end) throw new PayloadError(vt + 2, `${what}: bad table size ${tableSize}`);
  const slot = 4 + 2 * index;
  if (slot + 2 > vtSize) return -1;
  const off = u16(b, vt + slot);
  if (off === 0) return -1;
  if (off < 4 || off + width > tableSize) throw new PayloadError(vt + slot, `${what}: field ${index} outside its table`);
  return table + off;
}

/** Follows the uoffset stored at `at` to a vector/string; returns [start of data, count]. */
function fbVector(b: Uint8Array, end: number, at: number, elemSize: number, what: string): [number, number] {
  const v = at + u32(b, at);
  if (v + 4 > end) throw new PayloadError(at, `${what}: vector offset out of range`);
  const count = u32(b, v);
  if (v + 4 + count * elemSize > end) throw new PayloadError(v, `${what}: ${count} elements overrun the buffer`);
  return [v + 4, count];
}

// ---------------------------------------------------------------------------------------------
// XML description

interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  text: string;
}

class XmlError extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function xmlUnescape(s: string, at: number): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (all, e: string) => {
    if (e === 'lt') return '<';
    if (e === 'gt') return '>';
    if (e === 'amp') return '&';
    if (e === 'quot') return '"';
    if (e === 'apos') return "'";
    if (e[0] === '#') {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      if (!(cp >= 0 && cp <= 0x10ffff)) throw new XmlError(at, `bad character reference ${all}`);
      return String.fromCodePoint(cp);
    }
    return all;
  });
}

const XML_MAX_DEPTH = 128;

/** A small XML reader for DV's description: elements, attributes, text, comments, PIs, CDATA. */
function parseXml(s: string): XmlNode {
  const root: XmlNode = { tag: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlNode[] = [root];
  const n = s.length;
  let i = 0;
  const isSpace = (c: string): boolean => c === ' ' || c === '\n' || c === '\r' || c === '\t';
  while (i < n) {
    const lt = s.indexOf('<', i);
    const top = stack[stack.length - 1];
    if (lt < 0) {
      top.text += xmlUnescape(s.slice(i), i);
      break;
    }
    if (lt > i) top.text += xmlUnescape(s.slice(i, lt), i);
    if (s.startsWith('<!--', lt)) {
      const e = s.indexOf('-->', lt + 4);
      if (e < 0) throw new XmlError(lt, 'unterminated comment');
      i = e + 3;
    } else if (s.startsWith('<![CDATA[', lt)) {
      const e = s.indexOf(']]>', lt + 9);
      if (e < 0) throw new XmlError(lt, 'unterminated CDATA');
      top.text += s.slice(lt + 9, e);
      i = e + 3;
    } else if (s.startsWith('<?', lt)) {
      const e = s.indexOf('?>', lt + 2);
      if (e < 0) throw new XmlError(lt, 'unterminated processing instruction');
      i = e + 2;
    } else if (s.startsWith('<!', lt)) {
      const e = s.indexOf('>', lt + 2);
      if (e < 0) throw new XmlError(lt, 'unterminated declaration');
      i = e + 1;
    } else if (s[lt + 1] === '/') {
      const e = s.indexOf('>', lt + 2);
      if (e < 0) throw new XmlError(lt, 'unterminated end tag');
      const name = s.slice(lt + 2, e).trim();
      if (stack.length <= 1 || top.tag !== name) throw new XmlError(lt, `unexpected </${name}>`);
      stack.pop();
      i = e + 1;
    } else {
      let j = lt + 1;
      while (j < n && !isSpace(s[j]) && s[j] !== '>' && s[j] !== '/') j++;
      const tag = s.slice(lt + 1, j);
      if (tag.length === 0) throw new XmlError(lt, 'empty tag name');
      const node: XmlNode = { tag, attrs: {}, children: [], text: '' };
      let selfClosing = false;
      for (;;) {
        while (j < n && isSpace(s[j])) j++;
        if (j >= n) throw new XmlError(lt, `unterminated <${tag}>`);
        if (s[j] === '>') {
          j++;
          break;
        }
        if (s[j] === '/') {
          if (s[j + 1] !== '>') throw new XmlError(j, `bad '/' in <${tag}>`);
          selfClosing = true;
          j += 2;
          break;
        }
        const a = j;
        while (j < n && !isSpace(s[j]) && s[j] !== '=' && s[j] !== '>' && s[j] !== '/') j++;
        const key = s.slice(a, j);
        while (j < n && isSpace(s[j])) j++;
        if (key.length === 0 || s[j] !== '=') throw new XmlError(j, `attribute without value in <${tag}>`);
        j++;
        while (j < n && isSpace(s[j])) j++;
        const q = s[j];
        if (q !== '"' && q !== "'") throw new XmlError(j, `unquoted attribute ${key} in <${tag}>`);
        const close = s.indexOf(q, j + 1);
        if (close < 0) throw new XmlError(j, `unterminated attribute ${key}`);
        node.attrs[key] = xmlUnescape(s.slice(j + 1, close), j);
        j = close + 1;
      }
      top.children.push(node);
      if (!selfClosing) {
        if (stack.length > XML_MAX_DEPTH) throw new XmlError(lt, 'XML nested too deeply');
        stack.push(node);
      }
      i = j;
    }
  }
  if (stack.length > 1) throw new XmlError(n, `unclosed <${stack[stack.length - 1].tag}>`);
  return root;
}

function attrValues(node: XmlNode): Record<string, string> {
  const out: Record<string, string> = {};
  for (const c of node.children) if (c.tag === 'attr' && c.attrs.key !== undefined) out[c.attrs.key] = c.text.trim();
  return out;
}

function childNode(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.tag === 'node' && c.attrs.name === name);
}

/** The outInfo streams of a DV description. Throws XmlError. */
function streamsFromDescription(xml: string): Aedat4StreamInfo[] {
  if (xml.trim().length === 0) return [];
  const doc = parseXml(xml);
  const dv = doc.children.find((c) => c.tag === 'dv');
  if (dv === undefined) throw new XmlError(0, 'description has no <dv> root element');
  const outInfo = childNode(dv, 'outInfo');
  if (outInfo === undefined) return [];
  const streams: Aedat4StreamInfo[] = [];
  for (const c of outInfo.children) {
    if (c.tag !== 'node' || c.attrs.name === undefined || !/^-?\d{1,10}$/.test(c.attrs.name)) continue;
    const id = Number(c.attrs.name);
    if (id < -2147483648 || id > 2147483647) continue;
    const a = attrValues(c);
    const s: Aedat4StreamInfo = { id, typeIdentifier: a.typeIdentifier ?? '' };
    if (a.originalOutputName !== undefined) s.name = a.originalOutputName;
    if (a.compression !== undefined) s.compression = a.compression;
    const infoNode = childNode(c, 'info');
    if (infoNode !== undefined) {
      const info = attrValues(infoNode);
      const dim = (v: string | undefined, key: string): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 32767) {
          throw new XmlError(0, `stream ${id}: bad info/${key} '${v.slice(0, 40)}'`);
        }
        return Number(v);
      };
      const w = dim(info.sizeX, 'sizeX');
      const h = dim(info.sizeY, 'sizeY');
      if (w !== undefined) s.width = w;
      if (h !== undefined) s.height = h;
      if (info.source !== undefined) s.source = info.source;
    }
    streams.push(s);
  }
  return streams;
}

// ---------------------------------------------------------------------------------------------
// IOHeader

function parseIOHeader(h: Uint8Array, fileBase: number): Aedat4Header {
  const fail = (at: number, reason: string): never => {
    throw new FormatError('aedat4', fileBase + at, reason);
  };
  const end = h.length;
  if (end < 8) fail(0, `IOHeader too short (${end} bytes)`);
  const id = fourcc(h, 4);
  if (id !== 'IOHE') fail(4, `IOHeader identifier is "${id}", expected "IOHE"`);
  try {
    const root = u32(h, 0);
    const fc = fbField(h, 0, end, 0, root, 0, 4, 'IOHeader');
    const code = fc < 0 ? 0 : i32(h, fc);
    if (code < 0 || code >= COMPRESSION_NAMES.length) fail(fc, `unknown compression ${code}`);
    const fp = fbField(h, 0, end, 0, root, 1, 8, 'IOHeader');
    let dataTablePosition = -1;
    if (fp >= 0) {
      dataTablePosition = i32(h, fp + 4) * 4294967296 + u32(h, fp);
      if (dataTablePosition !== -1 && dataTablePosition < fileBase + end) {
        fail(fp, `dataTablePosition ${dataTablePosition} lies inside the header`);
      }
      if (dataTablePosition > Number.MAX_SAFE_INTEGER) fail(fp, `dataTablePosition ${dataTablePosition} too large`);
    }
    const fs = fbField(h, 0, end, 0, root, 2, 4, 'IOHeader');
    let description = '';
    let xmlAt = 0;
    if (fs >= 0) {
      const [start, len] = fbVector(h, end, fs, 1, 'IOHeader.infoNode');
      xmlAt = start;
      description = new TextDecoder('utf-8').decode(h.subarray(start, start + len));
    }
    let streams: Aedat4StreamInfo[];
    try {
      streams = streamsFromDescription(description);
    } catch (e) {
      if (e instanceof XmlError) return fail(xmlAt + e.at, `description XML: ${e.reason}`);
      throw e;
    }
    return { compression: COMPRESSION_NAMES[code], dataTablePosition, description, streams, headerBytes: fileBase + end };
  } catch (e) {
    if (e instanceof PayloadError) return fail(e.at, e.reason);
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// The decoder

const S_MAGIC = 0;
const S_HEADER_LEN = 1;
const S_HEADER = 2;
const S_PACKET_HEAD = 3;
const S_PAYLOAD = 4;
const S_SKIP = 5;
const S_DONE = 6;

const NO_STREAM = Number.NaN;

/** dst.set(src[s, s+k), d) without a subarray allocation for short copies (1-byte chunks). */
function copyBytes(dst: Uint8Array, d: number, src: Uint8Array, s: number, k: number): void {
  if (k < 64) {
    for (let j = 0; j < k; j++) dst[d + j] = src[s + j];
  } else {
    dst.set(src.subarray(s, s + k), d);
  }
}

export class Aedat4Decoder implements EventDecoder {
  readonly format = 'aedat4' as const;
  private geom: Geometry | undefined;
  private hdr: Aedat4Header | undefined;
  private state = S_MAGIC;
  private pos = 0;
  private failed: unknown = undefined;
  private ended = false;
  /** Magic + length word, then packet headers. */
  private small = new Uint8Array(18);
  private fill = 0;
  private headerBuf = new Uint8Array(0);
  private selected = NO_STREAM;
  private compressionCode = 0;
  private maxX = 32768;
  private maxY = 32768;
  private packetStart = 0;
  private packetSize = 0;
  private packetStream = 0;
  private remaining = 0;
  private packetBuf = new Uint8Array(0);
  private aligned = new Uint8Array(0);
  private lz4 = new Lz4FrameDecoder();
  private packets = 0;
  // Output accumulator (reused; push returns compact copies).
  private ox = new Uint16Array(4096);
  private oy = new Uint16Array(4096);
  private op = new Uint8Array(4096);
  private ot = new Float64Array(4096);
  private on = 0;

  constructor(private readonly options: Aedat4DecoderOptions = {}) {}

  get geometry(): Geometry | undefined {
    return this.geom;
  }
  get bytesConsumed(): number {
    return this.pos;
  }
  /** The parsed header, once the IOHeader has been read. */
  get header(): Aedat4Header | undefined {
    return this.hdr;
  }
  get streams(): Aedat4StreamInfo[] {
    return this.hdr?.streams ?? [];
  }
  /** The id of the stream being decoded (undefined before the header, or when there is none). */
  get streamId(): number | undefined {
    return Number.isNaN(this.selected) ? undefined : this.selected;
  }
  /** Packets of the decoded stream seen so far. */
  get packetCount(): number {
    return this.packets;
  }

  push(chunk: Uint8Array, headerOnly = false): EventBatch {
    if (this.failed !== undefined) throw this.failed;
    if (this.ended) throw new Error('Aedat4Decoder: push after end');
    try {
      this.run(chunk, headerOnly);
    } catch (e) {
      this.failed = e;
      throw e;
    }
    return this.take();
  }

  end(): EventBatch {
    if (this.failed !== undefined) throw this.failed;
    if (this.ended) return NO_EVENTS;
    this.ended = true;
    const fail = (at: number, reason: string): never => {
      this.failed = new FormatError('aedat4', at, reason);
      throw this.failed;
    };
    switch (this.state) {
      case S_MAGIC:
      case S_HEADER_LEN:
        fail(this.pos, `input ends inside the file header (${this.pos} bytes)`);
        break;
      case S_HEADER:
        fail(this.pos, `input ends inside the IOHeader (${this.fill} of ${this.headerBuf.length} bytes)`);
        break;
      case S_PACKET_HEAD:
        if (this.fill > 0) fail(this.packetStart, `input ends inside a packet header (${this.fill} of 8 bytes)`);
        break;
      case S_PAYLOAD:
      case S_SKIP:
        fail(this.packetStart, `truncated packet of stream ${this.packetStream}: ${this.packetSize - this.remaining} of ${this.packetSize} payload bytes`);
        break;
      default:
        break;
    }
    return this.take();
  }

  private take(): EventBatch {
    const n = this.on;
    if (n === 0) return NO_EVENTS;
    this.on = 0;
    return { x: this.ox.slice(0, n), y: this.oy.slice(0, n), p: this.op.slice(0, n), t: this.ot.slice(0, n), length: n };
  }

  private ensureOut(extra: number): void {
    const need = this.on + extra;
    if (need <= this.ox.length) return;
    let c = this.ox.length * 2;
    while (c < need) c *= 2;
    const x = new Uint16Array(c);
    x.set(this.ox.subarray(0, this.on));
    const y = new Uint16Array(c);
    y.set(this.oy.subarray(0, this.on));
    const p = new Uint8Array(c);
    p.set(this.op.subarray(0, this.on));
    const t = new Float64Array(c);
    t.set(this.ot.subarray(0, this.on));
    this.ox = x;
    this.oy = y;
    this.op = p;
    this.ot = t;
  }

  private run(chunk: Uint8Array, headerOnly: boolean): void {
    const n = chunk.length;
    const base = this.pos;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case S_MAGIC:
        case S_HEADER_LEN: {
          const want = 18 - this.fill;
          const k = Math.min(want, n - i);
          for (let j = 0; j < k; j++) {
            const at = this.fill;
            const b = chunk[i + j];
            if (at < 14 && b !== MAGIC_BYTES[at]) {
              throw new FormatError('aedat4', at, `not an AEDAT 4.0 file: bad magic byte 0x${b.toString(16)} at ${at} (expected "#!AER-DAT4.0\\r\\n")`);
            }
            this.small[this.fill++] = b;
          }
          i += k;
          this.pos = base + i;
          if (this.fill === 18) {
            const len = u32(this.small, 14);
            if (len < 8 || len > AEDAT4_MAX_HEADER_BYTES) {
              throw new FormatError('aedat4', 14, `IOHeader length ${len} out of range (8 … ${AEDAT4_MAX_HEADER_BYTES})`);
            }
            this.headerBuf = new Uint8Array(len);
            this.fill = 0;
            this.state = S_HEADER;
          } else if (this.fill >= 14) {
            this.state = S_HEADER_LEN;
          }
          break;
        }
        case S_HEADER: {
          const k = Math.min(this.headerBuf.length - this.fill, n - i);
          copyBytes(this.headerBuf, this.fill, chunk, i, k);
          this.fill += k;
          i += k;
          this.pos = base + i;
          if (this.fill === this.headerBuf.length) {
            this.onHeader(parseIOHeader(this.headerBuf, 18));
            this.headerBuf = new Uint8Array(0);
            this.fill = 0;
            this.state = S_PACKET_HEAD;
            if (headerOnly) return;
          }
          break;
        }
        case S_PACKET_HEAD: {
          const dtp = this.hdr!.dataTablePosition;
          if (this.fill === 0) {
            if (dtp >= 0 && this.pos >= dtp) {
              this.state = S_DONE;
              break;
            }
            this.packetStart = this.pos;
          }
          let id: number;
          let size: number;
          if (this.fill === 0 && n - i >= 8) {
            id = i32(chunk, i);
            size = u32(chunk, i + 4);
            i += 8;
          } else {
            const k = Math.min(8 - this.fill, n - i);
            copyBytes(this.small, this.fill, chunk, i, k);
            this.fill += k;
            i += k;
            if (this.fill < 8) {
              this.pos = base + i;
              break;
            }
            this.fill = 0;
            id = i32(this.small, 0);
            size = u32(this.small, 4);
          }
          this.pos = base + i;
          this.beginPacket(id, size);
          break;
        }
        case S_PAYLOAD: {
          const size = this.packetSize;
          if (this.remaining === size && n - i >= size) {
            // Whole payload inside this chunk: decode in place.
            this.decodePacket(chunk.subarray(i, i + size));
            i += size;
            this.remaining = 0;
          } else {
            const k = Math.min(this.remaining, n - i);
            const have = size - this.remaining;
            if (this.packetBuf.length < have + k) {
              // Grow geometrically up to the declared size: memory follows the bytes that arrive.
              const c = Math.min(size, Math.max(have + k, this.packetBuf.length * 2, 64 * 1024));
              const nb = new Uint8Array(c);
              nb.set(this.packetBuf.subarray(0, have));
              this.packetBuf = nb;
            }
            copyBytes(this.packetBuf, have, chunk, i, k);
            this.remaining -= k;
            i += k;
            if (this.remaining === 0) this.decodePacket(this.packetBuf.subarray(0, size));
          }
          this.pos = base + i;
          if (this.remaining === 0) this.state = S_PACKET_HEAD;
          break;
        }
        case S_SKIP: {
          const k = Math.min(this.remaining, n - i);
          this.remaining -= k;
          i += k;
          this.pos = base + i;
          if (this.remaining === 0) this.state = S_PACKET_HEAD;
          break;
        }
        default:
          // After the data table position: the FileDataTable, not packets.
          i = n;
          this.pos = base + i;
          break;
      }
    }
  }

  private onHeader(h: Aedat4Header): void {
    this.hdr = h;
    this.compressionCode = COMPRESSION_NAMES.indexOf(h.compression);
    let s: Aedat4StreamInfo | undefined;
    if (this.options.streamId !== undefined) {
      s = h.streams.find((x) => x.id === this.options.streamId);
      if (s === undefined || s.typeIdentifier !== 'EVTS') {
        throw new FormatError('aedat4', 18, `no EVTS stream with id ${this.options.streamId} (streams: ${h.streams.map((x) => `${x.id} ${x.typeIdentifier}`).join(', ') || 'none'})`);
      }
    } else {
      s = h.streams.find((x) => x.typeIdentifier === 'EVTS');
    }
    if (s !== undefined) {
      this.selected = s.id;
      if (s.width !== undefined && s.height !== undefined) {
        this.geom = { width: s.width, height: s.height };
        this.maxX = s.width;
        this.maxY = s.height;
      }
    }
  }

  private beginPacket(id: number, size: number): void {
    const at = this.packetStart;
    if (size > AEDAT4_MAX_PACKET_BYTES) {
      throw new FormatError('aedat4', at + 4, `packet size ${size} exceeds ${AEDAT4_MAX_PACKET_BYTES} bytes (stream ${id})`);
    }
    const dtp = this.hdr!.dataTablePosition;
    if (dtp >= 0 && at + 8 + size > dtp) {
      throw new FormatError('aedat4', at + 4, `packet of ${size} bytes at ${at} runs past the file data table at ${dtp}`);
    }
    this.packetStream = id;
    this.packetSize = size;
    this.remaining = size;
    if (size === 0) {
      if (id === this.selected) throw new FormatError('aedat4', at + 4, `empty packet in events stream ${id}`);
      return; // stays in S_PACKET_HEAD
    }
    this.state = id === this.selected ? S_PAYLOAD : S_SKIP;
  }

  private decodePacket(payload: Uint8Array): void {
    const at = this.packetStart + 8;
    let data: Uint8Array;
    try {
      switch (this.compressionCode) {
        case 0:
          data = payload;
          break;
        case 1:
        case 2:
          data = this.lz4.decode(payload);
          break;
        default:
          data = decodeZstd(payload);
          break;
      }
    } catch (e) {
      if (e instanceof PayloadError) throw new FormatError('aedat4', at + e.at, `packet of stream ${this.packetStream}: ${e.reason}`);
      throw e;
    }
    // Offsets inside decompressed data have no file position: report the payload start then.
    const errAt = (inner: number): number => (this.compressionCode === 0 ? at + inner : at);
    try {
      this.decodeEventPacket(data, errAt);
    } catch (e) {
      if (e instanceof PayloadError) throw new FormatError('aedat4', errAt(e.at), `packet of stream ${this.packetStream}: ${e.reason}`);
      throw e;
    }
    this.packets++;
  }

  private decodeEventPacket(d: Uint8Array, errAt: (inner: number) => number): void {
    const n = d.length;
    if (n < 12) throw new PayloadError(0, `packet flatbuffer too short (${n} bytes)`);
    const size = u32(d, 0);
    if (size + 4 > n) throw new PayloadError(0, `flatbuffer size prefix ${size} exceeds the ${n - 4} bytes present`);
    const end = 4 + size;
    const id = fourcc(d, 8);
    if (id !== 'EVTS') throw new PayloadError(8, `flatbuffer identifier "${id}", expected "EVTS"`);
    const root = 4 + u32(d, 4);
    const f = fbField(d, 4, end, 4, root, 0, 4, 'EventPacket');
    if (f < 0) return; // no elements
    const [start, count] = fbVector(d, end, f, 16, 'EventPacket.elements');
    if (count === 0) return;
    this.ensureOut(count);
    const X = this.ox;
    const Y = this.oy;
    const P = this.op;
    const T = this.ot;
    const maxX = this.maxX;
    const maxY = this.maxY;
    let o = this.on;
    if (LITTLE_ENDIAN) {
      let buf = d;
      let s = start;
      if ((d.byteOffset + start) & 3) {
        if (this.aligned.length < count * 16) this.aligned = new Uint8Array(Math.max(count * 16, this.aligned.length * 2));
        this.aligned.set(d.subarray(start, start + count * 16));
        buf = this.aligned;
        s = 0;
      }
      const w = new Int32Array(buf.buffer, buf.byteOffset + s, count * 4);
      for (let k = 0, b = 0; k < count; k++, b += 4) {
        const xy = w[b + 2];
        const x = xy & 0xffff;
        const y = xy >>> 16;
        if (x >= maxX || y >= maxY) this.badCoordinate(k, x, y, start, errAt);
        X[o] = x;
        Y[o] = y;
        P[o] = (w[b + 3] & 0xff) !== 0 ? 1 : 0;
        T[o] = w[b + 1] * 4294967296 + (w[b] >>> 0);
        o++;
      }
    } else {
      const dv = new DataView(d.buffer, d.byteOffset, d.length);
      for (let k = 0, b = start; k < count; k++, b += 16) {
        const x = dv.getUint16(b + 8, true);
        const y = dv.getUint16(b + 10, true);
        if (x >= maxX || y >= maxY) this.badCoordinate(k, x, y, start, errAt);
        X[o] = x;
        Y[o] = y;
        P[o] = dv.getUint8(b + 12) !== 0 ? 1 : 0;
        T[o] = dv.getInt32(b + 4, true) * 4294967296 + dv.getUint32(b, true);
        o++;
      }
    }
    this.on = o;
  }

  private badCoordinate(k: number, x: number, y: number, start: number, errAt: (inner: number) => number): never {
    const sx = x >= 32768 ? x - 65536 : x;
    const sy = y >= 32768 ? y - 65536 : y;
    const where = this.geom ? `outside the ${this.geom.width}×${this.geom.height} sensor` : 'negative';
    throw new FormatError('aedat4', errAt(start + 16 * k + 8), `packet of stream ${this.packetStream}: event ${k} at (${sx}, ${sy}) ${where}`);
  }
}
