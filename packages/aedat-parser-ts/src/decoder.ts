import { allocBatch, type EventBatch } from './event-batch.js';
import type { Geometry } from './geometry.js';

export type FormatName = 'aedat2' | 'aedat3' | 'aedat4' | 'nmnist' | 'prophesee-dat' | 'evt2' | 'evt3' | 'csv';

/**
 * An incremental decoder. Feed it chunks of any size (1 byte included); the concatenation of
 * everything `push` and `end` return equals a whole-file decode, whatever the chunking.
 *
 * - `push` returns the events completed by this chunk (possibly empty). The returned batch
 *   may share memory with nothing the decoder reuses: callers may keep it.
 * - `end` flushes; it throws `FormatError` if the input stops inside a header or record
 *   where that means corruption (a trailing partial record is corruption).
 * - Any corruption throws `FormatError` with the byte offset from the start of the input.
 * - Decoders never allocate from an unchecked length read from the input.
 */
export interface EventDecoder {
  readonly format: FormatName;
  /** Known once the header has been parsed (or a format default); undefined until then. */
  readonly geometry: Geometry | undefined;
  /** Bytes consumed so far (header included). */
  readonly bytesConsumed: number;
  push(chunk: Uint8Array): EventBatch;
  end(): EventBatch;
}

/**
 * Keeps the unconsumed tail of one chunk to prepend to the next. Decoders call `take(chunk)`
 * to get the bytes to parse (no copy when nothing is carried) and `keep(bytes, from)` to
 * store what they could not consume yet.
 */
export class ChunkCarry {
  private carried: Uint8Array = new Uint8Array(0);

  get pending(): number {
    return this.carried.length;
  }

  take(chunk: Uint8Array): Uint8Array {
    if (this.carried.length === 0) return chunk;
    const joined = new Uint8Array(this.carried.length + chunk.length);
    joined.set(this.carried, 0);
    joined.set(chunk, this.carried.length);
    this.carried = new Uint8Array(0);
    return joined;
  }

  keep(bytes: Uint8Array, from: number): void {
    // Copy: the caller's chunk buffer may be reused by the stream that produced it.
    this.carried = from >= bytes.length ? new Uint8Array(0) : bytes.slice(from);
  }
}

/**
 * The whole fixed-size records in `bytes` from `from` on: a batch with room for one event per
 * record, and the offset where the records stop. When not one record is complete, the bytes
 * are kept in `carry` for the next chunk and the result is undefined.
 */
export function wholeRecords(carry: ChunkCarry, bytes: Uint8Array, from: number, recordBytes: number): { out: EventBatch; stop: number } | undefined {
  const records = Math.floor((bytes.length - from) / recordBytes);
  if (records === 0) {
    carry.keep(bytes, from);
    return undefined;
  }
  return { out: allocBatch(records), stop: from + records * recordBytes };
}
