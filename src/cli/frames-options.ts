/** `spikestream frames` options (frames.ts), shared with `--live-style` (frames-live-style.ts). */
import type { Split } from './options';

export interface FramesOptions {
  out: string;
  split: Split;
  users?: string;
  binUs?: number;
  eventsPerBin?: number;
  steps: number;
  downsample: number;
  limit?: number;
  skip?: number;
  dtype: 'uint8' | 'float32';
  /** --live-style and its options (frames-live-style.ts). */
  liveStyle?: boolean;
  restartSteps: [number, number];
  passes: number;
  minOverlap: number;
  withWindows?: boolean;
  /** --augment SPEC, --augment-copies N, --with-originals (live-style only). */
  augment?: string;
  augmentCopies: number;
  withOriginals?: boolean;
  seed: number;
  json?: boolean;
}
