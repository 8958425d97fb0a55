/**
 * Typed shim for `lz4js` 0.2.0 (pure JS, ships no types). Only the frame-level functions are
 * declared. Our AEDAT 4.0 code uses its own bounds-checked LZ4 frame codec (see aedat4/lz4.ts and
 * aedat4/lz4-compress.ts); lz4js serves as an independent implementation to cross-check against.
 */
declare module 'lz4js' {
  /** Compresses `src` into one LZ4 frame (4 MiB max block size, linked blocks, no checksums). */
  export function compress(src: Uint8Array, maxSize?: number): Uint8Array;
  /** Decompresses one LZ4 frame. Performs no bounds checking: never use it on untrusted input. */
  export function decompress(src: Uint8Array, maxSize?: number): Uint8Array;
  export function compressBound(n: number): number;
  export function decompressBound(src: Uint8Array): number;
}
