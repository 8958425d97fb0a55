/**
 * The `%` text header of Prophesee files, shared by the DAT (prophesee-dat.ts) and RAW EVT 2.0 /
 * 3.0 (evt2.ts, evt3.ts) decoders: header lines such as `% evt 2.0`, `% format EVT3;width=…`,
 * `% geometry 304x240`, `% Width 304`, `% plugin_name hal_plugin_gen3_fx3`, `% end`.
 */
import type { Geometry } from './geometry.js';
import type { FormatName } from './decoder.js';
import { FormatError } from './format-error.js';
import { latin1Decode } from './latin1.js';

/** The byte every Prophesee header line starts with. */
export const PERCENT = 0x25;

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
    const line = latin1Decode(head, i, e);
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

/** True when `head` starts with a `%` header that declares event format `evt` ('2.0', '3.0', …). */
export function headDeclaresEvt(head: Uint8Array, evt: string): boolean {
  if (head.length === 0 || head[0] !== PERCENT) return false;
  return declaredEvt(peekPercentHeader(head).lines) === evt;
}
