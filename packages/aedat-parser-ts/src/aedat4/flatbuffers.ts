/**
 * Hand-read, bounds-checked flatbuffer tables: the IOHeader and the EventPacket's elements
 * vector. Every offset read from the input is checked against the buffer before use.
 */
import { FormatError } from '../format-error.js';
import { fourcc, i32, PayloadError, u16, u32 } from './bytes.js';
import { COMPRESSION_NAMES, type Aedat4Header, type Aedat4StreamInfo } from './spec.js';
import { streamsFromDescription, XmlError } from './xml.js';

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

export function parseIOHeader(h: Uint8Array, fileBase: number): Aedat4Header {
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

/**
 * Locates the elements vector of a size-prefixed EventPacket flatbuffer ("EVTS"): returns
 * [start of its 16-byte structs, count]; count is 0 when the packet has no elements.
 */
export function eventPacketElements(d: Uint8Array): [number, number] {
  const n = d.length;
  if (n < 12) throw new PayloadError(0, `packet flatbuffer too short (${n} bytes)`);
  const size = u32(d, 0);
  if (size + 4 > n) throw new PayloadError(0, `flatbuffer size prefix ${size} exceeds the ${n - 4} bytes present`);
  const end = 4 + size;
  const id = fourcc(d, 8);
  if (id !== 'EVTS') throw new PayloadError(8, `flatbuffer identifier "${id}", expected "EVTS"`);
  const root = 4 + u32(d, 4);
  const f = fbField(d, 4, end, 4, root, 0, 4, 'EventPacket');
  if (f < 0) return [0, 0]; // no elements
  return fbVector(d, end, f, 16, 'EventPacket.elements');
}
