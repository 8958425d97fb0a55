/**
 * A progress display for the phases of calibration and evaluation (ANN logits, SNN runs, timing):
 * one cli-progress bar per phase on stderr, with samples/s and ETA. Disabled (a no-op) for --json.
 */
import type { PhaseProgressFn } from './calibrate';

export interface PhaseProgress {
  readonly update: PhaseProgressFn;
  stop(): void;
}

function phaseName(name: string): string {
  if (name === 'ann') return 'ANN logits';
  if (name.startsWith('snn ')) return `SNN ${name.slice(4)}`;
  if (name.startsWith('timing ')) return `batch-1 ${name.slice(7)}`;
  return name;
}

export function phaseProgress(enabled: boolean): PhaseProgress {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cliProgress = require('cli-progress') as typeof import('cli-progress');
  let bar: import('cli-progress').SingleBar | null = null;
  let phase = '';
  let started = 0;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  const update: PhaseProgressFn = (name, done, total) => {
    if (name !== phase || !bar) {
      stop();
      phase = name;
      started = Date.now();
      bar = new cliProgress.SingleBar(
        {
          format: `${phaseName(name).padEnd(12)} |{bar}| {value}/{total} samples | {sps} samples/s | ETA {eta_formatted}`,
          hideCursor: true,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, done, { sps: '0' });
    }
    const s = (Date.now() - started) / 1000;
    bar.update(done, { sps: s > 0 ? (done / s).toFixed(1) : '0' });
    if (done >= total) stop();
  };
  return { update, stop };
}
