/**
 * Seeking in AEDAT 3.1 files without decoding them: an index of packets (read from packet
 * headers plus the first and last event of each polarity packet, with positioned reads), and
 * a reader that decodes only the packets overlapping a time window.
 *
 * Times here are the file's own timestamps (eventTSOverflow · 2^31 + timestamp, no reset
 * handling), which is what DVS128 Gesture label windows refer to. The window reader assumes
 * what libcaer writes: polarity events in time order within and across packets.
 */
import { promises as fsp } from 'fs';
import { type EventBatch, allocBatch, sliceByIndex, lowerBoundTime } from '../event-batch.js';
import type { Geometry } from '../geometry.js';
import { FormatError, attachFile } from '../format-error.js';
import { Aedat3HeaderParser } from '../aedat3/header.js';
import { type Aedat3PacketHeader, decodePolarityEvents, readAedat3PacketHeader } from '../aedat3/packets.js';
import { AEDAT3_PACKET_HEADER_BYTES, AEDAT3_POLARITY_EVENT } from '../aedat3/spec.js';

export interface Aedat3PacketEntry {
  /** Offset of the packet's 28-byte header in the file. */
  offset: number;
  /** Header plus body. */
  byteLength: number;
  eventType: number;
  /**
   * Polarity packets: times of the first and last valid events (µs). NaN for other packet
   * types and for polarity packets without valid events.
   */
  firstT: number;
  lastT: number;
  /** Polarity packets: valid events (exact). Other types: the header's eventValid. */
  eventCount: number;
}

export interface Aedat3Index {
  headerBytes: number;
  geometry?: Geometry;
  packets: Aedat3PacketEntry[];
}

export interface Aedat3ReadOptions {
  /** Called after every read with the number of bytes read. */
  onBytesRead?(n: number): void;
  /**
   * Bytes per window read (default 64 KiB, at least one packet). Small reads let a consumer
   * that stops early (an early decision) skip most of a window; large ones suit bulk reading.
   */
  readBytes?: number;
}

const TWO_POW_31 = 2147483648;
const HEADER_READ_BYTES = 4096;
/** Windows read consecutive overlapping packets in reads of about this size. */
const WINDOW_READ_BYTES = 64 * 1024;

type Reader = (buf: Uint8Array, position: number) => Promise<number>;

function makeReader(fh: fsp.FileHandle, opts: Aedat3ReadOptions): Reader {
  return async (buf, position) => {
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > 0) opts.onBytesRead?.(got);
    return got;
  };
}

function dataWord(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

interface Pending {
  entry: Aedat3PacketEntry;
  h: Aedat3PacketHeader;
  /** The packet's first event slot (8 bytes). */
  first: Uint8Array;
}

/**
 * Fills a polarity packet's time range and count from its first and last event slots, or,
 * when either slot is invalid, the header declares invalid events or the ends are out of
 * order, by decoding its body (which also reports negative timestamps).
 */
async function finishPolarityEntry(p: Pending, last: Uint8Array, read: Reader, geometry: Geometry | undefined): Promise<void> {
  const { entry, h, first } = p;
  const tBase = h.eventTSOverflow * TWO_POW_31;
  const bodyAt = entry.offset + AEDAT3_PACKET_HEADER_BYTES;
  const a = dataWord(first, 4);
  const b = dataWord(last, 4);
  if ((dataWord(first, 0) & 1) === 1 && (dataWord(last, 0) & 1) === 1 && h.eventValid === h.eventCapacity && a >= 0 && b >= a) {
    // Every slot valid and in order (what libcaer writes): the first and last events bound it.
    entry.firstT = tBase + a;
    entry.lastT = tBase + b;
    entry.eventCount = h.eventCapacity;
    return;
  }
  // Invalid slots (or out-of-order ends): decode the body once for the valid events' range and count.
  const body = new Uint8Array(h.bodyBytes);
  if ((await read(body, bodyAt)) < body.length) throw new FormatError('aedat3', bodyAt, 'file ends inside a packet body');
  const batch = allocBatch(h.eventCapacity);
  const n = decodePolarityEvents(body, 0, h.eventCapacity, tBase, batch, 0, bodyAt, geometry);
  entry.eventCount = n;
  if (n === 0) return;
  let lo = batch.t[0];
  let hi = batch.t[0];
  for (let i = 1; i < n; i++) {
    if (batch.t[i] < lo) lo = batch.t[i];
    if (batch.t[i] > hi) hi = batch.t[i];
  }
  entry.firstT = lo;
  entry.lastT = hi;
}

/**
 * Builds the packet index of an AEDAT 3.1 file. Reads the text header, then for every packet
 * its header and, for polarity packets, the first and last event slots — one positioned read
 * of 44 bytes per packet, since a packet's last event sits just before the next header. The
 * whole body is read only when one of those slots is invalid, to find the valid events' range.
 * Throws FormatError (with the file) on a bad header, bad packet header or truncated packet.
 */
export async function indexAedat3File(path: string, opts: Aedat3ReadOptions = {}): Promise<Aedat3Index> {
  const fh = await fsp.open(path, 'r');
  try {
    const read = makeReader(fh, opts);
    const size = (await fh.stat()).size;
    const parser = new Aedat3HeaderParser();
    let pos = 0;
    const chunk = new Uint8Array(HEADER_READ_BYTES);
    while (!parser.done) {
      const got = await read(chunk, pos);
      if (got === 0) parser.end();
      const r = parser.feed(chunk.subarray(0, got), 0);
      pos += r < 0 ? got : r;
    }
    const headerBytes = parser.headerBytes;
    const packets: Aedat3PacketEntry[] = [];
    // One read per packet: the previous polarity packet's last event (8 bytes, adjacent), this
    // packet's header and its first event.
    const buf = new Uint8Array(8 + AEDAT3_PACKET_HEADER_BYTES + 8);
    let pending: Pending | undefined;
    let off = headerBytes;
    while (off < size) {
      if (size - off < AEDAT3_PACKET_HEADER_BYTES) {
        throw new FormatError('aedat3', off, `file ends inside a packet header (${size - off} of ${AEDAT3_PACKET_HEADER_BYTES} bytes)`);
      }
      const pre = pending ? 8 : 0;
      const want = pre + Math.min(AEDAT3_PACKET_HEADER_BYTES + 8, size - off);
      const got = await read(buf.subarray(0, want), off - pre);
      if (got < pre + AEDAT3_PACKET_HEADER_BYTES) throw new FormatError('aedat3', off, 'file ends inside a packet header');
      if (pending) {
        await finishPolarityEntry(pending, buf.subarray(0, 8), read, parser.geometry);
        pending = undefined;
      }
      const h = readAedat3PacketHeader(buf, pre, off);
      const byteLength = AEDAT3_PACKET_HEADER_BYTES + h.bodyBytes;
      if (off + byteLength > size) {
        throw new FormatError('aedat3', size, `file ends inside the body of the packet at byte ${off} (${size - off} of ${byteLength} bytes)`);
      }
      const entry: Aedat3PacketEntry = { offset: off, byteLength, eventType: h.eventType, firstT: NaN, lastT: NaN, eventCount: h.eventValid };
      packets.push(entry);
      if (h.eventType === AEDAT3_POLARITY_EVENT) {
        entry.eventCount = 0;
        if (h.eventCapacity > 0) {
          const first = buf.slice(pre + AEDAT3_PACKET_HEADER_BYTES, pre + AEDAT3_PACKET_HEADER_BYTES + 8);
          pending = { entry, h, first };
          if (h.eventCapacity === 1) {
            await finishPolarityEntry(pending, first, read, parser.geometry);
            pending = undefined;
          }
        }
      }
      off += byteLength;
    }
    if (pending) {
      const last = new Uint8Array(8);
      await read(last, off - 8);
      await finishPolarityEntry(pending, last, read, parser.geometry);
    }
    return { headerBytes, geometry: parser.geometry, packets };
  } catch (err) {
    throw attachFile(err, path);
  } finally {
    await fh.close();
  }
}

/** Polarity packets whose [firstT, lastT] meets [tStart, tEnd), in file order. */
export function aedat3PacketsInWindow(index: Aedat3Index, tStart: number, tEnd: number): Aedat3PacketEntry[] {
  const out: Aedat3PacketEntry[] = [];
  for (const p of index.packets) {
    if (p.eventType === AEDAT3_POLARITY_EVENT && p.eventCount > 0 && p.lastT >= tStart && p.firstT < tEnd) out.push(p);
  }
  return out;
}

/**
 * The events with tStart ≤ t < tEnd, decoding only the polarity packets the index says
 * overlap the window (consecutive ones read together, `readBytes` per read). Pulled: the
 * next read happens when the consumer asks for the next batch, and stopping early (`break`,
 * `return()`) closes the file. Batches are never empty. FormatErrors carry the file.
 */
export async function* readAedat3Window(
  path: string,
  index: Aedat3Index,
  tStart: number,
  tEnd: number,
  opts: Aedat3ReadOptions = {},
): AsyncGenerator<EventBatch, void, undefined> {
  if (!(tEnd > tStart)) return;
  const wanted = aedat3PacketsInWindow(index, tStart, tEnd);
  if (wanted.length === 0) return;
  const readBytes = opts.readBytes ?? WINDOW_READ_BYTES;
  const fh = await fsp.open(path, 'r');
  try {
    const read = makeReader(fh, opts);
    let i = 0;
    while (i < wanted.length) {
      // A run of packets adjacent in the file, up to about WINDOW_READ_BYTES (at least one).
      let j = i + 1;
      let bytes = wanted[i].byteLength;
      while (j < wanted.length && wanted[j].offset === wanted[j - 1].offset + wanted[j - 1].byteLength && bytes + wanted[j].byteLength <= readBytes) {
        bytes += wanted[j].byteLength;
        j++;
      }
      const start = wanted[i].offset;
      const buf = new Uint8Array(bytes);
      let batch: EventBatch;
      try {
        const got = await read(buf, start);
        if (got < bytes) throw new FormatError('aedat3', start + got, 'file is shorter than its packet index says (changed since indexing?)');
        // Room for every slot of these packets: bytes, not the header's counts, bound it.
        let slots = 0;
        for (let k = i; k < j; k++) slots += (wanted[k].byteLength - AEDAT3_PACKET_HEADER_BYTES) / 8;
        const out = allocBatch(slots);
        let n = 0;
        for (let k = i; k < j; k++) {
          const rel = wanted[k].offset - start;
          const h = readAedat3PacketHeader(buf, rel, wanted[k].offset);
          if (h.eventType !== AEDAT3_POLARITY_EVENT || AEDAT3_PACKET_HEADER_BYTES + h.bodyBytes !== wanted[k].byteLength) {
            throw new FormatError('aedat3', wanted[k].offset, 'packet differs from its index entry (file changed since indexing?)');
          }
          n = decodePolarityEvents(buf, rel + AEDAT3_PACKET_HEADER_BYTES, h.eventCapacity, h.eventTSOverflow * TWO_POW_31, out, n, wanted[k].offset + AEDAT3_PACKET_HEADER_BYTES, index.geometry);
        }
        const all = sliceByIndex(out, 0, n);
        batch = sliceByIndex(all, lowerBoundTime(all, tStart), lowerBoundTime(all, tEnd));
      } catch (err) {
        throw attachFile(err, path);
      }
      i = j;
      if (batch.length > 0) yield batch;
    }
  } finally {
    await fh.close();
  }
}
