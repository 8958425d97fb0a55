import { lastValueFrom, toArray } from 'rxjs';
import type { FrameDataset } from '../../src/snn/dataset';
import type { InputBinning } from '../../src/snn/model/model-file';
import { frameGeometry, binStats, type BinStats } from '../core/binner';
import { FrameCursor } from '../core/frame-cursor';
import type { LabelledDataset } from '../sources/open-dataset';
import type { Sample } from '../types';

export interface FrameDatasetOptions extends InputBinning {
  onProgress?(done: number, total: number): void;
  stats?: BinStats;
}

/** The first T frames of one sample (empty frames pad a short sample), written into `out`. */
export async function binSampleInto(sample: Sample, o: FrameDatasetOptions, out: Float32Array): Promise<number> {
  const cursor = new FrameCursor({
    geometry: sample.geometry,
    sampleId: sample.id,
    tStart: Number.isFinite(sample.tStart) ? sample.tStart : undefined,
    tEnd: sample.tEnd,
    binUs: o.binUs,
    eventsPerBin: o.binUs === undefined ? o.eventsPerBin : undefined,
    downsample: o.downsample ?? 1,
    encoding: o.encoding,
    rampSteps: o.rampSteps ?? o.T,
    maxSteps: o.T,
    stats: o.stats,
  });
  const control = new AbortController();
  const events = sample.events.open(control.signal);
  out.fill(0);
  let frames = 0;
  try {
    for (;;) {
      const f = cursor.next();
      if (f) {
        out.set(f.data, f.step * f.data.length);
        frames++;
        continue;
      }
      if (cursor.finished || !cursor.needsInput) break;
      const r = await events.next();
      if (r.done) cursor.end();
      else cursor.feed(r.value);
    }
  } finally {
    control.abort();
  }
  return frames;
}

/**
 * Bins every sample of a dataset into T frames of the model's input size: the training,
 * calibration and evaluation input (`spikestream frames`). Samples are read one at a time.
 */
export async function collectFrameDataset(ds: LabelledDataset, o: FrameDatasetOptions): Promise<FrameDataset> {
  if (!Number.isInteger(o.T) || o.T < 1) throw new RangeError(`T must be a positive integer, got ${o.T}`);
  const g = frameGeometry(ds.geometry, o.downsample ?? 1);
  const samples = await lastValueFrom(ds.samples.pipe(toArray()));
  const perSample = o.T * g.height * g.width * 2;
  const frames = new Float32Array(samples.length * perSample);
  const labels = new Int32Array(samples.length);
  const stats = o.stats ?? binStats();
  for (let i = 0; i < samples.length; i++) {
    labels[i] = samples[i].label ?? -1;
    await binSampleInto(samples[i], { ...o, stats }, frames.subarray(i * perSample, (i + 1) * perSample));
    o.onProgress?.(i + 1, samples.length);
  }
  return { frames, labels, n: samples.length, T: o.T, height: g.height, width: g.width, classes: [...ds.classes] };
}
