/**
 * jAER AEDAT 2.0 (`#!AER-DAT2.0`).
 *
 * Layout: text header lines that begin with `#` (CRLF or LF), the first being `#!AER-DAT2.0`,
 * then 8-byte big-endian records: int32 address, int32 timestamp (µs). The header ends at the
 * first line that does not begin with `#`; the binary body may itself begin with a `#` byte
 * only if it is the high byte of an address (0x23), which jAER files avoid in practice.
 *
 * Address layouts (chosen from the `# AEChip:` header line, or the `layout` option):
 * - DVS128 (`…DVS128`, `Tmpdiff128`, and the default when the chip is unknown): bit 15 set =
 *   external event (skipped), y = bits 14–8, x = bits 7–1, polarity = bit 0 (1 = ON).
 * - DAVIS (`…DAVIS240C`, `Davis346red`, …): bit 31 set = APS sample (skipped), bit 10 set =
 *   IMU/external event (skipped), otherwise DVS with y = bits 30–22, x = bits 21–12,
 *   polarity = bit 11.
 *
 * Coordinates are the raw address fields, unflipped. jAER's convention puts the origin at the
 * lower-left (y grows upwards); jAER's DAVIS display additionally mirrors x, which we do NOT do.
 *
 * Timestamps: jAER writes a 32-bit counter. Files written by jAER itself overflow like a Java
 * int (…, 2^31 − 1, −2^31, …), which read as unsigned is continuous until 2^32 → 0; devices
 * with a 31-bit counter go 2^31 − 1 → 0. We read the timestamp as unsigned and, when it drops
 * by more than 2^30 from the previous kept event, add the smallest multiple of 2^31 that makes
 * time non-decreasing again (2^31 for a 31-bit counter, 2^32 for an int overflow). Smaller
 * backward steps (a jAER timestamp reset) are not wraps and are passed through unchanged; they
 * are counted in `timeReversals`.
 */
import type { EventBatch } from './event-batch.js';
import type { Geometry } from './geometry.js';
import { ChunkCarry, type EventDecoder, type FormatName, wholeRecords } from './decoder.js';
import { FormatError } from './format-error.js';
import { checkMagicPrefix, HeaderLineReader, NO_EVENTS, trimBatch } from './header-lines.js';
import { latin1Encode } from './latin1.js';

const MAGIC = latin1Encode('#!AER-DAT2.0');

export type Aedat2Layout = 'dvs128' | 'davis';

export interface Aedat2Options {
  /** Force an address layout instead of taking it from the `# AEChip:` line. */
  readonly layout?: Aedat2Layout;
  /** Force a geometry instead of taking it from the `# AEChip:` line. */
  readonly geometry?: Geometry;
}

/** Address layout and sensor size for a jAER chip class name (the `# AEChip:` value). */
export function aedat2Chip(chipClass: string): { layout: Aedat2Layout; geometry: Geometry | undefined } {
  const name = (chipClass.split('.').pop() ?? chipClass).trim().toLowerCase();
  if (name.includes('dvs128') || name.includes('tmpdiff128')) return { layout: 'dvs128', geometry: { width: 128, height: 128 } };
  if (name.includes('davis240') || name.includes('sbret10')) return { layout: 'davis', geometry: { width: 240, height: 180 } };
  if (name.includes('davis346')) return { layout: 'davis', geometry: { width: 346, height: 260 } };
  if (name.includes('davis640')) return { layout: 'davis', geometry: { width: 640, height: 480 } };
  if (name.includes('davis208')) return { layout: 'davis', geometry: { width: 208, height: 192 } };
  if (name.includes('davis128')) return { layout: 'davis', geometry: { width: 128, height: 128 } };
  if (name.includes('davis')) return { layout: 'davis', geometry: undefined };
  return { layout: 'dvs128', geometry: undefined };
}

/** Sniffs AEDAT 2.0 from the first bytes of a file. */
export function looksLikeAedat2(head: Uint8Array): boolean {
  if (head.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (head[i] !== MAGIC[i]) return false;
  // Exclude e.g. `#!AER-DAT2.01`: the magic must end the line.
  const next = head[MAGIC.length];
  return next === undefined || next === 13 || next === 10;
}

const TWO_31 = 2147483648;
const TWO_30 = 1073741824;

export class Aedat2Decoder implements EventDecoder {
  readonly format: FormatName = 'aedat2';
  geometry: Geometry | undefined;
  /** Address layout in use (known once the header has ended). */
  layout: Aedat2Layout = 'dvs128';
  /** The `# AEChip:` value, if the header had one. */
  chipClass: string | undefined;
  /** Records skipped: DVS128 external events, DAVIS APS samples and IMU/external events. */
  skippedRecords = 0;
  /** Times the (unwrapped) timestamp went backwards by less than a wrap (passed through). */
  timeReversals = 0;

  private consumed = 0;
  private readonly carry = new ChunkCarry();
  private readonly header: HeaderLineReader;
  private inBody = false;
  private prevRaw = -1;
  private wrapOffset = 0;

  constructor(private readonly options: Aedat2Options = {}) {
    this.header = new HeaderLineReader('aedat2', 0x23, (line, offset) => this.onHeaderLine(line, offset));
  }

  get bytesConsumed(): number {
    return this.consumed;
  }

  private onHeaderLine(line: string, offset: number): void {
    if (this.header.lines === 1) {
      if (line.trimEnd() !== '#!AER-DAT2.0') throw new FormatError('aedat2', offset, `bad magic line ${JSON.stringify(line.slice(0, 40))}`);
      return;
    }
    const m = /^#\s*AEChip:\s*(\S+)/.exec(line);
    if (m) this.chipClass = m[1];
  }

  private startBody(): void {
    if (this.header.lines === 0) throw new FormatError('aedat2', 0, 'missing #!AER-DAT2.0 header');
    const chip = this.chipClass !== undefined ? aedat2Chip(this.chipClass) : { layout: 'dvs128' as const, geometry: undefined };
    this.layout = this.options.layout ?? chip.layout;
    this.geometry = this.options.geometry ?? chip.geometry;
    this.inBody = true;
  }

  push(chunk: Uint8Array): EventBatch {
    if (chunk.length === 0) return NO_EVENTS;
    let bytes: Uint8Array;
    let pos = 0;
    if (!this.inBody) {
      checkMagicPrefix('aedat2', MAGIC, chunk, this.consumed, 'AEDAT 2.0 (#!AER-DAT2.0)');
      const at = this.header.feed(chunk, 0, this.consumed);
      if (at < 0) {
        this.consumed += chunk.length;
        return NO_EVENTS;
      }
      this.consumed += at;
      this.startBody();
      bytes = chunk;
      pos = at;
    } else {
      bytes = this.carry.take(chunk);
    }
    return this.decodeRecords(bytes, pos);
  }

  private decodeRecords(b: Uint8Array, pos: number): EventBatch {
    const records = wholeRecords(this.carry, b, pos, 8);
    if (!records) return NO_EVENTS;
    const { out, stop } = records;
    const { x: xs, y: ys, p: ps, t: ts } = out;
    let n = 0;
    let skipped = 0;
    let reversals = 0;
    let prev = this.prevRaw;
    let offset = this.wrapOffset;
    if (this.layout === 'dvs128') {
      for (let i = pos; i < stop; i += 8) {
        const a = (b[i + 2] << 8) | b[i + 3];
        if ((a & 0x8000) !== 0) {
          skipped++;
          continue;
        }
        const u = ((b[i + 4] << 24) | (b[i + 5] << 16) | (b[i + 6] << 8) | b[i + 7]) >>> 0;
        if (u < prev) {
          if (prev - u > TWO_30) offset += prev >= TWO_31 ? 2 * TWO_31 : TWO_31;
          else reversals++;
        }
        prev = u;
        xs[n] = (a >>> 1) & 0x7f;
        ys[n] = (a >>> 8) & 0x7f;
        ps[n] = a & 1;
        ts[n] = offset + u;
        n++;
      }
    } else {
      for (let i = pos; i < stop; i += 8) {
        const a = (b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3];
        if (a < 0 || (a & 0x400) !== 0) {
          skipped++;
          continue;
        }
        const u = ((b[i + 4] << 24) | (b[i + 5] << 16) | (b[i + 6] << 8) | b[i + 7]) >>> 0;
        if (u < prev) {
          if (prev - u > TWO_30) offset += prev >= TWO_31 ? 2 * TWO_31 : TWO_31;
          else reversals++;
        }
        prev = u;
        xs[n] = (a >>> 12) & 0x3ff;
        ys[n] = (a >>> 22) & 0x1ff;
        ps[n] = (a >>> 11) & 1;
        ts[n] = offset + u;
        n++;
      }
    }
    this.prevRaw = prev;
    this.wrapOffset = offset;
    this.skippedRecords += skipped;
    this.timeReversals += reversals;
    this.consumed += stop - pos;
    this.carry.keep(b, stop);
    return trimBatch(out, n);
  }

  end(): EventBatch {
    if (!this.inBody) {
      if (this.header.midLine || this.header.lines === 0) {
        throw new FormatError('aedat2', this.consumed, this.header.lines === 0 ? 'input ended before the #!AER-DAT2.0 header line was complete' : 'input ended inside a header line');
      }
      this.startBody(); // header-only file: valid, 0 events
      return NO_EVENTS;
    }
    if (this.carry.pending > 0) {
      throw new FormatError('aedat2', this.consumed, `input ended inside an 8-byte record (${this.carry.pending} trailing bytes)`);
    }
    return NO_EVENTS;
  }
}
