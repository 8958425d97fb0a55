/**
 * An EVT 3.0 encoder for tests, from ../shared/reference/FORMATS.md (Prophesee EVT 3.0): the
 * `% evt 3.0` header with the geometry, then 16-bit LE words: TIME_HIGH (0x8) and TIME_LOW (0x6)
 * when they change (the 24-bit time wraps), EVT_ADDR_Y (0x0) when y changes, EVT_ADDR_X (0x2,
 * polarity in bit 11) for each event. Stateful: consecutive `encode` calls continue one stream.
 */
import type { EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';

export class Evt3Encoder {
  private high = -1;
  private low = -1;
  private y = -1;

  /** The `% …` header as OpenEB writes it (format line with the geometry, `% end`). */
  static header(g: Geometry): Uint8Array {
    return Buffer.from(`% camera_integrator_name Prophesee\n% evt 3.0\n% format EVT3;height=${g.height};width=${g.width}\n% geometry ${g.width}x${g.height}\n% end\n`, 'latin1');
  }

  encode(b: EventBatch): Uint8Array {
    const words = new Uint16Array(b.length * 4);
    let n = 0;
    for (let i = 0; i < b.length; i++) {
      const t = b.t[i] % 16777216;
      const high = Math.floor(t / 4096);
      const low = t % 4096;
      if (high !== this.high) {
        words[n++] = (0x8 << 12) | high;
        this.high = high;
        this.low = -1;
      }
      if (low !== this.low) {
        words[n++] = (0x6 << 12) | low;
        this.low = low;
      }
      if (b.y[i] !== this.y) {
        words[n++] = b.y[i] & 0x7ff;
        this.y = b.y[i];
      }
      words[n++] = (0x2 << 12) | ((b.p[i] & 1) << 11) | (b.x[i] & 0x7ff);
    }
    const out = new Uint8Array(n * 2);
    const dv = new DataView(out.buffer);
    for (let k = 0; k < n; k++) dv.setUint16(2 * k, words[k], true);
    return out;
  }
}
