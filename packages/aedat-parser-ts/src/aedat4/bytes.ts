/** Little-endian readers and the payload-relative error shared by the AEDAT 4.0 parts. */

/** A failure inside a packet payload, at `at` bytes from the payload start; wrapped by the caller. */
export class PayloadError extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function u16(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8);
}
export function u32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}
export function i32(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}
export function fourcc(b: Uint8Array, p: number): string {
  let s = '';
  for (let i = 0; i < 4; i++) {
    const c = b[p + i];
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  }
  return s;
}
