/**
 * Option parsers for commander: each checks one value and throws a UsageError that names the
 * option, the rule and the value given, so every command rejects bad values the same way (exit 2).
 */
import { FORMAT_NAMES, type FormatName, isFormatName } from 'aedat-parser-ts';
import { UsageError } from './errors';

export interface NumberRule {
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive). */
  readonly max?: number;
  /** Values must be greater than this (exclusive bound, e.g. 0 for a speed). */
  readonly above?: number;
  readonly integer?: boolean;
}

function describeRule(r: NumberRule): string {
  const kind = r.integer ? 'an integer' : 'a number';
  if (r.min !== undefined && r.max !== undefined) return `${kind} ${r.min}–${r.max}`;
  if (r.above !== undefined) return `${kind} > ${r.above}`;
  if (r.min !== undefined) return `${kind} ≥ ${r.min}`;
  if (r.max !== undefined) return `${kind} ≤ ${r.max}`;
  return kind;
}

/** Checks a number against a rule; the error names the option. */
export function checkNumber(name: string, n: number, rule: NumberRule, given: string = String(n)): number {
  const ok =
    Number.isFinite(n) &&
    (!rule.integer || Number.isInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.above === undefined || n > rule.above);
  if (!ok) throw new UsageError(`${name} must be ${describeRule(rule)}, got '${given}'`);
  return n;
}

/** A numeric option; `rule` may be just a minimum (inclusive). */
export function parseNumberOption(name: string, rule: number | NumberRule = {}): (value: string) => number {
  const r: NumberRule = typeof rule === 'number' ? { min: rule } : rule;
  return (value: string) => checkNumber(name, value.trim() === '' ? NaN : Number(value), r, value);
}

/** An integer option in min…max (max unbounded when omitted). */
export function parseIntOption(name: string, min: number, max?: number): (value: string) => number {
  return parseNumberOption(name, { min, max, integer: true });
}

/** `--port`: an integer 0–65535 (0 = any free port). */
export const parsePort = parseIntOption('--port', 0, 65535);

/** `--speed`: a replay speed factor > 0. */
export const parseSpeed = parseNumberOption('--speed', { above: 0 });

/** One of a fixed set of words; the error lists them. */
export function parseChoice<T extends string>(name: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) throw new UsageError(`${name} must be ${listChoices(choices)}, got '${value}'`);
    return value as T;
  };
}

/** "a, b or c". */
export function listChoices(choices: readonly string[]): string {
  return choices.length <= 1 ? (choices[0] ?? '') : `${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}`;
}

/** `--format`: an event file format name; the error lists the valid ones. */
export function parseFormat(value: string): FormatName {
  if (!isFormatName(value)) throw new UsageError(`unknown format '${value}' (--format takes ${listChoices(FORMAT_NAMES)})`);
  return value;
}

/** The three dataset splits every command that reads a dataset folder accepts. */
export const SPLITS = ['train', 'test', 'all'] as const;
export type Split = (typeof SPLITS)[number];
export const parseSplit = parseChoice('--split', SPLITS);
