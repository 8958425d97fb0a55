/**
 * UDP datagrams laid out as their senders lay them out (../shared/reference/FORMATS.md; AEStream's
 * dvs_to_udp.cpp for SPIF, faery's udp_encoder.py for t64 / t32), for tests and benchmarks that
 * send from this process. Little-endian.
 */
import type { EventBatch } from '../../src/events/event-batch';
import { UDP_EVENT_BYTES, type UdpFormat } from '../../streams/sources/udp-formats';

/** Events [start, end) of `b` as one datagram of `format`. */
export function encodeDatagram(format: UdpFormat, b: EventBatch, start = 0, end = b.length): Uint8Array {
  const size = UDP_EVENT_BYTES[format];
  const out = new Uint8Array((end - start) * size);
  const v = new DataView(out.buffer);
  for (let i = start, o = 0; i < end; i++, o += size) {
    const t = b.t[i];
    const [x, y, p] = [b.x[i], b.y[i], b.p[i]];
    if (format === 'spif' || format === 'spif-ts') {
      const word = ((format === 'spif' ? 0x8000 | x : x & 0x7fff) << 16) | (p ? 0x8000 | y : y & 0x7fff);
      v.setUint32(o, word >>> 0, true);
      if (format === 'spif-ts') v.setUint32(o + 4, t % 4294967296, true);
    } else if (format === 't64_x16_y16_on8') {
      v.setUint32(o, t % 4294967296, true);
      v.setUint32(o + 4, Math.floor(t / 4294967296), true);
      v.setUint16(o + 8, x, true);
      v.setUint16(o + 10, y, true);
      v.setUint8(o + 12, p);
    } else {
      v.setUint32(o, t % 4294967296, true);
      v.setUint16(o + 4, x, true);
      v.setUint16(o + 6, ((y << 1) & 0x7fff) | p, true);
    }
  }
  return out;
}

/** Events per datagram of each sender: AEStream 128 SPIF words (32 timestamped events), faery 100. */
export const SENDER_EVENTS_PER_DATAGRAM: Readonly<Record<UdpFormat, number>> = { spif: 128, 'spif-ts': 32, t64_x16_y16_on8: 100, t32_x16_y15_on1: 100 };
