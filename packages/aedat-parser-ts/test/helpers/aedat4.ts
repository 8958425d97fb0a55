/** Hand-made AEDAT 4.0 pieces and checks shared by the AEDAT 4.0 tests. */
import { Aedat4Decoder, type EventBatch, FormatError } from 'aedat-parser-ts';
import { decodeInChunks } from './decode';
import { concatBytes } from './fixtures';
import { randomEvents as seededEvents } from './fixtures';

export const make = (): Aedat4Decoder => new Aedat4Decoder();

export function decodeAll(bytes: Uint8Array, dec = new Aedat4Decoder()): EventBatch {
  return decodeInChunks(() => dec, bytes);
}

export const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

export function packet(streamId: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  const dv = new DataView(head.buffer);
  dv.setInt32(0, streamId, true);
  dv.setUint32(4, payload.length, true);
  return concat(head, payload);
}

/** Runs `f` and returns the FormatError it throws (fails the test otherwise). */
export function formatError(f: () => unknown): FormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${e instanceof Error ? e.stack : String(e)}`);
  }
  throw new Error('expected a FormatError, nothing was thrown');
}

/** Seeded pseudo-random events with increasing Unix-µs timestamps (steps of 0…39 µs). */
export function randomEvents(n: number, w: number, h: number, seed = 1): EventBatch {
  return seededEvents(n, w, h, seed, 20, 1_718_925_184_590_631);
}

/** A zstd frame holding `data` in Raw_Blocks (≤ 128 KiB each), with a 4-byte content size. */
export function zstdRawFrame(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  // magic FD2FB528, FHD: FCS_Field_Size=2 (4 bytes), Single_Segment=1, no checksum, no dict.
  const head = new Uint8Array(9);
  const dv = new DataView(head.buffer);
  dv.setUint32(0, 0xfd2fb528, true);
  head[4] = 0xa0;
  dv.setUint32(5, data.length, true);
  parts.push(head);
  const max = 128 * 1024;
  for (let s = 0; s < data.length || s === 0; s += max) {
    const e = Math.min(data.length, s + max);
    const last = e === data.length ? 1 : 0;
    const h = ((e - s) << 3) | (0 << 1) | last; // Block_Type 0 = Raw_Block
    parts.push(Uint8Array.of(h & 0xff, (h >>> 8) & 0xff, (h >>> 16) & 0xff), data.subarray(s, e));
    if (last) break;
  }
  return concat(...parts);
}
