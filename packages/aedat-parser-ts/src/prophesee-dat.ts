/**
 * Prophesee DAT (`.dat`, e.g. N-CARS, Gen1/Gen4 automotive).
 *
 * Layout: header lines beginning with `%` (e.g. `% Data file containing Event2D events.`,
 * `% Version 2`, optionally `% Width 304` / `% Height 240` or `% geometry 304x240`), then one
 * byte event type and one byte event size (must be 8), then 8-byte little-endian records:
 * uint32 t (µs), uint32 w with x = w & 0x3FFF, y = (w >> 14) & 0x3FFF, p = (w >> 28) & 0xF,
 * any non-zero p being ON.
 *
 * Coordinates: raw, origin upper-left (Prophesee convention). Geometry from the header when it
 * gives one, else from the `geometry` option, else undefined.
 * Timestamps: uint32 µs; a drop of more than 2^31 is a wrap and adds 2^32. Smaller backward
 * steps are passed through and counted in `timeReversals`.
 *
 * The `%` header parsing it shares with evt2.ts and evt3.ts is in prophesee-header.ts.
 */
import type { EventBatch } from './event-batch.js';
import type { Geometry } from './geometry.js';
import { ChunkCarry, type EventDecoder, type FormatName, wholeRecords } from './decoder.js';
import { FormatError } from './format-error.js';
import { HeaderLineReader, NO_EVENTS, trimBatch } from './header-lines.js';
import { declaredEvt, PERCENT, PropheseeHeader, peekPercentHeader } from './prophesee-header.js';

/**
 * Sniffs Prophesee DAT: a `%` header with no `% evt` / `% format` line (those are RAW files),
 * and, when the head reaches past the header, an event size byte of 8.
 */
export function looksLikePropheseeDat(head: Uint8Array): boolean {
  if (head.length === 0 || head[0] !== PERCENT) return false;
  const { lines, complete, length } = peekPercentHeader(head);
  if (lines.length === 0) return false;
  if (declaredEvt(lines) !== undefined) return false;
  if (complete && length + 1 < head.length) return head[length + 1] === 8;
  return true;
}

export interface PropheseeDatOptions {
  /** Geometry to report when the header gives none. */
  readonly geometry?: Geometry;
}

const TWO_31 = 2147483648;
const TWO_32 = 4294967296;

export class PropheseeDatDecoder implements EventDecoder {
  readonly format: FormatName = 'prophesee-dat';
  geometry: Geometry | undefined;
  /** Event type byte from the header (0 = Event2D / CD). */
  eventType: number | undefined;
  timeReversals = 0;
  readonly header = new PropheseeHeader('prophesee-dat');

  private consumed = 0;
  private readonly carry = new ChunkCarry();
  private readonly lines: HeaderLineReader;
  /** 0: header lines, 1: want type byte, 2: want size byte, 3: records. */
  private stage = 0;
  private prev = -1;
  private wrapOffset = 0;

  constructor(private readonly options: PropheseeDatOptions = {}) {
    this.lines = new HeaderLineReader('prophesee-dat', PERCENT, (line, offset) => this.onHeaderLine(line, offset));
  }

  get bytesConsumed(): number {
    return this.consumed;
  }

  private onHeaderLine(line: string, offset: number): boolean {
    this.header.onLine(line, offset);
    if (this.header.evt !== undefined) {
      throw new FormatError('prophesee-dat', offset, `header declares Prophesee RAW EVT ${this.header.evt}, not DAT`);
    }
    return this.header.endSeen; // a `% end` line, if present, ends the header
  }

  push(chunk: Uint8Array): EventBatch {
    if (chunk.length === 0) return NO_EVENTS;
    let b: Uint8Array = chunk;
    let pos = 0;
    if (this.stage === 0) {
      if (this.consumed === 0 && chunk[0] !== PERCENT) throw new FormatError('prophesee-dat', 0, 'bad magic: a DAT file starts with % header lines');
      const at = this.lines.feed(chunk, 0, this.consumed);
      if (at < 0) {
        this.consumed += chunk.length;
        return NO_EVENTS;
      }
      this.consumed += at;
      pos = at;
      this.stage = 1;
      this.geometry = this.header.geometry() ?? this.options.geometry;
    } else if (this.stage === 3) {
      b = this.carry.take(chunk);
    }
    if (this.stage === 1 && pos < b.length) {
      this.eventType = b[pos++];
      this.consumed++;
      this.stage = 2;
    }
    if (this.stage === 2 && pos < b.length) {
      const size = b[pos];
      if (size !== 8) throw new FormatError('prophesee-dat', this.consumed, `event size ${size}; only 8-byte records are supported`);
      pos++;
      this.consumed++;
      this.stage = 3;
    }
    if (this.stage !== 3) return NO_EVENTS;
    return this.decodeRecords(b, pos);
  }

  private decodeRecords(b: Uint8Array, pos: number): EventBatch {
    const records = wholeRecords(this.carry, b, pos, 8);
    if (!records) return NO_EVENTS;
    const { out, stop } = records;
    const { x: xs, y: ys, p: ps, t: ts } = out;
    let prev = this.prev;
    let offset = this.wrapOffset;
    let reversals = 0;
    let n = 0;
    for (let i = pos; i < stop; i += 8) {
      const u = (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
      const w = b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24);
      if (u < prev) {
        if (prev - u > TWO_31) offset += TWO_32;
        else reversals++;
      }
      prev = u;
      xs[n] = w & 0x3fff;
      ys[n] = (w >>> 14) & 0x3fff;
      ps[n] = (w >>> 28) !== 0 ? 1 : 0;
      ts[n] = offset + u;
      n++;
    }
    this.prev = prev;
    this.wrapOffset = offset;
    this.timeReversals += reversals;
    this.consumed += stop - pos;
    this.carry.keep(b, stop);
    return trimBatch(out, n);
  }

  end(): EventBatch {
    if (this.stage === 0) {
      throw new FormatError('prophesee-dat', this.consumed, this.lines.lines === 0 ? 'empty input: no % header' : 'input ended inside the header');
    }
    if (this.stage < 3) throw new FormatError('prophesee-dat', this.consumed, 'input ended before the event type and size bytes');
    if (this.carry.pending > 0) {
      throw new FormatError('prophesee-dat', this.consumed, `input ended inside an 8-byte record (${this.carry.pending} trailing bytes)`);
    }
    return NO_EVENTS;
  }
}
