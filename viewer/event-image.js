// The preview feed's binary frames (src/server/preview.ts): a 24-byte little-endian header —
// u8 version (1), u8 stream id length S, u8 sample id length N, u8 0, u16 width, u16 height,
// u16 step, u16 0, u32 event count, f64 frame end (µs) — then the two ids (UTF-8) and
// width·height·2 bytes of event counts (clipped to 255), H×W×2 in the model's input channels
// (channel 0 = OFF, 1 = ON; or, for a time-split model, the first and second half of the step).

const HEADER_BYTES = 24;
const utf8 = new TextDecoder();

/** @returns {{ streamId: string, sampleId: string, step: number, width: number, height: number, eventCount: number, tEnd: number, counts: Uint8Array } | null} */
export function decodePreview(buffer) {
  if (!(buffer instanceof ArrayBuffer) || buffer.byteLength < HEADER_BYTES) return null;
  const v = new DataView(buffer);
  if (v.getUint8(0) !== 1) return null;
  const s = v.getUint8(1);
  const n = v.getUint8(2);
  const width = v.getUint16(4, true);
  const height = v.getUint16(6, true);
  const start = HEADER_BYTES + s + n;
  if (buffer.byteLength !== start + width * height * 2) return null;
  return {
    streamId: utf8.decode(new Uint8Array(buffer, HEADER_BYTES, s)),
    sampleId: utf8.decode(new Uint8Array(buffer, HEADER_BYTES + s, n)),
    step: v.getUint16(8, true),
    width,
    height,
    eventCount: v.getUint32(12, true),
    tEnd: v.getFloat64(16, true),
    counts: new Uint8Array(buffer, start),
  };
}

// Background and the colours of channel 1 (ON) and channel 0 (OFF) (RGB); they add up where both fired.
const BG = [11, 15, 20];
const ON = [255, 96, 48];
const OFF = [56, 160, 255];
// Saturating brightness for a count: 1 event is visible, ~8 are nearly full.
const LEVEL = new Float32Array(256).map((_, c) => 1 - Math.exp(-c / 3));

/** Paints a frame's counts into `image` (an ImageData of the frame's size). */
export function paintEvents(image, counts) {
  const px = image.data;
  for (let i = 0, j = 0; j < px.length; i += 2, j += 4) {
    const off = LEVEL[counts[i]];
    const on = LEVEL[counts[i + 1]];
    px[j] = Math.min(255, BG[0] + on * ON[0] + off * OFF[0]);
    px[j + 1] = Math.min(255, BG[1] + on * ON[1] + off * OFF[1]);
    px[j + 2] = Math.min(255, BG[2] + on * ON[2] + off * OFF[2]);
    px[j + 3] = 255;
  }
}
