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
