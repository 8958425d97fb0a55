/**
 * The few protocol-buffers encodings an ONNX model file needs (no dependency): varints, fixed32
 * floats, length-delimited fields. Messages are built as byte arrays, innermost first.
 */
export type Field = Uint8Array;

function varint(v: number | bigint): number[] {
  let x = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x !== 0n) b |= 0x80;
    out.push(b);
  } while (x !== 0n);
  return out;
}

const key = (field: number, wire: number): number[] => varint((field << 3) | wire);

/** An integer field (int32/int64/enum), wire type 0. */
export function int(field: number, v: number): Field {
  return Uint8Array.from([...key(field, 0), ...varint(v)]);
}

/** A float field, wire type 5 (fixed32, little endian). */
export function float(field: number, v: number): Field {
  const b = new Uint8Array(5 + 4);
  const k = key(field, 5);
  b.set(k);
  new DataView(b.buffer).setFloat32(k.length, v, true);
  return b.subarray(0, k.length + 4);
}

/** A length-delimited field: bytes, a string, or an embedded message (its fields concatenated). */
export function bytes(field: number, v: Uint8Array | string | readonly Field[]): Field {
  const body = typeof v === 'string' ? new TextEncoder().encode(v) : v instanceof Uint8Array ? v : concat(v);
  return concat([Uint8Array.from([...key(field, 2), ...varint(body.length)]), body]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
