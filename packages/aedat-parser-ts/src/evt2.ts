/**
 * Prophesee RAW EVT 2.0 (`% evt 2.0` or `% format EVT2;height=…;width=…`).
 *
 * After the `%` header (which ends at the first line not starting with `%`, or after `% end`),
 * the body is 32-bit little-endian words, type in bits 31–28:
 * - 0x0 CD_OFF / 0x1 CD_ON: bits 27–22 timestamp bits 5–0, bits 21–11 x, bits 10–0 y;
 * - 0x8 EVT_TIME_HIGH: bits 27–0 are timestamp bits 33–6;
 * - 0xA external trigger, 0xE other, 0xF continued: skipped (counted);
 * - any other type: skipped and counted in `unknownWords`.
 * CD events before the first TIME_HIGH have no full time; they are dropped and counted in
 * `orphanEvents` (a recording cut out of a live stream can start that way).
 *
 * Time is 34 bits (wraps after ~4.8 h); a TIME_HIGH that drops by more than half its range is a
 * wrap and adds 2^34 µs. Coordinates are raw, origin upper-left (Prophesee convention).
 * Geometry: `% geometry WxH`, or the `% format` line's width/height, or guessed from the HAL
 * plugin name (gen3 → 640×480, gen4/imx636 → 1280×720), or the `geometry` option.
 *
 * This file also holds `PropheseeRawDecoder`, the header/chunking part shared with evt3.ts.
 */
import { allocBatch, type EventBatch } from './event-batch.js';
import type { Geometry } from './geometry.js';
import { ChunkCarry, type EventDecoder, type FormatName } from './decoder.js';
import { FormatError } from './format-error.js';
import { HeaderLineReader, NO_EVENTS, trimBatch } from './header-lines.js';
import { headDeclaresEvt, PERCENT, PropheseeHeader } from './prophesee-header.js';

export interface PropheseeRawOptions {
  /** Geometry to report when the header gives none (and no plugin name tells it). */
  readonly geometry?: Geometry;
  /** Accept a body with no `%` header at all (default false: that is a FormatError). */
  readonly allowMissingHeader?: boolean;
}

/** What one pass over the words skipped or saw out of order; the decoder adds it to its totals. */
export interface RawWordCounts {
  orphans: number;
  triggers: number;
  others: number;
  unknown: number;
  reversals: number;
}

/** Header handling and word chunking shared by the EVT 2.0 and EVT 3.0 decoders. */
export abstract class PropheseeRawDecoder implements EventDecoder {
  abstract readonly format: FormatName;
  geometry: Geometry | undefined;
  readonly header: PropheseeHeader;
  protected consumed = 0;
  /** CD events dropped because the state they need (a time, a y, a base x) was not set yet. */
  orphanEvents = 0;
  triggerWords = 0;
  /** OTHERS (0xE) and CONTINUED (0xF) words. */
  otherWords = 0;
  /** Words of an undefined type. */
  unknownWords = 0;
  /** Times that stepped backwards without wrapping (passed through unchanged). */
  timeReversals = 0;
  private readonly carry = new ChunkCarry();
  private readonly lines: HeaderLineReader;
  private inBody = false;

  protected constructor(
    format: FormatName,
    private readonly expectedEvt: string,
    private readonly wordBytes: number,
    private readonly options: PropheseeRawOptions,
  ) {
    this.header = new PropheseeHeader(format);
    this.lines = new HeaderLineReader(format, PERCENT, (line, offset) => this.header.onLine(line, offset));
  }

  get bytesConsumed(): number {
    return this.consumed;
  }

  /** Zeroed counts for one pass over the words (counted in rare branches only). */
  protected static freshCounts(): RawWordCounts {
    return { orphans: 0, triggers: 0, others: 0, unknown: 0, reversals: 0 };
  }

  protected addCounts(counts: RawWordCounts): void {
    this.orphanEvents += counts.orphans;
    this.triggerWords += counts.triggers;
    this.otherWords += counts.others;
    this.unknownWords += counts.unknown;
    this.timeReversals += counts.reversals;
  }

  /** Decodes whole words in b[pos, stop); `offset` is the input offset of b[0]. */
  protected abstract decodeWords(b: Uint8Array, pos: number, stop: number, offset: number): EventBatch;

  private startBody(): void {
    const evt = this.header.evt;
    if (this.lines.lines === 0) {
      if (!this.options.allowMissingHeader) throw new FormatError(this.format, 0, `bad magic: no % header (expected "% evt ${this.expectedEvt}")`);
    } else if (evt === undefined) {
      if (!this.options.allowMissingHeader) throw new FormatError(this.format, this.consumed, `header has no "% evt ${this.expectedEvt}" line`);
    } else if (evt !== this.expectedEvt) {
      throw new FormatError(this.format, 0, `header declares EVT ${evt}, expected EVT ${this.expectedEvt}`);
    }
    this.geometry = this.header.geometry() ?? this.options.geometry;
    this.inBody = true;
  }

  push(chunk: Uint8Array): EventBatch {
    if (chunk.length === 0) return NO_EVENTS;
    let b: Uint8Array;
    let pos = 0;
    if (!this.inBody) {
      const at = this.lines.feed(chunk, 0, this.consumed);
      if (at < 0) {
        this.consumed += chunk.length;
        return NO_EVENTS;
      }
      this.consumed += at;
      this.startBody();
      b = chunk;
      pos = at;
    } else {
      b = this.carry.take(chunk);
    }
    const nw = Math.floor((b.length - pos) / this.wordBytes);
    const stop = pos + nw * this.wordBytes;
    const out = nw === 0 ? NO_EVENTS : this.decodeWords(b, pos, stop, this.consumed - pos);
    this.consumed += stop - pos;
    this.carry.keep(b, stop);
    return out;
  }

  end(): EventBatch {
    if (!this.inBody) {
      if (this.lines.midLine || this.lines.lines === 0) {
        throw new FormatError(this.format, this.consumed, this.lines.lines === 0 ? 'empty input' : 'input ended inside the header');
      }
      this.startBody(); // header only: valid, no events
      return NO_EVENTS;
    }
    if (this.carry.pending > 0) {
      throw new FormatError(this.format, this.consumed, `input ended inside a ${this.wordBytes}-byte word (${this.carry.pending} trailing bytes)`);
    }
    return NO_EVENTS;
  }
}

/** Sniffs EVT 2.0: a `%` header that declares `evt 2.0` / `format EVT2`. */
export function looksLikeEvt2(head: Uint8Array): boolean {
  return headDeclaresEvt(head, '2.0');
}

const TH_HALF = 1 << 27;
const TWO_34 = 17179869184;

export class Evt2Decoder extends PropheseeRawDecoder {
  override readonly format: FormatName = 'evt2';

  private haveTimeHigh = false;
  private prevTh = 0;
  private timeBase = 0;
  private wrapOffset = 0;

  constructor(options: PropheseeRawOptions = {}) {
    super('evt2', '2.0', 4, options);
  }

  protected override decodeWords(b: Uint8Array, pos: number, stop: number): EventBatch {
    const out = allocBatch((stop - pos) >>> 2);
    const { x: xs, y: ys, p: ps, t: ts } = out;
    let n = 0;
    let base = this.timeBase;
    let have = this.haveTimeHigh;
    let prevTh = this.prevTh;
    let wrap = this.wrapOffset;
    const counts = PropheseeRawDecoder.freshCounts();
    for (let i = pos; i < stop; i += 4) {
      const hi = b[i + 3];
      const type = hi >>> 4;
      if (type <= 1) {
        if (!have) {
          counts.orphans++;
          continue;
        }
        const w = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (hi << 24);
        xs[n] = (w >>> 11) & 0x7ff;
        ys[n] = w & 0x7ff;
        ps[n] = type;
        ts[n] = base + ((w >>> 22) & 0x3f);
        n++;
      } else if (type === 8) {
        const th = b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | ((hi & 0x0f) << 24);
        if (have && th < prevTh) {
          if (prevTh - th > TH_HALF) wrap += TWO_34;
          else counts.reversals++;
        }
        prevTh = th;
        base = wrap + th * 64;
        have = true;
      } else if (type === 0xa) counts.triggers++;
      else if (type >= 0xe) counts.others++;
      else counts.unknown++;
    }
    this.timeBase = base;
    this.haveTimeHigh = have;
    this.prevTh = prevTh;
    this.wrapOffset = wrap;
    this.addCounts(counts);
    return trimBatch(out, n);
  }
}
