/**
 * The two WHATWG text codecs the core uses, which every browser and Node ≥ 11 provide. Declared
 * here so that the core is checked (tsconfig.core.json) with no Node and no DOM types at all:
 * anything else from either is a compile error.
 */
declare class TextDecoder {
  constructor(label?: string);
  decode(input?: Uint8Array): string;
}
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
