/** `spikestream frames` options (frames.ts), shared with `--live-style` (frames-live-style.ts). */
import type { Split } from './options';
import type { InputEncoding } from '../snn/input-encoding';

/** The binning written into a frames file's header: `encoding` only when it is not the default 'polarity'. */
export function encodingField(encoding: InputEncoding, rampSteps?: number): { encoding?: InputEncoding; rampSteps?: number } {
  return { ...(encoding === 'polarity' ? {} : { encoding }), ...(rampSteps !== undefined ? { rampSteps } : {}) };
}

export interface FramesOptions {
  out: string;
  split: Split;
  users?: string;
  binUs?: number;
  eventsPerBin?: number;
  steps: number;
  downsample: number;
  /** --encoding: what the two channels count (src/snn/input-encoding.ts). */
  encoding: InputEncoding;
  /** --ramp-steps: time-ramp's steps from 0 to 1 (default T). */
  rampSteps?: number;
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
