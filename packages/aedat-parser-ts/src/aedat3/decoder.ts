/**
 * AEDAT 3.1 (libcaer / cAER; the DVS128 Gesture dataset uses it).
 *
 * Layout: ASCII header lines (`#!AER-DAT3.1`, `#Format: RAW`, `#Source <id>: <name>`, …,
 * `#!END-HEADER`, CRLF or LF), then little-endian packets. Each packet is a 28-byte header
 * (int16 eventType, int16 eventSource, int32 eventSize, int32 eventTSOffset, int32
 * eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32 eventValid) and a body of
 * eventCapacity × eventSize bytes.
 *
 * - Polarity events (type 1, 8 bytes): uint32 data, int32 timestamp. data bit 0 = valid
 *   (invalid events are skipped), bit 1 = polarity (1 = ON), y = (data >> 2) & 0x7FFF,
 *   x = (data >> 17) & 0x7FFF. Origin upper-left (libcaer's convention; no flip).
 *   t = eventTSOverflow · 2^31 + timestamp (µs).
 * - Special events (type 0, 8 bytes) are read and otherwise ignored; kind 1 (timestamp reset)
 *   is counted in `timestampResets`. By default timestamps stay as the file has them (what
 *   DVS128 Gesture label CSVs refer to), so they restart near 0 after a reset; with
 *   `{ timestampReset: 'continue' }` every later event is shifted by the largest time seen
 *   before the reset, so the output stays non-decreasing.
 * - Every other packet type is skipped by its declared size, as its bytes arrive (never
 *   buffered).
 * - eventNumber and eventValid are checked for consistency (valid ≤ number ≤ capacity) and
 *   otherwise not trusted: all eventCapacity slots are read and the valid bit decides.
 */
import { type EventBatch, allocBatch } from '../event-batch.js';
import type { Geometry } from '../geometry.js';
import { ChunkCarry, type EventDecoder } from '../decoder.js';
import { FormatError } from '../format-error.js';
import { NO_EVENTS, trimBatch } from '../header-lines.js';
import { Aedat3HeaderParser } from './header.js';
import { type Aedat3PacketHeader, type CoordinateLimits, decodePolarityEvents, i32, NO_LIMITS, readAedat3PacketHeader } from './packets.js';
import { AEDAT3_PACKET_HEADER_BYTES, AEDAT3_POLARITY_EVENT, AEDAT3_SPECIAL_EVENT, AEDAT3_SPECIAL_TIMESTAMP_RESET, FORMAT } from './spec.js';

const TWO_POW_31 = 2147483648;

export interface Aedat3DecoderOptions {
  /** Overrides the geometry implied by the header's `#Source` line. */
  geometry?: Geometry;
  /**
   * What a timestamp-reset special event does: 'keep' (default) leaves timestamps as in the
   * file; 'continue' shifts later events by the largest time seen so far (monotone output).
   */
  timestampReset?: 'keep' | 'continue';
}

const enum State {
  Header,
  PacketHeader,
  Events,
  Skip,
}

/** Incremental AEDAT 3.1 decoder; see the module comment for what it reads and skips. */
export class Aedat3Decoder implements EventDecoder {
  readonly format = 'aedat3' as const;
  private readonly header = new Aedat3HeaderParser();
  private readonly carry = new ChunkCarry();
  private readonly forcedGeometry: Geometry | undefined;
  private readonly continueAfterReset: boolean;
  private geom: Geometry | undefined;
  private limits: CoordinateLimits = NO_LIMITS;
  private state = State.Header;
  /** Offset of the first byte not yet consumed (= start of the carried bytes). */
  private offset = 0;
  private packetOffset = 0;
  private packetType = 0;
  private eventsLeft = 0;
  private skipLeft = 0;
  private tBase = 0;
  private resetShift = 0;
  private maxT = 0;
  private resets = 0;
  private packets = 0;

  constructor(opts: Aedat3DecoderOptions = {}) {
    this.forcedGeometry = opts.geometry;
    this.geom = opts.geometry;
    this.continueAfterReset = opts.timestampReset === 'continue';
  }

  get geometry(): Geometry | undefined {
    return this.geom;
  }

  get bytesConsumed(): number {
    return this.offset;
  }

  /** Timestamp-reset special events seen so far. */
  get timestampResets(): number {
    return this.resets;
  }

  /** True between packets with nothing carried: the next byte pushed must start a packet header. */
  get atPacketBoundary(): boolean {
    return this.state === State.PacketHeader && this.carry.pending === 0;
  }

  /** Packets whose header has been read so far (all types). */
  get packetsSeen(): number {
    return this.packets;
  }

  /** The text header's `#Source` names (available once the header is parsed). */
  get sources(): readonly string[] {
    return this.header.sources;
  }

  push(chunk: Uint8Array): EventBatch {
    const buf = this.carry.take(chunk);
    const base = this.offset;
    let pos = 0;
    let out: EventBatch | undefined;
    let n = 0;
    const len = buf.length;
    loop: for (;;) {
      switch (this.state) {
        case State.Header: {
          const r = this.header.feed(buf, pos);
          if (r < 0) {
            pos = len;
            break loop;
          }
          pos = r;
          this.onHeaderDone();
          break;
        }
        case State.PacketHeader: {
          if (len - pos < AEDAT3_PACKET_HEADER_BYTES) break loop;
          this.startPacket(readAedat3PacketHeader(buf, pos, base + pos), base + pos);
          pos += AEDAT3_PACKET_HEADER_BYTES;
          break;
        }
        case State.Events: {
          const k = Math.min(this.eventsLeft, (len - pos) >>> 3);
          if (k === 0) break loop;
          if (this.packetType === AEDAT3_POLARITY_EVENT) {
            if (out === undefined) out = allocBatch((len - pos) >>> 3);
            n = decodePolarityEvents(buf, pos, k, this.tBase, out, n, base + pos, this.limits);
            if (n > 0 && out.t[n - 1] > this.maxT) this.maxT = out.t[n - 1];
          } else {
            this.specialEvents(buf, pos, k);
          }
          pos += k * 8;
          this.eventsLeft -= k;
          if (this.eventsLeft === 0) this.state = State.PacketHeader;
          break;
        }
        case State.Skip: {
          const k = Math.min(this.skipLeft, len - pos);
          pos += k;
          this.skipLeft -= k;
          if (this.skipLeft > 0) break loop;
          this.state = State.PacketHeader;
          break;
        }
      }
    }
    this.carry.keep(buf, pos);
    this.offset = base + pos;
    return out === undefined ? NO_EVENTS : trimBatch(out, n);
  }

  end(): EventBatch {
    switch (this.state) {
      case State.Header:
        this.header.end();
        break;
      case State.PacketHeader:
        if (this.carry.pending > 0) {
          throw new FormatError(FORMAT, this.offset, `input ends inside a packet header (${this.carry.pending} of ${AEDAT3_PACKET_HEADER_BYTES} bytes)`);
        }
        break;
      case State.Events:
      case State.Skip:
        throw new FormatError(
          FORMAT,
          this.offset + this.carry.pending,
          `input ends inside the body of the packet at byte ${this.packetOffset} (type ${this.packetType})`,
        );
    }
    return NO_EVENTS;
  }

  private onHeaderDone(): void {
    if (this.forcedGeometry === undefined) this.geom = this.header.geometry;
    if (this.geom) this.limits = { width: this.geom.width, height: this.geom.height };
    this.state = State.PacketHeader;
  }

  private startPacket(h: Aedat3PacketHeader, at: number): void {
    this.packets++;
    this.packetOffset = at;
    this.packetType = h.eventType;
    if (h.bodyBytes === 0) {
      this.state = State.PacketHeader;
      return;
    }
    if (h.eventType === AEDAT3_POLARITY_EVENT || h.eventType === AEDAT3_SPECIAL_EVENT) {
      this.tBase = h.eventTSOverflow * TWO_POW_31 + this.resetShift;
      this.eventsLeft = h.eventCapacity;
      this.state = State.Events;
    } else {
      this.skipLeft = h.bodyBytes;
      this.state = State.Skip;
    }
  }

  private specialEvents(buf: Uint8Array, at: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const d = i32(buf, at + i * 8);
      if ((d & 1) === 0) continue;
      if (((d >>> 1) & 0x7f) === AEDAT3_SPECIAL_TIMESTAMP_RESET) {
        this.resets++;
        if (this.continueAfterReset) {
          this.resetShift = this.maxT;
          // Later packets pick the shift up in startPacket; the current one is special, not polarity.
        }
      }
    }
  }
}
