/**
 * Progress display on stderr for the long-running commands: cli-progress bars with rate and ETA,
 * or periodic plain lines when stderr is not a terminal, or nothing (for --json).
 */
import type { SingleBar } from 'cli-progress';
import type { PhaseProgressFn } from '../eval/calibrate';

/** A progress bar on stderr with rate and ETA, or nothing when output is JSON or stderr is not wanted. */
export interface Progress {
  /** Starts at `done` (default 0) of `total`; `fields` fill `{name}` placeholders of the format. */
  start(total: number, done?: number, fields?: Record<string, string | number>): void;
  /** `fields` fill `{name}` placeholders; a `rate` field replaces the computed rate. */
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  /** false: no output at all (e.g. for --json). */
  readonly enabled: boolean;
  /** What is counted, in the default format's rate (default 'items'). */
  readonly unit?: string;
  /** Appended to the default format, e.g. ' | loss {loss}'. */
  readonly extra?: string;
  /** A whole cli-progress format instead of the default one (`label`, `unit` and `extra` then unused). */
  readonly format?: string;
  /** cli-progress etaBuffer: how many updates the ETA is averaged over (default 50; cli-progress's own default is 10). */
  readonly etaBuffer?: number;
  /** performance.now() the computed rate counts from (default: the call to `start`). */
  readonly since?: number;
  /** Digits of the computed `{rate}` (default 1). */
  readonly rateDigits?: number;
  /** Only every this many items (and the last) reaches the bar; the plain lines see every update. */
  readonly barEvery?: number;
  /**
   * When stderr is not a terminal: no bar, but `line(done, total, rate)` (one line, without the
   * newline) at the first update, then at most every `everyMs` and at the end.
   */
  readonly plain?: { readonly everyMs: number; line(done: number, total: number, ratePerSecond: number): string };
}

const NO_PROGRESS: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined };

/**
 * `label |████░░| 40% | 400/1000 | 123.4 items/s | ETA 5s` plus optional `{field}` values named in
 * `extra` (e.g. ' | loss {loss}'), or the given `format`. Disabled with `enabled: false` (for --json).
 * The computed rate counts from `start` (or `since`).
 */
export function progressBar(label: string, opts: ProgressOptions): Progress {
  if (!opts.enabled) return NO_PROGRESS;
  const digits = opts.rateDigits ?? 1;
  let t0 = opts.since ?? 0;
  const startClock = (): void => {
    if (opts.since === undefined) t0 = performance.now();
  };
  const rate = (done: number): number => {
    const s = (performance.now() - t0) / 1000;
    return s > 0 ? done / s : 0;
  };
  // Not a terminal (a log file, CI, a pipe): cli-progress draws nothing there, so write plain lines instead.
  if (!process.stderr.isTTY && !opts.plain) return plainLines(label, opts, rate, startClock);
  const plain = opts.plain;
  if (plain && !process.stderr.isTTY) {
    let total = 0;
    let lastLog = 0;
    return {
      start(n) {
        startClock();
        total = n;
      },
      update(done) {
        if (Date.now() - lastLog > plain.everyMs || done === total) {
          lastLog = Date.now();
          process.stderr.write(plain.line(done, total, rate(done)) + '\n');
        }
      },
      stop: () => undefined,
    };
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  const bar: SingleBar = new cliProgress.SingleBar(
    {
      format: opts.format ?? `${label} |{bar}| {percentage}% | {value}/{total} | {rate} ${opts.unit ?? 'items'}/s | ETA {eta_formatted}${opts.extra ?? ''}`,
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: opts.etaBuffer ?? 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const every = opts.barEvery ?? 1;
  let total = 0;
  return {
    start(n, done = 0, fields = {}) {
      startClock();
      total = n;
      bar.start(n, done, { rate: (0).toFixed(digits), ...fields });
    },
    update(done, fields = {}) {
      if (every > 1 && done % every !== 0 && done !== total) return;
      bar.update(done, { rate: rate(done).toFixed(digits), ...fields });
    },
    stop() {
      bar.stop();
    },
  };
}

/** How often a plain progress line is written when stderr is not a terminal. */
export const PLAIN_PROGRESS_EVERY_MS = 10_000;

/**
 * The bar's format as one plain line (the bar itself left out) at the first update, then at most every
 * PLAIN_PROGRESS_EVERY_MS and at the end: `epoch 3/20 | 14% | … | 512 samples/s | ETA 4m 10s`.
 */
function plainLines(label: string, opts: ProgressOptions, rate: (done: number) => number, startClock: () => void): Progress {
  const format = (opts.format ?? `${label} | {percentage}% | {value}/{total} | {rate} ${opts.unit ?? 'items'}/s | ETA {eta_formatted}${opts.extra ?? ''}`)
    .replace(/\s*\|?\{bar\}\|?\s*/, ' | ');
  let total = 0;
  let fields: Record<string, string | number> = {};
  let lastLog = -Infinity;
  const write = (done: number): void => {
    const r = rate(done);
    const eta = typeof fields.eta === 'number' ? fields.eta : r > 0 ? (total - done) / r : NaN;
    const values: Record<string, string | number> = {
      rate: r.toFixed(opts.rateDigits ?? 1),
      ...fields,
      value: done,
      total,
      percentage: total > 0 ? Math.floor((100 * done) / total) : 0,
      eta_formatted: formatEta(eta),
    };
    process.stderr.write(format.replace(/\{(\w+)\}/g, (m, name: string) => String(values[name] ?? m)) + '\n');
  };
  return {
    start(n, _done, startFields = {}) {
      startClock();
      total = n;
      fields = { ...startFields };
      lastLog = -Infinity;
    },
    update(done, more = {}) {
      fields = { ...fields, ...more };
      const now = Date.now();
      if (now - lastLog < PLAIN_PROGRESS_EVERY_MS && done !== total) return;
      lastLog = now;
      write(done);
    },
    stop: () => undefined,
  };
}

/** Seconds as cli-progress shows them: `45s`, `4m 10s`, `1h 02m`; `?` when unknown. */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** What a calibration or evaluation phase is called on its bar. */
function phaseName(name: string): string {
  if (name === 'ann') return 'ANN logits';
  if (name.startsWith('snn ')) return `SNN ${name.slice(4)}`;
  if (name.startsWith('timing ')) return `batch-1 ${name.slice(7)}`;
  return name;
}

export interface PhaseProgress {
  readonly update: PhaseProgressFn;
  stop(): void;
}

/**
 * The phases of calibration and evaluation (ANN logits, SNN runs, timing): one bar per phase on
 * stderr, with samples/s and ETA, each stopped when its phase completes. A no-op when disabled (--json).
 */
export function phaseProgress(enabled: boolean): PhaseProgress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  let bar: Progress | null = null;
  let phase = '';
  let started = 0;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  const update: PhaseProgressFn = (name, done, total) => {
    if (name !== phase || !bar) {
      stop();
      phase = name;
      started = Date.now();
      bar = progressBar(phaseName(name), {
        enabled: true,
        format: `${phaseName(name).padEnd(12)} |{bar}| {value}/{total} samples | {rate} samples/s | ETA {eta_formatted}`,
        etaBuffer: 10,
      });
      bar.start(total, done, { rate: '0' });
    }
    const s = (Date.now() - started) / 1000;
    bar.update(done, { rate: s > 0 ? (done / s).toFixed(1) : '0' });
    if (done >= total) stop();
  };
  return { update, stop };
}
