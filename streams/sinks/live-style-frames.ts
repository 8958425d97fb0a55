/**
 * Training samples cut from whole recordings the way a live stream cuts them (`frames --live-style`).
 *
 * A live stream's samples are not label windows: each starts at an activity onset (often during
 * the move into a gesture) or right after the previous decision (mid-gesture, or in the move back
 * to rest), and runs until the activity stops, T·bin later, or its own decision. A model trained
 * on label windows only has never seen most of them. Here every recording is segmented by the one
 * live segmenter (`segmentLive`, the same code the service runs) while a stand-in for the engine
 * "decides" each sample at a step k drawn from a seeded uniform distribution over `restartSteps`:
 * the next sample then starts at the first event that step did not bin, exactly as after a real
 * decision at step k. Each sample keeps the T frames it would get if it ran on (fewer when its
 * activity ends first; empty frames pad it).
 *
 * Labels (the rule), per prefix: what the SNN has integrated when it decides at step k is the
 * prefix [sample start, end of frame k), and a decision then is given at the prefix's end. The
 * prefix gets the class of the label window its end lies in (start < end ≤ window end, as the live
 * scoring counts it) when that window covers at least `minOverlap` (default ½) of the prefix;
 * otherwise it is no gesture, −1 — the move into or out of a gesture, the pause between two, a
 * quiet stretch, the end of a sample that started in the previous gesture. Training shows the mean
 * of the first k frames with the k-th step label (FrameDataset.stepLabels) and pushes −1 towards
 * the uniform distribution (src/snn/train.ts), so the model stays below θ there and the engine's
 * decision is `confident: false`: uncertain, never an answer. A sample's own label is its last
 * prefix's (steps past its last frame, zero-padded, keep that label).
 */
import { Observable } from 'rxjs';
import type { InputEncoding } from '../../src/snn/input-encoding';
import { lowerBoundTime, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { keyedSeed, Rng } from '../../src/prng';
import type { FrameDataset } from '../../src/snn/dataset';
import { binStats, frameGeometry, type BinStats } from '../core/binner';
import { sourceFromBatches } from '../core/event-source';
import { FrameCursor } from '../core/frame-cursor';
import { DEFAULT_LIVE_SEGMENTATION, segmentLive, type LiveSegmentation } from '../core/live-segmenter';
import type { Sample } from '../types';

/** A labelled window of a recording (start ≤ t < end, µs). */
export interface LabelledSpan {
  readonly tStart: number;
  readonly tEnd: number;
  readonly label?: number;
}

/** One whole recording: its events in one batch (non-decreasing times) and its label windows. */
export interface WholeRecording {
  readonly streamId: string;
  readonly geometry: Geometry;
  readonly windows: readonly LabelledSpan[];
  readonly events: EventBatch;
}

export interface LiveStyleOptions {
  /** Time bin (µs), T and the spatial downsample factor of the model to train. */
  readonly binUs: number;
  readonly T: number;
  readonly downsample?: number;
  /** What the frames' two channels count (default 'polarity'), and for time-ramp the steps of the ramp (default T). */
  readonly encoding?: InputEncoding;
  readonly rampSteps?: number;
  readonly segmentation?: LiveSegmentation;
  /** The decision step k (1-based) is drawn uniformly from [min, max] for every sample (default [2, 8]). */
  readonly restartSteps?: readonly [number, number];
  /** Independent passes over each recording, each with its own draws (default 1). */
  readonly passes?: number;
  readonly seed?: number;
  /** Least share of a prefix a window must cover to give it its class (default 0.5). */
  readonly minOverlap?: number;
  /** Also one sample per label window, cut at the window (the windowed samples). */
  readonly withWindows?: boolean;
  readonly stats?: BinStats;
}

/** What was cut, sample by sample. */
export interface LiveStyleSampleInfo {
  readonly streamId: string;
  /** 'live': cut by the live segmenter; 'window': a label window. */
  readonly kind: 'live' | 'window';
  readonly pass: number;
  readonly tStart: number;
  /** End of the sample's last frame. */
  readonly tEnd: number;
  readonly frames: number;
  /** The step the stand-in decided at (the next sample starts after it); Infinity: it ran to its end. */
  readonly decidedAt: number;
  /** Class of the whole sample (its last prefix's), or −1 for no gesture. */
  readonly label: number;
  /** The class of each prefix of k = 1…T frames (−1: no gesture). */
  readonly stepLabels: Int32Array;
}

/**
 * The label rule for one prefix [tStart, tEnd) (see the file comment): the class of the window
 * holding tEnd (start < tEnd ≤ end) if it covers ≥ minOverlap of the prefix, else −1.
 */
export function prefixLabel(windows: readonly LabelledSpan[], tStart: number, tEnd: number, minOverlap = 0.5): number {
  const span = tEnd - tStart;
  for (const w of windows) {
    if (w.label === undefined || !(w.tStart < tEnd && tEnd <= w.tEnd)) continue;
    const cover = Math.min(w.tEnd, tEnd) - Math.max(w.tStart, tStart);
    if (span > 0 && cover >= minOverlap * span) return w.label;
  }
  return -1;
}

/** Step labels of a sample whose frames end at `frameEnds` (T of them; past the last frame, its label). */
export function stepLabelsOf(windows: readonly LabelledSpan[], tStart: number, frameEnds: readonly number[], T: number, minOverlap = 0.5): Int32Array {
  const out = new Int32Array(T).fill(-1);
  for (let k = 0; k < T && frameEnds.length > 0; k++) out[k] = prefixLabel(windows, tStart, frameEnds[Math.min(k, frameEnds.length - 1)], minOverlap);
  return out;
}

function checkOptions(o: LiveStyleOptions): { restart: readonly [number, number]; passes: number; minOverlap: number } {
  if (!(Number.isFinite(o.binUs) && o.binUs > 0)) throw new RangeError(`live-style cutting needs time bins: binUs must be > 0 (got ${o.binUs})`);
  if (!(Number.isInteger(o.T) && o.T >= 1)) throw new RangeError(`T must be a positive integer (got ${o.T})`);
  const restart = o.restartSteps ?? [2, 8];
  if (!(Number.isInteger(restart[0]) && Number.isInteger(restart[1]) && restart[0] >= 1 && restart[1] >= restart[0])) {
    throw new RangeError(`restart steps must be integers 1 ≤ min ≤ max (got ${restart[0]}-${restart[1]})`);
  }
  const passes = o.passes ?? 1;
  if (!(Number.isInteger(passes) && passes >= 1)) throw new RangeError(`passes must be a positive integer (got ${passes})`);
  const minOverlap = o.minOverlap ?? 0.5;
  if (!(minOverlap >= 0 && minOverlap <= 1)) throw new RangeError(`minOverlap must be in [0, 1] (got ${minOverlap})`);
  return { restart, passes, minOverlap };
}

/** Bins `slice` from `tStart` into up to T frames written into `out` (zero-padded); returns the frames' ends. */
function binInto(slice: EventBatch, geometry: Geometry, tStart: number, tEnd: number, o: LiveStyleOptions, stats: BinStats, out: Float32Array): number[] {
  const cursor = new FrameCursor({ geometry, tStart, tEnd, binUs: o.binUs, downsample: o.downsample ?? 1, encoding: o.encoding, rampSteps: o.rampSteps ?? o.T, maxSteps: o.T, stats });
  cursor.feed(slice);
  cursor.end();
  out.fill(0);
  const ends: number[] = [];
  for (let f = cursor.next(); f; f = cursor.next()) {
    out.set(f.data, f.step * f.data.length);
    ends.push(f.tEnd);
  }
  return ends;
}

/**
 * Cuts one recording, live-style (and, with `withWindows`, at its label windows), calling `emit`
 * with each sample's T frames (a buffer reused for the next sample: copy it) and what it is.
 */
export async function cutLiveStyle(rec: WholeRecording, o: LiveStyleOptions, emit: (info: LiveStyleSampleInfo, frames: Float32Array) => void): Promise<void> {
  const { restart, passes, minOverlap } = checkOptions(o);
  const g = frameGeometry(rec.geometry, o.downsample ?? 1);
  const buf = new Float32Array(o.T * g.height * g.width * 2);
  const stats = o.stats ?? binStats();
  if (o.withWindows) {
    for (const w of rec.windows) {
      if (w.label === undefined) continue;
      const slice = sliceByIndex(rec.events, lowerBoundTime(rec.events, w.tStart), lowerBoundTime(rec.events, w.tEnd));
      const ends = binInto(slice, rec.geometry, w.tStart, w.tEnd, o, stats, buf);
      emit(info(rec, 'window', 0, w.tStart, ends, Infinity, o.T, minOverlap), buf);
    }
  }
  for (let pass = 0; pass < passes; pass++) {
    const rng = new Rng(keyedSeed(o.seed ?? 0, 'live-style', rec.streamId, pass));
    // One batch: whatever a stand-in decision hands back lies in the segmenter's current batch.
    const samples = segmentLive(sourceFromBatches([rec.events]), {
      streamId: rec.streamId,
      geometry: rec.geometry,
      segmentation: o.segmentation ?? DEFAULT_LIVE_SEGMENTATION,
      maxDurationUs: o.binUs * o.T,
    });
    await eachSample(samples, async (s) => {
      const control = new AbortController();
      const pull = s.events.open(control.signal);
      const got = await pull.next();
      const slice = got.done ? sliceByIndex(rec.events, 0, 0) : got.value;
      // The segmenter hands a one-batch stream's sample over in one slice; anything after it is its end.
      const ends = binInto(slice, rec.geometry, s.tStart, Infinity, o, stats, buf);
      const k = restart[0] + rng.int(restart[1] - restart[0] + 1);
      const early = k < ends.length;
      const binned = early ? lowerBoundTime(slice, s.tStart + k * o.binUs) : slice.length;
      if (ends.length > 0) emit(info(rec, 'live', pass, s.tStart, ends, early ? k : Infinity, o.T, minOverlap), buf);
      pull.settle({ unconsumed: slice.length - binned, early });
      control.abort();
    });
  }
}

function info(rec: WholeRecording, kind: 'live' | 'window', pass: number, tStart: number, ends: readonly number[], decidedAt: number, T: number, minOverlap: number): LiveStyleSampleInfo {
  const stepLabels = stepLabelsOf(rec.windows, tStart, ends, T, minOverlap);
  return { streamId: rec.streamId, kind, pass, tStart, tEnd: ends[ends.length - 1] ?? tStart, frames: ends.length, decidedAt, label: stepLabels[T - 1], stepLabels };
}

/** Runs `work` on each sample in turn (the segmenter cuts the next one once `work` settled this one's pull). */
function eachSample(samples: Observable<Sample>, work: (s: Sample) => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const sub = samples.subscribe({
      next: (s) => {
        work(s).catch((err: unknown) => {
          failed = true;
          sub.unsubscribe();
          reject(err);
        });
      },
      error: reject,
      complete: () => {
        if (!failed) resolve();
      },
    });
  });
}

/** Live-style frames of several recordings (read one at a time) as one frame dataset (labels −1 for no gesture), with what each sample is. */
export async function collectLiveStyleFrames(
  recordings: AsyncIterable<WholeRecording> | Iterable<WholeRecording>,
  o: LiveStyleOptions & { readonly classes?: readonly string[]; readonly onProgress?: (recordingsDone: number) => void },
): Promise<{ dataset: FrameDataset; samples: LiveStyleSampleInfo[] }> {
  const chunks: Float32Array[] = [];
  const samples: LiveStyleSampleInfo[] = [];
  const steps: Int32Array[] = [];
  let g: Geometry | undefined;
  let done = 0;
  for await (const rec of recordings) {
    const fg = frameGeometry(rec.geometry, o.downsample ?? 1);
    g ??= fg;
    if (fg.width !== g.width || fg.height !== g.height) throw new RangeError(`${rec.streamId}: ${fg.width}×${fg.height} frames, unlike the ${g.width}×${g.height} of the recordings before it`);
    await cutLiveStyle(rec, o, (info, frames) => {
      samples.push(info);
      steps.push(info.stepLabels);
      chunks.push(frames.slice());
    });
    o.onProgress?.(++done);
  }
  const geometry = g ?? { width: 0, height: 0 };
  const per = o.T * geometry.height * geometry.width * 2;
  const frames = new Float32Array(samples.length * per);
  chunks.forEach((c, i) => frames.set(c, i * per));
  chunks.length = 0;
  const stepLabels = new Int32Array(samples.length * o.T);
  steps.forEach((l, i) => stepLabels.set(l, i * o.T));
  return {
    dataset: { frames, labels: Int32Array.from(samples, (s) => s.label), stepLabels, n: samples.length, T: o.T, height: geometry.height, width: geometry.width, ...(o.classes ? { classes: [...o.classes] } : {}) },
    samples,
  };
}
