/**
 * Prophesee RAW EVT 3.0 (`% evt 3.0` or `% format EVT3;height=…;width=…`).
 *
 * After the `%` header, the body is stateful 16-bit little-endian words, type in bits 15–12:
 * - 0x0 EVT_ADDR_Y: y = bits 10–0 (bit 11, the system type, is ignored);
 * - 0x2 EVT_ADDR_X: one event at x = bits 10–0, polarity bit 11, at the current y and time;
 * - 0x3 VECT_BASE_X: base x = bits 10–0, polarity bit 11 for the vectors that follow;
 * - 0x4 VECT_12 / 0x5 VECT_8: bit k of the 12/8-bit mask is an event at base x + k; then base x
 *   advances by 12 / 8;
 * - 0x6 EVT_TIME_LOW: time bits 11–0; 0x8 EVT_TIME_HIGH: time bits 23–12 (time low resets to 0);
 * - 0xA trigger, 0xE others, 0x7 / 0xF continued: skipped (counted); other types counted in
 *   `unknownWords`.
 * Events before the first TIME_HIGH, before any ADDR_Y, or vectors before any VECT_BASE_X are
 * dropped and counted in `orphanEvents`.
 *
 * The 24-bit time wraps every 16.8 s: a TIME_HIGH that drops by more than half its range adds
 * 2^24 µs, so decoded time is monotone. Coordinates are raw, origin upper-left.
 */
import { allocBatch, type EventBatch } from './event-batch.js';
import type { FormatName } from './decoder.js';
import { PropheseeRawDecoder, type PropheseeRawOptions } from './evt2.js';
import { trimBatch } from './header-lines.js';
import { headDeclaresEvt } from './prophesee-header.js';

/** Sniffs EVT 3.0: a `%` header that declares `evt 3.0` / `format EVT3`. */
export function looksLikeEvt3(head: Uint8Array): boolean {
  return headDeclaresEvt(head, '3.0');
}

const POPCOUNT12 = (() => {
  const t = new Uint8Array(4096);
  for (let i = 1; i < 4096; i++) t[i] = (i & 1) + t[i >>> 1];
  return t;
})();

const TWO_24 = 16777216;

export class Evt3Decoder extends PropheseeRawDecoder {
  override readonly format: FormatName = 'evt3';

  private y = -1;
  private baseX = -1;
  private basePol = 0;
  private haveTime = false;
  private prevTh = 0;
  private thBase = 0;
  private time = 0;
  private wrap = 0;
  private lastT = -Infinity;

  constructor(options: PropheseeRawOptions = {}) {
    super('evt3', '3.0', 2, options);
  }

  /**
   * decoder inner loop: one pass over the 16-bit words, the running time base, row and column
   * kept in locals; splitting the word types into methods would move that state into fields
   * read and written for every word of the hottest loop in the file decoders.
   */
  protected override decodeWords(b: Uint8Array, pos: number, stop: number): EventBatch {
    // Upper bound of the events these words can produce.
    let bound = 0;
    for (let i = pos; i < stop; i += 2) {
      const type = b[i + 1] >>> 4;
      if (type === 2) bound++;
      else if (type === 4) bound += POPCOUNT12[b[i] | ((b[i + 1] & 0x0f) << 8)];
      else if (type === 5) bound += POPCOUNT12[b[i]];
    }
    const out = allocBatch(bound);
    const { x: xs, y: ys, p: ps, t: ts } = out;
    let n = 0;
    let y = this.y;
    let baseX = this.baseX;
    let basePol = this.basePol;
    let have = this.haveTime;
    let prevTh = this.prevTh;
    let thBase = this.thBase;
    let time = this.time;
    let wrap = this.wrap;
    let lastT = this.lastT;
    const counts = PropheseeRawDecoder.freshCounts();
    for (let i = pos; i < stop; i += 2) {
      const hi = b[i + 1];
      const type = hi >>> 4;
      const v = b[i] | ((hi & 0x0f) << 8); // 12-bit payload
      switch (type) {
        case 0x0:
          y = v & 0x7ff;
          break;
        case 0x2:
          if (y < 0 || !have) {
            counts.orphans++;
          } else {
            if (time < lastT) counts.reversals++;
            lastT = time;
            xs[n] = v & 0x7ff;
            ys[n] = y;
            ps[n] = v >>> 11;
            ts[n] = time;
            n++;
          }
          break;
        case 0x3:
          baseX = v & 0x7ff;
          basePol = v >>> 11;
          break;
        case 0x4:
        case 0x5: {
          const mask = type === 0x4 ? v : v & 0xff;
          if (y < 0 || !have || baseX < 0) {
            counts.orphans += POPCOUNT12[mask];
          } else if (mask !== 0) {
            if (time < lastT) counts.reversals++;
            lastT = time;
            let m = mask;
            let x = baseX;
            while (m !== 0) {
              if ((m & 1) !== 0) {
                xs[n] = x;
                ys[n] = y;
                ps[n] = basePol;
                ts[n] = time;
                n++;
              }
              m >>>= 1;
              x++;
            }
          }
          if (baseX >= 0) baseX += type === 0x4 ? 12 : 8;
          break;
        }
        case 0x6:
          if (have) time = thBase + v;
          break;
        case 0x8:
          if (have && v < prevTh && prevTh - v > 2048) wrap += TWO_24;
          prevTh = v;
          thBase = wrap + v * 4096;
          time = thBase;
          have = true;
          break;
        case 0xa:
          counts.triggers++;
          break;
        case 0x7:
        case 0xe:
        case 0xf:
          counts.others++;
          break;
        default:
          counts.unknown++;
      }
    }
    this.y = y;
    this.baseX = baseX;
    this.basePol = basePol;
    this.haveTime = have;
    this.prevTh = prevTh;
    this.thBase = thBase;
    this.time = time;
    this.wrap = wrap;
    this.lastT = lastT;
    this.addCounts(counts);
    return trimBatch(out, n);
  }
}
