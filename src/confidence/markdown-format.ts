/** Number and table formatting shared by the Markdown report sections. */
import type { Interval } from './stats';

export function pct(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '—' : (x * 100).toFixed(digits);
}

export function num(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}

/** A percentage with its interval: "97.01 [94.5, 98.4]". */
export function pctCi(x: number | undefined, ci: Interval | undefined, digits = 2): string {
  if (!ci || !Number.isFinite(ci.lo)) return pct(x, digits);
  return `${pct(x, digits)} [${pct(ci.lo, 1)}, ${pct(ci.hi, 1)}]`;
}

/** A signed difference in percentage points with its interval: "−0.43 [−1.7, +0.9]". */
export function pointsCi(ci: Interval): string {
  const s = (v: number, d: number) => (!Number.isFinite(v) ? '—' : v === 0 ? (0).toFixed(d) : `${v > 0 ? '+' : '−'}${Math.abs(v * 100).toFixed(d)}`);
  return `${s(ci.value, 2)} [${s(ci.lo, 1)}, ${s(ci.hi, 1)}]`;
}

/** A number with its interval: "1.84 [1.71, 1.98]". */
export function numCi(ci: Interval, digits = 2): string {
  return `${num(ci.value, digits)} [${num(ci.lo, digits)}, ${num(ci.hi, digits)}]`;
}

export function thetaStr(x: number): string {
  if (x === Infinity) return '+∞';
  if (x === -Infinity) return '−∞';
  return Number.isInteger(x * 100) ? x.toFixed(2) : x.toPrecision(6);
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}
