import type { ChildProcess } from 'child_process';
import * as os from 'os';
import { percentile as percentileOf } from '../src/confidence/report';

/** One machine description for every benchmark line. */
export function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown cpu'} ×${cpus.length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
}

/** Median and percentiles (q as a fraction) via the project's one percentile (linear interpolation). */
export function median(xs: readonly number[]): number {
  return percentileOf(xs, 50);
}

export function percentile(xs: readonly number[], q: number): number {
  return percentileOf(xs, q * 100);
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

/**
 * Sends `{ cmd }` to a forked bench child (none when `cmd` is empty) and resolves with its first
 * message of `type`; rejects if the child exits first.
 */
export function askChild<T>(c: ChildProcess, cmd: string, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the bench child exited (${code}) before '${type}'`));
    const on = (m: { type: string }): void => {
      if (m.type !== type) return;
      c.off('message', on);
      c.off('exit', onExit);
      resolve(m as T);
    };
    c.on('message', on);
    c.once('exit', onExit);
    if (cmd) c.send({ cmd });
  });
}
