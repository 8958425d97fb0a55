/**
 * IDX files (the MNIST container): big-endian header `0x00 0x00 <type> <ndims>`, then ndims
 * uint32 sizes, then the data, big-endian, row-major. Types: 0x08 uint8, 0x09 int8,
 * 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 *
 * `parseIdx` checks the header and that the data is exactly as long as the sizes say;
 * `IdxFile` reads the header and then items on demand (random access, no whole-file read).
 * Corrupt input throws FormatError('idx', byteOffset, reason).
 */
import * as fs from 'fs';
import { FormatError } from 'aedat-parser-ts';

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'u8', bytes: 1 },
  0x09: { type: 'i8', bytes: 1 },
  0x0b: { type: 'i16', bytes: 2 },
  0x0c: { type: 'i32', bytes: 4 },
  0x0d: { type: 'f32', bytes: 4 },
  0x0e: { type: 'f64', bytes: 8 },
};

/** The most dimensions we accept (MNIST uses 1 and 3). */
export const IDX_MAX_DIMS = 8;

export interface IdxHeader {
  type: IdxType;
  /** Bytes per element. */
  elementBytes: number;
  dims: number[];
  /** Header length in bytes (4 + 4 × ndims). */
  headerBytes: number;
  /** Elements per item (product of dims[1..]); 1 for a vector. */
  itemElements: number;
  /** dims[0]. */
  items: number;
  /** Expected total length of the file in bytes. */
  totalBytes: number;
}

/** Parses and checks an IDX header from the first bytes of a file (at least 4 + 4 × ndims). */
export function parseIdxHeader(head: Uint8Array, file?: string): IdxHeader {
  const bad = (off: number, reason: string) => new FormatError('idx', off, reason, file);
  if (head.length < 4) throw bad(0, `file too short for an IDX header (${head.length} bytes)`);
  if (head[0] !== 0 || head[1] !== 0) throw bad(0, `bad magic: first two bytes must be 0, got ${head[0]}, ${head[1]}`);
  const t = TYPES[head[2]];
  if (!t) throw bad(2, `unknown IDX data type 0x${head[2].toString(16).padStart(2, '0')}`);
  const nd = head[3];
  if (nd < 1 || nd > IDX_MAX_DIMS) throw bad(3, `number of dimensions ${nd} outside 1…${IDX_MAX_DIMS}`);
  const headerBytes = 4 + 4 * nd;
  if (head.length < headerBytes) throw bad(head.length, `header needs ${headerBytes} bytes, file has ${head.length}`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  let elements = 1;
  for (let k = 0; k < nd; k++) {
    const d = dv.getUint32(4 + 4 * k, false);
    dims.push(d);
    elements *= d;
    if (elements * t.bytes > Number.MAX_SAFE_INTEGER) throw bad(4 + 4 * k, 'sizes multiply to more than 2^53 bytes');
  }
  const itemElements = dims.slice(1).reduce((a, b) => a * b, 1);
  return { type: t.type, elementBytes: t.bytes, dims, headerBytes, itemElements, items: dims[0], totalBytes: headerBytes + elements * t.bytes };
}

function decodeData(type: IdxType, bytes: Uint8Array, count: number): IdxData {
  if (type === 'u8') return bytes.slice(0, count);
  if (type === 'i8') return new Int8Array(bytes.slice(0, count).buffer);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { make, bytes: size, read } = BIG_ENDIAN[type];
  const a = make(count);
  for (let i = 0; i < count; i++) a[i] = read(dv, size * i);
  return a;
}

/** The multi-byte IDX types: their array, element size and big-endian read. */
const BIG_ENDIAN: Record<Exclude<IdxType, 'u8' | 'i8'>, { make: (n: number) => Int16Array | Int32Array | Float32Array | Float64Array; bytes: number; read: (dv: DataView, offset: number) => number }> = {
  i16: { make: (n) => new Int16Array(n), bytes: 2, read: (dv, o) => dv.getInt16(o, false) },
  i32: { make: (n) => new Int32Array(n), bytes: 4, read: (dv, o) => dv.getInt32(o, false) },
  f32: { make: (n) => new Float32Array(n), bytes: 4, read: (dv, o) => dv.getFloat32(o, false) },
  f64: { make: (n) => new Float64Array(n), bytes: 8, read: (dv, o) => dv.getFloat64(o, false) },
};

export interface IdxArray {
  header: IdxHeader;
  type: IdxType;
  dims: number[];
  /** All elements, row-major, in host order. */
  data: IdxData;
}

/** Parses a whole IDX file held in memory. */
export function parseIdx(bytes: Uint8Array, file?: string): IdxArray {
  const h = parseIdxHeader(bytes, file);
  if (bytes.length < h.totalBytes) throw new FormatError('idx', bytes.length, `truncated: sizes ${h.dims.join('×')} need ${h.totalBytes} bytes, file has ${bytes.length}`, file);
  if (bytes.length > h.totalBytes) throw new FormatError('idx', h.totalBytes, `${bytes.length - h.totalBytes} bytes after the data that sizes ${h.dims.join('×')} describe`, file);
  const n = (h.totalBytes - h.headerBytes) / h.elementBytes;
  return { header: h, type: h.type, dims: h.dims, data: decodeData(h.type, bytes.subarray(h.headerBytes), n) };
}

/** An IDX file on disk, read item by item. Call `close()` when done. */
export class IdxFile {
  readonly header: IdxHeader;
  private fd: number | undefined;

  private constructor(readonly path: string, fd: number, header: IdxHeader) {
    this.fd = fd;
    this.header = header;
  }

  /** Opens and checks the header and the file's size against it. */
  static open(file: string): IdxFile {
    const fd = fs.openSync(file, 'r');
    try {
      const head = new Uint8Array(4 + 4 * IDX_MAX_DIMS);
      const got = fs.readSync(fd, head, 0, head.length, 0);
      const h = parseIdxHeader(head.subarray(0, got), file);
      const size = fs.fstatSync(fd).size;
      if (size < h.totalBytes) throw new FormatError('idx', size, `truncated: sizes ${h.dims.join('×')} need ${h.totalBytes} bytes, file has ${size}`, file);
      if (size > h.totalBytes) throw new FormatError('idx', h.totalBytes, `${size - h.totalBytes} bytes after the data that sizes ${h.dims.join('×')} describe`, file);
      return new IdxFile(file, fd, h);
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** Items [start, start + count) as one flat typed array (count × itemElements). */
  read(start: number, count: number): IdxData {
    if (this.fd === undefined) throw new Error(`IdxFile ${this.path}: closed`);
    const h = this.header;
    if (!(Number.isInteger(start) && Number.isInteger(count) && start >= 0 && count >= 0 && start + count <= h.items)) {
      throw new RangeError(`IdxFile ${this.path}: items ${start}…${start + count} outside 0…${h.items}`);
    }
    const itemBytes = h.itemElements * h.elementBytes;
    const buf = new Uint8Array(count * itemBytes);
    let off = 0;
    while (off < buf.length) {
      const got = fs.readSync(this.fd, buf, off, buf.length - off, h.headerBytes + start * itemBytes + off);
      if (got === 0) throw new FormatError('idx', h.headerBytes + start * itemBytes + off, 'unexpected end of file', this.path);
      off += got;
    }
    return decodeData(h.type, buf, count * h.itemElements);
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
