import * as os from 'os';

/** One machine description for every benchmark line. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown cpu'} ×${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i];
}

export interface BenchFigure {
  name: string;
  unit: string;
  value: number;
  backend: string;
  machine: string;
  [extra: string]: unknown;
}

/** Ends a benchmark: one line of JSON with all its figures, for scripts and regression checks. */
export function printFigures(bench: string, figures: BenchFigure[]): void {
  process.stdout.write(JSON.stringify({ bench, figures }) + '\n');
}

export function argValue(args: readonly string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
