/** Recognising an AEDAT 4.0 file and reading its header from the first bytes (detect, probing). */
import { FormatError } from '../format-error.js';
import { Aedat4Decoder } from './decoder.js';
import { AEDAT4_MAX_HEADER_BYTES, MAGIC_BYTES, type Aedat4Header, type Aedat4StreamInfo } from './spec.js';

/** True when `head` begins with the AEDAT 4.0 magic line (needs at least 12 bytes). */
export function looksLikeAedat4(head: Uint8Array): boolean {
  if (head.length < 12) return false;
  for (let i = 0; i < Math.min(head.length, MAGIC_BYTES.length); i++) if (head[i] !== MAGIC_BYTES[i]) return false;
  return true;
}

/**
 * Parses the file header from the first bytes of a file (they must hold the whole IOHeader:
 * a few KiB is normally enough; `headerBytes` of the result says how much was needed).
 * Throws FormatError when the bytes are not an AEDAT 4.0 header or stop inside it.
 */
export function readAedat4Header(head: Uint8Array): Aedat4Header {
  const dec = new Aedat4Decoder();
  dec.push(head.subarray(0, Math.min(head.length, AEDAT4_MAX_HEADER_BYTES + 18)), true);
  const h = dec.header;
  if (h === undefined) {
    throw new FormatError('aedat4', head.length, `header incomplete: ${head.length} bytes given, more needed`);
  }
  return h;
}

/** The stream table (`outInfo`) of a file, from its first bytes; see readAedat4Header. */
export function readAedat4Streams(head: Uint8Array): Aedat4StreamInfo[] {
  return readAedat4Header(head).streams;
}
