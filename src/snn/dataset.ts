/** In-memory frame datasets for training and evaluation (no I/O; see frames-file.ts for the file format). */

export interface FrameDataset {
  /** [n, T, height, width, 2] event counts (NHWC per frame, channel 0 = OFF, 1 = ON). */
  frames: Float32Array;
  /** [n] class indices. */
  labels: Int32Array;
  /**
   * [n, T] optional: the class of each prefix — what the SNN has integrated when it decides at step
   * k (1…T) — when it differs along a sample (a live-style cut: a sample that starts in the move into
   * a gesture, or runs past its end). Training shows the mean of the first k frames with class
   * stepLabels[i·T + k − 1]. −1: no class.
   */
  stepLabels?: Int32Array;
  n: number;
  T: number;
  height: number;
  width: number;
  classes?: string[];
}

export function validateDataset(ds: FrameDataset, what = 'dataset'): void {
  for (const k of ['n', 'T', 'height', 'width'] as const) {
    if (!Number.isInteger(ds[k]) || ds[k] < 1) throw new Error(`${what}: ${k} must be a positive integer (got ${ds[k]})`);
  }
  const expect = ds.n * ds.T * ds.height * ds.width * 2;
  if (ds.frames.length !== expect) throw new Error(`${what}: frames has ${ds.frames.length} values, expected n·T·H·W·2 = ${expect}`);
  if (ds.labels.length !== ds.n) throw new Error(`${what}: labels has ${ds.labels.length} entries, expected ${ds.n}`);
  if (ds.stepLabels && ds.stepLabels.length !== ds.n * ds.T) throw new Error(`${what}: stepLabels has ${ds.stepLabels.length} entries, expected n·T = ${ds.n * ds.T}`);
}

/** The class of sample i's prefix of k frames: its step label when the dataset has them, else its label. */
export function labelAt(ds: FrameDataset, i: number, k: number): number {
  return ds.stepLabels ? ds.stepLabels[i * ds.T + Math.min(Math.max(k, 1), ds.T) - 1] : ds.labels[i];
}

/** Frame t of sample i (a view, not a copy). */
export function frameOf(ds: FrameDataset, i: number, t: number): Float32Array {
  const size = ds.height * ds.width * 2;
  const o = (i * ds.T + t) * size;
  return ds.frames.subarray(o, o + size);
}

/**
 * Writes the mean of sample i's first k frames into out (H·W·2), shifted by (dy, dx) pixels with
 * zero fill — the ANN's view of what the SNN has integrated after k steps.
 */
export function meanOfFirstK(ds: FrameDataset, i: number, k: number, out: Float32Array, dy = 0, dx = 0, outOffset = 0): void {
  const H = ds.height, W = ds.width, size = H * W * 2;
  out.fill(0, outOffset, outOffset + size);
  const inv = 1 / k;
  for (let t = 0; t < k; t++) {
    const base = (i * ds.T + t) * size;
    for (let y = 0; y < H; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= H) continue;
      for (let x = 0; x < W; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= W) continue;
        const si = base + (sy * W + sx) * 2, di = outOffset + (y * W + x) * 2;
        out[di] += ds.frames[si] * inv;
        out[di + 1] += ds.frames[si + 1] * inv;
      }
    }
  }
}

/**
 * Several frame datasets as one (samples in order), e.g. a training set from several frames files.
 * They must agree on T, height, width and class names; step labels are kept when any has them
 * (a sample without them gets its own label at every step).
 */
export function concatFrameDatasets(parts: readonly FrameDataset[], what = 'datasets'): FrameDataset {
  if (parts.length === 0) throw new Error(`${what}: nothing to join`);
  if (parts.length === 1) return parts[0];
  const [first] = parts;
  for (const [i, p] of parts.entries()) {
    if (p.T !== first.T || p.height !== first.height || p.width !== first.width) {
      throw new Error(`${what}: part ${i + 1} has T = ${p.T}, ${p.height}×${p.width}; part 1 has T = ${first.T}, ${first.height}×${first.width}`);
    }
    if (p.classes && first.classes && p.classes.join('\n') !== first.classes.join('\n')) throw new Error(`${what}: part ${i + 1} has other class names than part 1`);
  }
  const n = parts.reduce((a, p) => a + p.n, 0);
  const frames = new Float32Array(parts.reduce((a, p) => a + p.frames.length, 0));
  const labels = new Int32Array(n);
  const withSteps = parts.some((p) => p.stepLabels);
  const stepLabels = withSteps ? new Int32Array(n * first.T) : undefined;
  let offFrames = 0;
  let offSamples = 0;
  for (const p of parts) {
    frames.set(p.frames, offFrames);
    labels.set(p.labels, offSamples);
    if (stepLabels) {
      if (p.stepLabels) stepLabels.set(p.stepLabels, offSamples * first.T);
      else for (let i = 0; i < p.n; i++) stepLabels.fill(p.labels[i], (offSamples + i) * first.T, (offSamples + i + 1) * first.T);
    }
    offFrames += p.frames.length;
    offSamples += p.n;
  }
  return { frames, labels, ...(stepLabels ? { stepLabels } : {}), n, T: first.T, height: first.height, width: first.width, ...(first.classes ? { classes: first.classes } : {}) };
}
