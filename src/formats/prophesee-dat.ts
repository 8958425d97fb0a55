/**
 * Prophesee DAT (`.dat`, e.g. N-CARS, Gen1/Gen4 automotive).
 *
 * Layout: header lines beginning with `%` (e.g. `% Data file containing Event2D events.`,
 * `% Version 2`, optionally `% Width 304` / `% Height 240` or `% geometry 304x240`), then one
 * byte event type and one byte event size (must be 8), then 8-byte little-endian records:
 * uint32 t (µs), uint32 w with x = w & 0x3FFF, y = (w >> 14) & 0x3FFF, p = (w >> 28) & 0xF,
 * any non-zero p being ON.
 *
 * Coordinates: raw, origin upper-left (Prophesee convention). Geometry from the header when it
 * gives one, else from the `geometry` option, else undefined.
 * Timestamps: uint32 µs; a drop of more than 2^31 is a wrap and adds 2^32. Smaller backward
 * steps are passed through and counted in `timeReversals`.
 *
 * This file also holds the `%` header parsing shared with evt2.ts and evt3.ts.
 */
import { allocBatch, sliceByIndex, type EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { HeaderLineReader, NO_EVENTS } from './aedat2';
import { ChunkCarry, type EventDecoder, type FormatName } from './decoder';
import { FormatError } from './format-error';

const PERCENT = 0x25;

/** What a Prophesee `%` header says (RAW and DAT share the style). */
export class PropheseeHeader {
  /** Event format version from `% evt 2.0` or `% format EVT3;…` ('2.0', '2.1', '3.0', …). */
  evt: string | undefined;
  width: number | undefined;
  height: number | undefined;
  pluginName: string | undefined;
  /** True when the header had a `% end` line. */
  endSeen = false;

  constructor(private readonly format: FormatName) {}

  /** Takes one header line; returns true for `% end` (the header stops after it). */
  onLine(line: string, offset: number): boolean {
    let m: RegExpExecArray | null;
    if ((m = /^%\s*end\s*$/i.exec(line))) {
      this.endSeen = true;
      return true;
    }
    if ((m = /^%\s*evt\s+(\S+)/i.exec(line))) {
      this.evt = m[1];
    } else if ((m = /^%\s*format\s+([^;\s]+)(.*)$/i.exec(line))) {
      const name = m[1].toUpperCase();
      if (name === 'EVT2') this.evt = '2.0';
      else if (name === 'EVT21') this.evt = '2.1';
      else if (name === 'EVT3') this.evt = '3.0';
      else this.evt = name;
      const w = /width\s*=\s*(\d+)/i.exec(m[2]);
      const h = /height\s*=\s*(\d+)/i.exec(m[2]);
      if (w) this.width = this.size(w[1], offset);
      if (h) this.height = this.size(h[1], offset);
    } else if ((m = /^%\s*geometry\s+(\d+)\s*x\s*(\d+)/i.exec(line))) {
      this.width = this.size(m[1], offset);
      this.height = this.size(m[2], offset);
    } else if ((m = /^%\s*width\s+(\d+)/i.exec(line))) {
      this.width = this.size(m[1], offset);
    } else if ((m = /^%\s*height\s+(\d+)/i.exec(line))) {
      this.height = this.size(m[1], offset);
    } else if ((m = /^%\s*plugin_name\s+(\S+)/i.exec(line))) {
      this.pluginName = m[1];
    }
    return false;
  }

  private size(s: string, offset: number): number {
    const v = Number(s);
    if (!(v >= 1 && v <= 65536)) throw new FormatError(this.format, offset, `header gives an impossible sensor size ${s}`);
    return v;
  }

  /** Geometry from explicit header lines, else guessed from the HAL plugin name, else undefined. */
  geometry(): Geometry | undefined {
    if (this.width !== undefined && this.height !== undefined) return { width: this.width, height: this.height };
    return this.pluginName !== undefined ? geometryFromPlugin(this.pluginName) : undefined;
  }
}

/** Sensor size for a Prophesee HAL plugin name (`hal_plugin_gen3_fx3` → 640×480, …). */
export function geometryFromPlugin(plugin: string): Geometry | undefined {
  const p = plugin.toLowerCase();
  if (/genx320/.test(p)) return { width: 320, height: 320 };
  if (/gen4|imx636|imx646/.test(p)) return { width: 1280, height: 720 };
  if (/gen3/.test(p)) return { width: 640, height: 480 };
  return undefined;
}

/** The `%` header lines at the start of `head` (stops at the first non-`%` line or `% end`). */
export function peekPercentHeader(head: Uint8Array): { lines: string[]; complete: boolean; length: number } {
  const lines: string[] = [];
  let i = 0;
  while (i < head.length && head[i] === PERCENT) {
    const nl = head.indexOf(10, i);
    if (nl < 0) return { lines, complete: false, length: i };
    let e = nl;
    if (e > i && head[e - 1] === 13) e--;
    const line = Buffer.from(head.buffer, head.byteOffset + i, e - i).toString('latin1');
    lines.push(line);
    i = nl + 1;
    if (/^%\s*end\s*$/i.test(line)) return { lines, complete: true, length: i };
  }
  return { lines, complete: i < head.length, length: i };
}

/** The event format a `%` header declares ('2.0', '3.0', …), or undefined. */
export function declaredEvt(lines: readonly string[]): string | undefined {
  const h = new PropheseeHeader('evt2');
  for (const l of lines) {
    try {
      h.onLine(l, 0);
    } catch {
      /* sniffing: ignore bad values */
    }
  }
  return h.evt;
}

/**
 * Sniffs Prophesee DAT: a `%` header with no `% evt` / `% format` line (those are RAW files),
 * and, when the head reaches past the header, an event size byte of 8.
 */
export function looksLikePropheseeDat(head: Uint8Array): boolean {
  if (head.length === 0 || head[0] !== PERCENT) return false;
  const { lines, complete, length } = peekPercentHeader(head);
  if (lines.length === 0) return false;
  if (declaredEvt(lines) !== undefined) return false;
  if (complete && length + 1 < head.length) return head[length + 1] === 8;
  return true;
}

export interface PropheseeDatOptions {
  /** Geometry to report when the header gives none. */
  readonly geometry?: Geometry;
}

const TWO_31 = 2147483648;
const TWO_32 = 4294967296;

export class PropheseeDatDecoder implements EventDecoder {
  readonly format: FormatName = 'prophesee-dat';
  geometry: Geometry | undefined;
  /** Event type byte from the header (0 = Event2D / CD). */
  eventType: number | undefined;
  timeReversals = 0;
  readonly header = new PropheseeHeader('prophesee-dat');

  private consumed = 0;
  private readonly carry = new ChunkCarry();
  private readonly lines: HeaderLineReader;
  /** 0: header lines, 1: want type byte, 2: want size byte, 3: records. */
  private stage = 0;
  private prev = -1;
  private wrapOffset = 0;

  constructor(private readonly options: PropheseeDatOptions = {}) {
    this.lines = new HeaderLineReader('prophesee-dat', PERCENT, (line, offset) => this.onHeaderLine(line, offset));
  }

  get bytesConsumed(): number {
    return this.consumed;
  }

  private onHeaderLine(line: string, offset: number): boolean {
    this.header.onLine(line, offset);
    if (this.header.evt !== undefined) {
      throw new FormatError('prophesee-dat', offset, `header declares Prophesee RAW EVT ${this.header.evt}, not DAT`);
    }
    return this.header.endSeen; // a `% end` line, if present, ends the header
  }

  push(chunk: Uint8Array): EventBatch {
    if (chunk.length === 0) return NO_EVENTS;
    let b: Uint8Array = chunk;
    let pos = 0;
    if (this.stage === 0) {
      if (this.consumed === 0 && chunk[0] !== PERCENT) throw new FormatError('prophesee-dat', 0, 'bad magic: a DAT file starts with % header lines');
      const at = this.lines.feed(chunk, 0, this.consumed);
      if (at < 0) {
        this.consumed += chunk.length;
        return NO_EVENTS;
      }
      this.consumed += at;
      pos = at;
      this.stage = 1;
      this.geometry = this.header.geometry() ?? this.options.geometry;
    } else if (this.stage === 3) {
      b = this.carry.take(chunk);
    }
    if (this.stage === 1 && pos < b.length) {
      this.eventType = b[pos++];
      this.consumed++;
      this.stage = 2;
    }
    if (this.stage === 2 && pos < b.length) {
      const size = b[pos];
      if (size !== 8) throw new FormatError('prophesee-dat', this.consumed, `event size ${size}; only 8-byte records are supported`);
      pos++;
      this.consumed++;
      this.stage = 3;
    }
    if (this.stage !== 3) return NO_EVENTS;
    return this.decodeRecords(b, pos);
  }

  private decodeRecords(b: Uint8Array, pos: number): EventBatch {
    const nrec = Math.floor((b.length - pos) / 8);
    const stop = pos + nrec * 8;
    if (nrec === 0) {
      this.carry.keep(b, pos);
      return NO_EVENTS;
    }
    const out = allocBatch(nrec);
    const xs = out.x;
    const ys = out.y;
    const ps = out.p;
    const ts = out.t;
    let prev = this.prev;
    let offset = this.wrapOffset;
    let reversals = 0;
    let n = 0;
    for (let i = pos; i < stop; i += 8) {
      const u = (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
      const w = b[i + 4] | (b[i + 5] << 8) | (b[i + 6] << 16) | (b[i + 7] << 24);
      if (u < prev) {
        if (prev - u > TWO_31) offset += TWO_32;
        else reversals++;
      }
      prev = u;
      xs[n] = w & 0x3fff;
      ys[n] = (w >>> 14) & 0x3fff;
      ps[n] = (w >>> 28) !== 0 ? 1 : 0;
      ts[n] = offset + u;
      n++;
    }
    this.prev = prev;
    this.wrapOffset = offset;
    this.timeReversals += reversals;
    this.consumed += stop - pos;
    this.carry.keep(b, stop);
    return n === nrec ? out : sliceByIndex(out, 0, n);
  }

  end(): EventBatch {
    if (this.stage === 0) {
      throw new FormatError('prophesee-dat', this.consumed, this.lines.lines === 0 ? 'empty input: no % header' : 'input ended inside the header');
    }
    if (this.stage < 3) throw new FormatError('prophesee-dat', this.consumed, 'input ended before the event type and size bytes');
    if (this.carry.pending > 0) {
      throw new FormatError('prophesee-dat', this.consumed, `input ended inside an 8-byte record (${this.carry.pending} trailing bytes)`);
    }
    return NO_EVENTS;
  }
}
