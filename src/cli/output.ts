/** Shared output helpers: every command prints either human text or JSON (`--json`). */

export interface OutputOptions {
  json?: boolean;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

/** Renders rows as an aligned text table. */
export function formatTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function formatUs(us: number | undefined): string {
  if (us === undefined) return '-';
  return `${us} µs`;
}

/** Parses a numeric option, with an error that names the option. */
export function parseNumberOption(name: string, min?: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`${name} must be a number, got '${value}'`);
    if (min !== undefined && n < min) throw new UsageError(`${name} must be ≥ ${min}, got ${n}`);
    return n;
  };
}

/** A user's mistake on the command line: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
