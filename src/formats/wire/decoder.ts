/**
 * The per-connection wire decoder: fixes the geometry after the first message, keeps timestamps
 * monotone across messages, and holds the AEDAT 3.1 decoder state for kind-2 payloads.
 */
import { type EventBatch, allocBatch, emptyBatch, sliceByIndex } from '../../events/event-batch';
import type { Geometry } from '../../events/geometry';
import { Aedat3Decoder, FormatError } from 'aedat-parser-ts';
import { DEFAULT_MAX_EVENTS_PER_MESSAGE, KIND_EVENTS, WIRE_HEADER_BYTES, decodeEventMessage, decodeEventsPayload, readWireHeader, type DecodeOptions } from './codec';
import { WireError } from './wire-error';

/** `#!AER-DAT3.1` header the AEDAT payload decoder is primed with (it expects a file header). */
const SYNTHETIC_AEDAT3_HEADER = new TextEncoder().encode('#!AER-DAT3.1\r\n#!END-HEADER\r\n');

export interface WireDecoderOptions extends DecodeOptions {
  /** Expected geometry (e.g. from the connection URL); otherwise the first message sets it. */
  geometry?: Geometry;
  /** Reject a message whose first time is before the previous message's last (default true). */
  monotonic?: boolean;
}

/** Per-connection decoder (see the file comment). */
export class WireDecoder {
  private geom: Geometry | undefined;
  private readonly maxEvents: number;
  private readonly monotonic: boolean;
  private aedat: Aedat3Decoder | undefined;
  private aedatOffset = 0;
  private lastT = -1;
  messages = 0;
  events = 0;
  /**
   * Whether the message last decoded decodes to the same events alone (`decodeStandaloneMessage`),
   * without this connection's earlier messages: always for kind 1; for kind 2 only when it holds
   * whole AEDAT 3.1 packets and no timestamp reset has shifted the connection's times so far.
   */
  lastStandalone = true;

  constructor(opts: WireDecoderOptions = {}) {
    this.geom = opts.geometry;
    this.maxEvents = opts.maxEvents ?? DEFAULT_MAX_EVENTS_PER_MESSAGE;
    this.monotonic = opts.monotonic ?? true;
  }

  get geometry(): Geometry | undefined {
    return this.geom;
  }

  decode(bytes: Uint8Array): { geometry: Geometry; batch: EventBatch } {
    const h = readWireHeader(bytes, { maxEvents: this.maxEvents });
    if (this.geom === undefined) this.geom = h.geometry;
    else if (this.geom.width !== h.geometry.width || this.geom.height !== h.geometry.height) {
      throw new WireError('geometry', 2, `geometry ${h.geometry.width}×${h.geometry.height} differs from the connection's ${this.geom.width}×${this.geom.height}`);
    }
    let batch: EventBatch;
    if (h.kind === KIND_EVENTS) {
      this.lastStandalone = true;
      batch = decodeEventsPayload(bytes, h);
      if (this.monotonic && batch.length > 0 && batch.t[0] < this.lastT) {
        throw new WireError('time', 10, `t0 ${batch.t[0]} is before the previous message's last event (${this.lastT})`);
      }
    } else {
      batch = this.decodeAedat(bytes.subarray(WIRE_HEADER_BYTES));
    }
    if (batch.length > 0) this.lastT = batch.t[batch.length - 1];
    this.messages++;
    this.events += batch.length;
    return { geometry: this.geom, batch };
  }

  private decodeAedat(payload: Uint8Array): EventBatch {
    if (this.aedat === undefined) {
      this.aedat = new Aedat3Decoder({ geometry: this.geom, timestampReset: 'continue' });
      this.aedat.push(SYNTHETIC_AEDAT3_HEADER);
    }
    const before = this.aedatOffset;
    this.aedatOffset += payload.length;
    this.lastStandalone = false;
    const startsAtPacket = this.aedat.atPacketBoundary;
    try {
      const b = this.aedat.push(payload);
      this.lastStandalone = startsAtPacket && this.aedat.atPacketBoundary && this.aedat.timestampResets === 0;
      if (b.length > this.maxEvents) throw new WireError('count', 6, `AEDAT 3.1 payload decoded to ${b.length} events, over the limit of ${this.maxEvents}`);
      // Aedat3Decoder's batch may be a view on a larger allocation; keep it compact.
      if (b.length === 0) return emptyBatch();
      const out = allocBatch(b.length);
      out.x.set(b.x.subarray(0, b.length));
      out.y.set(b.y.subarray(0, b.length));
      out.p.set(b.p.subarray(0, b.length));
      out.t.set(b.t.subarray(0, b.length));
      if (this.monotonic && out.t[0] < this.lastT) {
        // AEDAT 3.1 timestamps restart only after a reset event, which the decoder shifts.
        throw new WireError('time', WIRE_HEADER_BYTES, `AEDAT 3.1 time ${out.t[0]} is before the previous event (${this.lastT})`);
      }
      return sliceByIndex(out, 0, out.length);
    } catch (err) {
      if (err instanceof FormatError && !(err instanceof WireError)) {
        const off = Math.max(0, err.offset - SYNTHETIC_AEDAT3_HEADER.length);
        throw new WireError('aedat3', WIRE_HEADER_BYTES + Math.max(0, off - before), `AEDAT 3.1 payload (stream byte ${off}): ${err.reason}`);
      }
      throw err;
    }
  }

  /** True when an AEDAT 3.1 packet is still incomplete (call at connection end to detect truncation). */
  get pendingAedatBytes(): boolean {
    if (this.aedat === undefined) return false;
    try {
      // end() throws when the stream stops inside a packet; it has no other side effect here.
      this.aedat.end();
      return false;
    } catch {
      return true;
    }
  }
}

/**
 * One message decoded on its own, as a reader that did not see the connection's earlier messages
 * (a worker taking a stream over) decodes it: kind 1 as is; kind 2 only when it holds whole
 * AEDAT 3.1 packets (a message ending inside a packet is refused). Geometry and timestamps are
 * not checked against other messages: the gateway that accepted the message did that.
 */
export function decodeStandaloneMessage(bytes: Uint8Array, opts: DecodeOptions = {}): { geometry: Geometry; batch: EventBatch } {
  if (readWireHeader(bytes, opts).kind === KIND_EVENTS) return decodeEventMessage(bytes, opts);
  const decoder = new WireDecoder({ ...opts, monotonic: false });
  const decoded = decoder.decode(bytes);
  if (decoder.pendingAedatBytes) throw new WireError('aedat3', bytes.length, 'AEDAT 3.1 payload ends inside a packet: the message cannot be decoded alone');
  return decoded;
}
