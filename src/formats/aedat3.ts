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
import { type EventBatch, allocBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { ChunkCarry, type EventDecoder } from './decoder';
import { FormatError } from './format-error';
import { NO_EVENTS, trimBatch } from './header-lines';

export const AEDAT3_MAGIC = '#!AER-DAT3.1';
export const AEDAT3_END_HEADER = '#!END-HEADER';
export const AEDAT3_PACKET_HEADER_BYTES = 28;
export const AEDAT3_SPECIAL_EVENT = 0;
export const AEDAT3_POLARITY_EVENT = 1;
/** Special event kinds (data >> 1 & 0x7F). */
export const AEDAT3_SPECIAL_TIMESTAMP_WRAP = 0;
export const AEDAT3_SPECIAL_TIMESTAMP_RESET = 1;

/** Largest accepted eventSize (a DAVIS colour frame event is a few MiB at most). */
export const AEDAT3_MAX_EVENT_SIZE = 16 * 1024 * 1024;
/** Largest accepted packet body (eventCapacity × eventSize). */
export const AEDAT3_MAX_PACKET_BODY = 256 * 1024 * 1024;
/** eventTSOverflow below this keeps t = overflow · 2^31 + ts under 2^53 (exact in a double). */
export const AEDAT3_MAX_TS_OVERFLOW = 1 << 22;
const MAX_HEADER_LINE = 64 * 1024;
const MAX_HEADER_BYTES = 1024 * 1024;
const TWO_POW_31 = 2147483648;

const FORMAT = 'aedat3';

/** Sensor names as they appear in `#Source <id>: <name>`, first match wins. */
const KNOWN_SOURCES: readonly { re: RegExp; geometry: Geometry }[] = [
  { re: /^DVS ?128/i, geometry: { width: 128, height: 128 } },
  { re: /^DAVIS ?128/i, geometry: { width: 128, height: 128 } },
  { re: /^DAVIS ?208/i, geometry: { width: 208, height: 192 } },
  { re: /^DAVIS ?240/i, geometry: { width: 240, height: 180 } },
  { re: /^DAVIS ?346/i, geometry: { width: 346, height: 260 } },
  { re: /^DAVIS ?640/i, geometry: { width: 640, height: 480 } },
  { re: /^DVXplorer[ _-]?Lite/i, geometry: { width: 320, height: 240 } },
  { re: /^DVXplorer/i, geometry: { width: 640, height: 480 } },
];

/** The sensor size implied by an AEDAT 3.1 source name (`DVS128`, `DAVIS240C`, …), if known. */
export function geometryFromSourceName(name: string): Geometry | undefined {
  const n = name.trim();
  for (const k of KNOWN_SOURCES) if (k.re.test(n)) return k.geometry;
  return undefined;
}

const MAGIC_BYTES = Array.from(AEDAT3_MAGIC, (c) => c.charCodeAt(0));

/** True when `head` starts with the `#!AER-DAT3.1` magic line. */
export function looksLikeAedat3(head: Uint8Array): boolean {
  if (head.length < MAGIC_BYTES.length + 1) return false;
  for (let i = 0; i < MAGIC_BYTES.length; i++) if (head[i] !== MAGIC_BYTES[i]) return false;
  const next = head[MAGIC_BYTES.length];
  return next === 0x0d || next === 0x0a;
}

/**
 * Parses the text header incrementally, one line at a time. Only the current line is kept,
 * so feeding one byte at a time stays linear. Used by the decoder and by the packet index.
 */
export class Aedat3HeaderParser {
  private line = new Uint8Array(128);
  private lineLen = 0;
  private lineStart = 0;
  private lineNo = 0;
  private offset = 0;
  private finished = false;
  /** `#Source` names in order of appearance. */
  readonly sources: string[] = [];
  /** `#Sensor-Size: WxH`, written by our writer when the source name does not imply it. */
  sensorSize: Geometry | undefined;
  formatLine: string | undefined;

  get done(): boolean {
    return this.finished;
  }

  /** Header length in bytes, once done. */
  get headerBytes(): number {
    return this.offset;
  }

  /** Geometry from `#Sensor-Size` or else the first recognised `#Source` name. */
  get geometry(): Geometry | undefined {
    if (this.sensorSize) return this.sensorSize;
    for (const s of this.sources) {
      const g = geometryFromSourceName(s);
      if (g) return g;
    }
    return undefined;
  }

  /**
   * Consumes header bytes from `bytes[from…]`. Returns the index just past `#!END-HEADER`'s
   * newline when the header ends inside this chunk, else -1 (every byte was consumed).
   */
  feed(bytes: Uint8Array, from: number): number {
    for (let i = from; i < bytes.length; i++) {
      const b = bytes[i];
      const abs = this.offset;
      this.offset++;
      if (this.lineNo === 0 && this.lineLen < MAGIC_BYTES.length) {
        if (b !== MAGIC_BYTES[this.lineLen]) {
          throw new FormatError(FORMAT, abs, `not an AEDAT 3.1 file: the first line must be ${AEDAT3_MAGIC}`);
        }
      } else if (this.lineLen === 0 && b !== 0x23 /* # */) {
        throw new FormatError(FORMAT, abs, `header line ${this.lineNo + 1} does not begin with '#' before ${AEDAT3_END_HEADER}`);
      }
      if (b === 0x0a) {
        this.endLine();
        if (this.finished) return i + 1;
        continue;
      }
      if (this.lineLen >= MAX_HEADER_LINE) throw new FormatError(FORMAT, this.lineStart, `header line longer than ${MAX_HEADER_LINE} bytes`);
      if (this.offset > MAX_HEADER_BYTES) throw new FormatError(FORMAT, abs, `header longer than ${MAX_HEADER_BYTES} bytes without ${AEDAT3_END_HEADER}`);
      if (this.lineLen === this.line.length) {
        const grown = new Uint8Array(this.line.length * 2);
        grown.set(this.line);
        this.line = grown;
      }
      this.line[this.lineLen++] = b;
    }
    return -1;
  }

  /** Throws if the input ended before the header did. */
  end(): void {
    if (!this.finished) throw new FormatError(FORMAT, this.offset, `input ends inside the header (no ${AEDAT3_END_HEADER} line)`);
  }

  private endLine(): void {
    let len = this.lineLen;
    if (len > 0 && this.line[len - 1] === 0x0d) len--;
    const text = latin1(this.line, len);
    const at = this.lineStart;
    this.lineNo++;
    this.lineLen = 0;
    this.lineStart = this.offset;
    if (this.lineNo === 1) {
      if (text !== AEDAT3_MAGIC) throw new FormatError(FORMAT, at, `not an AEDAT 3.1 file: first line is '${text.slice(0, 40)}'`);
      return;
    }
    if (text === AEDAT3_END_HEADER) {
      this.finished = true;
      return;
    }
    let m = /^#Source\s+(-?\d+)\s*:\s*(.*)$/.exec(text);
    if (m) {
      this.sources.push(m[2].trim());
      return;
    }
    m = /^#Format\s*:\s*(.*)$/.exec(text);
    if (m) {
      this.formatLine = m[1].trim();
      if (!/^RAW\b/i.test(this.formatLine)) throw new FormatError(FORMAT, at, `unsupported #Format '${this.formatLine}' (only RAW)`);
      return;
    }
    m = /^#Sensor-Size\s*:\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
    if (m) {
      const width = Number(m[1]);
      const height = Number(m[2]);
      if (width < 1 || height < 1 || width > 0x8000 || height > 0x8000) throw new FormatError(FORMAT, at, `bad #Sensor-Size ${width}x${height}`);
      this.sensorSize = { width, height };
    }
  }
}

function latin1(bytes: Uint8Array, len: number): string {
  let s = '';
  for (let i = 0; i < len; i++) s += String.fromCharCode(bytes[i]);
  return s;
}

/** A packet header as read from the file, already validated. */
export interface Aedat3PacketHeader {
  eventType: number;
  eventSource: number;
  eventSize: number;
  eventTSOffset: number;
  eventTSOverflow: number;
  eventCapacity: number;
  eventNumber: number;
  eventValid: number;
  /** eventCapacity × eventSize. */
  bodyBytes: number;
}

function i32(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
}

function i16(b: Uint8Array, at: number): number {
  return ((b[at] | (b[at + 1] << 8)) << 16) >> 16;
}

/**
 * Reads and validates the 28-byte packet header at `bytes[at]`; `fileOffset` is that header's
 * offset in the input (for errors). Throws FormatError on anything inconsistent.
 */
export function readAedat3PacketHeader(bytes: Uint8Array, at: number, fileOffset: number): Aedat3PacketHeader {
  const h: Aedat3PacketHeader = {
    eventType: i16(bytes, at),
    eventSource: i16(bytes, at + 2),
    eventSize: i32(bytes, at + 4),
    eventTSOffset: i32(bytes, at + 8),
    eventTSOverflow: i32(bytes, at + 12),
    eventCapacity: i32(bytes, at + 16),
    eventNumber: i32(bytes, at + 20),
    eventValid: i32(bytes, at + 24),
    bodyBytes: 0,
  };
  const bad = (reason: string): FormatError => new FormatError(FORMAT, fileOffset, `bad packet header: ${reason}`);
  if (h.eventType < 0) throw bad(`negative eventType ${h.eventType}`);
  if (h.eventSize <= 0 || h.eventSize > AEDAT3_MAX_EVENT_SIZE) throw bad(`eventSize ${h.eventSize} outside 1…${AEDAT3_MAX_EVENT_SIZE}`);
  if (h.eventTSOffset < 0 || h.eventTSOffset + 4 > h.eventSize) throw bad(`eventTSOffset ${h.eventTSOffset} does not fit an event of ${h.eventSize} bytes`);
  if (h.eventTSOverflow < 0 || h.eventTSOverflow >= AEDAT3_MAX_TS_OVERFLOW) throw bad(`eventTSOverflow ${h.eventTSOverflow} outside 0…${AEDAT3_MAX_TS_OVERFLOW - 1}`);
  if (h.eventCapacity < 0) throw bad(`negative eventCapacity ${h.eventCapacity}`);
  if (h.eventCapacity * h.eventSize > AEDAT3_MAX_PACKET_BODY) {
    throw bad(`body of ${h.eventCapacity} × ${h.eventSize} bytes exceeds ${AEDAT3_MAX_PACKET_BODY}`);
  }
  if (h.eventNumber < 0 || h.eventNumber > h.eventCapacity) throw bad(`eventNumber ${h.eventNumber} outside 0…eventCapacity ${h.eventCapacity}`);
  if (h.eventValid < 0 || h.eventValid > h.eventNumber) throw bad(`eventValid ${h.eventValid} outside 0…eventNumber ${h.eventNumber}`);
  if (h.eventType === AEDAT3_POLARITY_EVENT || h.eventType === AEDAT3_SPECIAL_EVENT) {
    const what = h.eventType === AEDAT3_POLARITY_EVENT ? 'polarity' : 'special';
    if (h.eventSize !== 8) throw bad(`${what} packet with eventSize ${h.eventSize} (must be 8)`);
    if (h.eventTSOffset !== 4) throw bad(`${what} packet with eventTSOffset ${h.eventTSOffset} (must be 4)`);
  }
  h.bodyBytes = h.eventCapacity * h.eventSize;
  return h;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
let scratch = new Uint8Array(64 * 1024);

/** An Int32Array over `bytes[at … at + n·4)`: a view when aligned, else a copy into scratch memory. */
function int32View(bytes: Uint8Array, at: number, words: number): Int32Array {
  const start = bytes.byteOffset + at;
  if ((start & 3) === 0) return new Int32Array(bytes.buffer, start, words);
  const n = words * 4;
  if (scratch.length < n) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  scratch.set(bytes.subarray(at, at + n));
  return new Int32Array(scratch.buffer, 0, words);
}

/** Sensor bounds for `decodePolarityEvents` (events outside are a FormatError). */
export interface CoordinateLimits {
  readonly width: number;
  readonly height: number;
}

const NO_LIMITS: CoordinateLimits = { width: 0x8000, height: 0x8000 };

/**
 * Decodes `count` 8-byte polarity events from `bytes[at…]` (part or all of a polarity packet's
 * body), appending the valid ones to `out` from index `outAt`; returns the new fill index.
 * `tBase` is added to every timestamp (eventTSOverflow · 2^31, plus any reset shift).
 * `fileOffset` is the input offset of `bytes[at]`, for errors: a valid event with a negative
 * timestamp or coordinates outside `limits` is a FormatError. `out` must have room for
 * `count` more events. Shared by the streaming decoder and the windowed packet reader.
 */
export function decodePolarityEvents(
  bytes: Uint8Array,
  at: number,
  count: number,
  tBase: number,
  out: EventBatch,
  outAt: number,
  fileOffset: number,
  limits: CoordinateLimits = NO_LIMITS,
): number {
  const ox = out.x;
  const oy = out.y;
  const op = out.p;
  const ot = out.t;
  const W = limits.width;
  const H = limits.height;
  let o = outAt;
  if (count < 16 || !LITTLE_ENDIAN_HOST) {
    // Few events (small chunks) or a big-endian host: byte reads, no typed-array view to make.
    for (let i = 0, b = at; i < count; i++, b += 8) {
      const d = bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24);
      if ((d & 1) === 0) continue;
      const ts = bytes[b + 4] | (bytes[b + 5] << 8) | (bytes[b + 6] << 16) | (bytes[b + 7] << 24);
      const x = (d >>> 17) & 0x7fff;
      const y = (d >>> 2) & 0x7fff;
      if (ts < 0 || x >= W || y >= H) throw badEvent(fileOffset + i * 8, x, y, ts, limits);
      ox[o] = x;
      oy[o] = y;
      op[o] = (d >>> 1) & 1;
      ot[o] = tBase + ts;
      o++;
    }
  } else {
    const w = int32View(bytes, at, count * 2);
    const n2 = count * 2;
    for (let j = 0; j < n2; j += 2) {
      const d = w[j];
      if ((d & 1) === 0) continue;
      const ts = w[j + 1];
      const x = (d >>> 17) & 0x7fff;
      const y = (d >>> 2) & 0x7fff;
      if (ts < 0 || x >= W || y >= H) throw badEvent(fileOffset + j * 4, x, y, ts, limits);
      ox[o] = x;
      oy[o] = y;
      op[o] = (d >>> 1) & 1;
      ot[o] = tBase + ts;
      o++;
    }
  }
  return o;
}

function badEvent(offset: number, x: number, y: number, ts: number, limits: CoordinateLimits): FormatError {
  if (ts < 0) return new FormatError(FORMAT, offset, `polarity event with negative timestamp ${ts}`);
  return new FormatError(FORMAT, offset, `polarity event at x=${x}, y=${y} outside the ${limits.width}×${limits.height} sensor`);
}

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
