/**
 * The wire format's typed error: a `FormatError` (format 'wire') that also carries a `code` and
 * the WebSocket close code the service answers it with.
 */
import { FormatError } from 'aedat-parser-ts';

export type WireErrorCode =
  | 'truncated' // shorter than the header or than `count` implies
  | 'version' // version byte is not 1
  | 'kind' // unknown kind or flag bits
  | 'geometry' // width or height 0, or changed within a connection
  | 'count' // count over the limit (maps to close 1009)
  | 'trailing' // bytes after the last field
  | 'coordinate' // x >= width or y >= height
  | 'padding' // non-zero unused polarity bits
  | 'time' // bad t0, delta overflow, time past 2^53, or time going backwards between messages
  | 'varint' // truncated, over-long or non-minimal varint
  | 'aedat3' // the AEDAT 3.1 payload is corrupt
  | 'encode'; // encoder input cannot be represented

/** Bad wire input: `offset` is the byte in the message where the problem was found. */
export class WireError extends FormatError {
  override readonly name: string = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    offset: number,
    reason: string,
  ) {
    super('wire', offset, reason);
    this.message = `wire ${code} at byte ${offset}: ${reason}`;
  }

  /** The WebSocket close code for this error: 1009 (too big) for 'count', else 1007 (invalid payload). */
  get closeCode(): number {
    return this.code === 'count' ? 1009 : 1007;
  }
}

/** WebSocket close code for a decoding error: 1009 (too big) for count limits, else 1007 (invalid payload). */
export function closeCodeFor(err: unknown): number {
  if (err instanceof WireError) return err.closeCode;
  return 1011;
}
