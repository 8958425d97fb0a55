/**
 * The CSV that `spikestream convert` writes, read back: optional `#` comment lines (one may say
 * `geometry WxH`), the column line `t,x,y,p`, then one event per line — t in integer µs, x and y
 * (0…65535), p 1 = ON and 0 = OFF. LF or CRLF. Times must not go backwards (the writer never
 * lets them). Parsed byte by byte from chunks of any size, into typed arrays; a bad row is a
 * `FormatError` with its line number.
 */
import { allocBatch, type EventBatch } from './event-batch.js';
import type { Geometry } from './geometry.js';
import { ChunkCarry, type EventDecoder, type FormatName } from './decoder.js';
import { FormatError } from './format-error.js';
import { NO_EVENTS, trimBatch } from './header-lines.js';

export const CSV_COLUMNS = 't,x,y,p';
/** Longest accepted line (a comment or a row): protects against binary input without newlines. */
const MAX_LINE_BYTES = 4096;
const LF = 0x0a;
const CR = 0x0d;
const COMMA = 0x2c;
const HASH = 0x23;
const ZERO = 0x30;

/** The header the writer puts first: a comment naming the sensor size (when known) and the column line. */
export function csvHeader(geometry?: Geometry): string {
  const size = geometry ? `; geometry ${geometry.width}x${geometry.height}` : '';
  return `# spikestream events: t (µs), x, y, p (1 = ON)${size}\n${CSV_COLUMNS}\n`;
}

/** True when the head starts with `#` comment lines and/or the `t,x,y,p` column line. */
export function looksLikeCsv(head: Uint8Array): boolean {
  const text = new TextDecoder('latin1').decode(head.subarray(0, Math.min(head.length, 64 * 1024)));
  for (const line of text.split('\n')) {
    const l = line.replace(/\r$/, '');
    if (l.startsWith('#')) continue;
    return l === CSV_COLUMNS;
  }
  return false;
}

export class CsvDecoder implements EventDecoder {
  readonly format: FormatName = 'csv';
  geometry: Geometry | undefined;
  private consumed = 0;
  private line = 0;
  private inBody = false;
  private lastT = -Infinity;
  private readonly carry = new ChunkCarry();

  get bytesConsumed(): number {
    return this.consumed;
  }

  push(chunk: Uint8Array): EventBatch {
    if (chunk.length === 0) return NO_EVENTS;
    const b = this.carry.take(chunk);
    // At most one event per two bytes ("0,0,0,0\n" is 8): a bound, never a length read from the input.
    const out = allocBatch(Math.ceil(b.length / 8) + 1);
    let n = 0;
    let start = 0;
    for (let i = b.indexOf(LF); i >= 0; i = b.indexOf(LF, start)) {
      const end = i > start && b[i - 1] === CR ? i - 1 : i;
      this.line++;
      if (this.inBody) {
        if (end > start) n = this.row(b, start, end, out, n);
      } else {
        this.headerLine(b, start, end);
      }
      this.consumed += i + 1 - start;
      start = i + 1;
    }
    if (b.length - start > MAX_LINE_BYTES) throw this.error(this.line + 1, `a line longer than ${MAX_LINE_BYTES} bytes`);
    this.carry.keep(b, start);
    return trimBatch(out, n);
  }

  end(): EventBatch {
    // A last line without a newline is complete: text editors often leave it so.
    const last = this.carry.pending > 0 ? this.push(new Uint8Array([LF])) : NO_EVENTS;
    if (!this.inBody) throw this.error(this.line, `no '${CSV_COLUMNS}' column line`);
    return last;
  }

  private headerLine(b: Uint8Array, start: number, end: number): void {
    const text = new TextDecoder('latin1').decode(b.subarray(start, end));
    if (b[start] === HASH) {
      const size = /geometry (\d+)x(\d+)/.exec(text);
      if (size) this.geometry = { width: Number(size[1]), height: Number(size[2]) };
      return;
    }
    if (text !== CSV_COLUMNS) throw this.error(this.line, `expected the column line '${CSV_COLUMNS}', got '${text.slice(0, 40)}'`);
    this.inBody = true;
  }

  /** Parses one row `t,x,y,p` of [start, end) into slot n; returns the next slot. No allocation per row. */
  private row(b: Uint8Array, start: number, end: number, out: EventBatch, n: number): number {
    const bad = 'expected 4 comma-separated non-negative integers t,x,y,p';
    let t = 0;
    let x = 0;
    let y = 0;
    let value = 0;
    let field = 0;
    let digits = 0;
    for (let i = start; i < end; i++) {
      const c = b[i];
      if (c === COMMA) {
        if (digits === 0 || field === 3) throw this.error(this.line, bad);
        if (field === 0) t = value;
        else if (field === 1) x = value;
        else y = value;
        field++;
        value = 0;
        digits = 0;
        continue;
      }
      const d = c - ZERO;
      if (d < 0 || d > 9 || digits >= 16) throw this.error(this.line, bad);
      value = value * 10 + d;
      digits++;
    }
    if (field !== 3 || digits === 0) throw this.error(this.line, bad);
    const p = value;
    if (t > Number.MAX_SAFE_INTEGER) throw this.error(this.line, `time ${t} µs is beyond 2^53 (not exact as a double)`);
    if (x > 0xffff || y > 0xffff) throw this.error(this.line, `coordinates (${x}, ${y}) out of range 0…65535`);
    if (p > 1) throw this.error(this.line, `polarity ${p}: expected 0 (OFF) or 1 (ON)`);
    if (t < this.lastT) throw this.error(this.line, `time ${t} µs goes backwards (previous ${this.lastT} µs)`);
    this.lastT = t;
    out.t[n] = t;
    out.x[n] = x;
    out.y[n] = y;
    out.p[n] = p;
    return n + 1;
  }

  private error(line: number, reason: string): FormatError {
    return new FormatError('csv', line, reason, undefined, 'line');
  }
}
