/**
 * Pieces shared by the decoders: a linear-time reader for text headers made of prefixed lines
 * (`#` for AEDAT 2.0, `%` for Prophesee DAT and RAW), the magic-prefix check, the shared empty
 * batch and the trim that ends each decode loop.
 */
import { emptyBatch, sliceByIndex, type EventBatch } from './event-batch.js';
import type { FormatName } from './decoder.js';
import { FormatError } from './format-error.js';
import { latin1Decode } from './latin1.js';

export interface HeaderLimits {
  /** Longest accepted header line in bytes (protects against binary input without newlines). */
  readonly maxLineBytes: number;
  /** Longest accepted header in bytes. */
  readonly maxHeaderBytes: number;
}

export const DEFAULT_HEADER_LIMITS: HeaderLimits = { maxLineBytes: 1 << 20, maxHeaderBytes: 32 << 20 };

/**
 * Reads header lines that begin with `prefix`, one at a time, from chunks of any size. Each
 * byte is looked at a bounded number of times (no re-scan of a growing carry), so a 1-byte
 * chunked read of a 2000-line header stays linear. The header ends before the first line that
 * does not begin with `prefix`, or after a line for which `onLine` returns true.
 */
export class HeaderLineReader {
  private buf = new Uint8Array(256);
  private len = 0;
  private inLine = false;
  private lineStart = 0;
  /** True once the header has ended (the body starts at the index `feed` returned). */
  done = false;
  /** Complete header lines seen. */
  lines = 0;
  /** Header bytes consumed so far. */
  consumed = 0;

  constructor(
    private readonly format: FormatName,
    private readonly prefix: number,
    /** Called with each line (latin1, without CR/LF) and its byte offset; true ends the header. */
    private readonly onLine: (line: string, offset: number) => boolean | void,
    private readonly limits: HeaderLimits = DEFAULT_HEADER_LIMITS,
  ) {}

  /** True while a line has been started but not finished. */
  get midLine(): boolean {
    return this.inLine;
  }

  /**
   * Parses header bytes from `bytes[from…]`, where `bytes[0]` is at absolute input offset
   * `offset`. Returns the index at which the body starts, or -1 when every byte was header.
   */
  feed(bytes: Uint8Array, from: number, offset: number): number {
    let i = from;
    while (i < bytes.length) {
      if (!this.inLine) {
        if (bytes[i] !== this.prefix) {
          this.done = true;
          return i;
        }
        this.inLine = true;
        this.lineStart = offset + i;
        this.len = 0;
      }
      const nl = bytes.indexOf(10, i);
      const end = nl < 0 ? bytes.length : nl;
      this.append(bytes, i, end);
      this.consumed += end - i;
      if (nl < 0) return -1;
      i = nl + 1;
      this.consumed += 1;
      this.inLine = false;
      this.lines++;
      if (this.consumed > this.limits.maxHeaderBytes) {
        throw new FormatError(this.format, offset + i, `header longer than ${this.limits.maxHeaderBytes} bytes`);
      }
      let n = this.len;
      if (n > 0 && this.buf[n - 1] === 13) n--;
      const line = latin1Decode(this.buf, 0, n);
      if (this.onLine(line, this.lineStart) === true) {
        this.done = true;
        return i;
      }
    }
    return -1;
  }

  private append(bytes: Uint8Array, start: number, end: number): void {
    const need = this.len + (end - start);
    if (need > this.limits.maxLineBytes) {
      throw new FormatError(this.format, this.lineStart, `header line longer than ${this.limits.maxLineBytes} bytes (not a text header?)`);
    }
    if (need > this.buf.length) {
      let c = this.buf.length * 2;
      while (c < need) c *= 2;
      const b = new Uint8Array(c);
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
    this.buf.set(bytes.subarray(start, end), this.len);
    this.len = need;
  }
}

/** Checks `bytes` (starting at absolute offset `offset`) against the first bytes of `magic`. */
export function checkMagicPrefix(format: FormatName, magic: Uint8Array, bytes: Uint8Array, offset: number, what: string): void {
  for (let j = 0; offset + j < magic.length && j < bytes.length; j++) {
    if (bytes[j] !== magic[offset + j]) throw new FormatError(format, offset + j, `bad magic: not ${what}`);
  }
}

/**
 * The empty batch decoders return when a chunk completes no event: shared, since a batch of
 * zero-length arrays cannot be written to (saves four allocations per tiny chunk).
 */
export const NO_EVENTS: EventBatch = Object.freeze(emptyBatch());

/**
 * The first `n` events of `out`, a batch a decoder allocated for `out.length` events and
 * filled from the start: `out` itself when full, `NO_EVENTS` when empty, else a view.
 */
export function trimBatch(out: EventBatch, n: number): EventBatch {
  if (n === 0) return NO_EVENTS;
  return n === out.length ? out : sliceByIndex(out, 0, n);
}
