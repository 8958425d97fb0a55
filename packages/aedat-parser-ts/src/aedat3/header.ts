/**
 * The AEDAT 3.1 text header: recognising the magic line, parsing the header lines incrementally
 * (`#Format`, `#Source`, `#Sensor-Size`, …) and the sensor size they imply.
 */
import type { Geometry } from '../geometry.js';
import { FormatError } from '../format-error.js';
import { AEDAT3_END_HEADER, AEDAT3_MAGIC, FORMAT } from './spec.js';
import { latin1Decode } from '../latin1.js';

const MAX_HEADER_LINE = 64 * 1024;
const MAX_HEADER_BYTES = 1024 * 1024;

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
    const text = latin1Decode(this.line, 0, len);
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

