/**
 * ISO-8859-1 text ↔ bytes, one byte per character, as header lines are written. Not
 * TextDecoder('latin1'): the WHATWG decoder maps 0x80–0x9F through windows-1252, and the core
 * must give the same strings in every runtime.
 */

/** Characters per String.fromCharCode call: well under every engine's argument limit. */
const SPREAD_CHARS = 8192;

interface NodeBufferClass {
  from(buffer: ArrayBufferLike, byteOffset: number, length: number): { toString(encoding: 'latin1'): string };
}

/**
 * Node's Buffer where the runtime has one: its native latin1 decoder is what keeps long headers
 * cheap (a DAVIS240C AEDAT 2.0 header has 2,104 lines; decoding them in JS costs more than the
 * file's 162,771 events). Looked up, never imported: elsewhere the portable decoder runs.
 */
const nodeBuffer = (globalThis as { Buffer?: NodeBufferClass }).Buffer;

/** The string whose character codes are `bytes[start..end)`. */
export function latin1Decode(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (nodeBuffer !== undefined) return nodeBuffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  return latin1DecodePortable(bytes, start, end);
}

/** latin1Decode without Node's Buffer (browsers, workers, Deno without compatibility). */
export function latin1DecodePortable(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let out = '';
  for (let at = start; at < end; at += SPREAD_CHARS) {
    out += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + SPREAD_CHARS)) as unknown as number[]);
  }
  return out;
}

/** The low byte of every character of `text` (characters past U+00FF keep only their low byte). */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}
