/** Shared output helpers: every command prints either human text or JSON (`--json`). */

export { UsageError } from './errors';
export { parseNumberOption } from './options';

export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Renders rows as an aligned text table: numbers right-aligned, text left-aligned; columns grow to fit the longest cell. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? formatCount(c) : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** An integer with thousands separators (1,234,567); other numbers as they print. */
export function formatCount(n: number): string {
  return Number.isInteger(n) ? n.toLocaleString('en-US') : String(n);
}

/** An event rate in the unit that keeps it readable: ev/s, kev/s or Mev/s. */
export function formatEventRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} Mev/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} kev/s`;
  return `${perSecond.toFixed(0)} ev/s`;
}

/** A byte count in B, KiB, MiB or GiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]} (${formatCount(n)} B)`;
}
