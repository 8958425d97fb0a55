import type { SingleBar } from 'cli-progress';

/** A progress bar on stderr with rate and ETA, or nothing when output is JSON or stderr is not wanted. */
export interface Progress {
  start(total: number): void;
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { start: () => undefined, update: () => undefined, stop: () => undefined };

/**
 * `label |████░░| 40% | 400/1000 | 123.4 items/s | ETA 5s` plus optional `{field}` values named in
 * `extra` (e.g. ' | loss {loss}'). Disabled with `enabled: false` (for --json).
 */
export function progressBar(label: string, opts: { enabled: boolean; unit?: string; extra?: string }): Progress {
  if (!opts.enabled) return NO_PROGRESS;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  const bar: SingleBar = new cliProgress.SingleBar(
    {
      format: `${label} |{bar}| {percentage}% | {value}/{total} | {rate} ${opts.unit ?? 'items'}/s | ETA {eta_formatted}${opts.extra ?? ''}`,
      hideCursor: true,
      stream: process.stderr,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let t0 = 0;
  return {
    start(total) {
      t0 = performance.now();
      bar.start(total, 0, { rate: '0.0' });
    },
    update(done, fields = {}) {
      const s = (performance.now() - t0) / 1000;
      bar.update(done, { rate: s > 0 ? (done / s).toFixed(1) : '0.0', ...fields });
    },
    stop() {
      bar.stop();
    },
  };
}
