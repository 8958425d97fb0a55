/**
 * Augmenting a whole labelled recording (its events and its label windows together): one draw per
 * recording of each transform in transforms.ts, from the ranges of an `AugmentSpec`, seeded.
 *
 * Per recording, not per event window, because a live-style training set is cut from whole
 * recordings: a camera placed elsewhere (shift, scale, rotation), a person moving slower (time
 * skew, which moves the label windows too), a room of the opposite contrast (polarity flip), or the
 * mirror image (flip left-right, with the labels swapped by `mirrorLabels`: left ↔ right arm,
 * clockwise ↔ counter-clockwise). The drops act per piece of `pieceUs` (default 1.6 s, one
 * sample's span at the bundled binning), so a long recording loses short stretches and small
 * areas, as one sample would, not a whole gesture.
 */
import type { Geometry } from '../geometry';
import { concatBatches, lowerBoundTime, sliceByIndex, type EventBatch } from '../event-batch';
import {
  dropEvent,
  dropEventByArea,
  dropEventByTime,
  flipLR,
  flipPolarity,
  spatialAffine,
  spatialJitter,
  timeSkew,
  uniformNoise,
  type AffineParams,
  type AugmentStats,
  type Rng,
} from './transforms';

/** The largest draw of each transform (0 disables it). */
export interface AugmentSpec {
  /** Probability of swapping ON and OFF. */
  readonly flipPolarity: number;
  /** Probability of mirroring left-right (labels swapped). */
  readonly flipLR: number;
  /** Largest σ (px) of the per-event jitter, drawn uniformly in [0, max]. */
  readonly spatialJitter: number;
  /** Largest |dx|, |dy| (px). */
  readonly spatialShift: number;
  /** Largest |scale − 1|. */
  readonly spatialScale: number;
  /** Largest |rotation| (degrees). */
  readonly spatialRotation: number;
  /** Time-skew coefficient drawn log-uniformly in [1/max, max] (max ≥ 1; 1 disables). */
  readonly timeSkew: number;
  /** Largest share of events dropped at random. */
  readonly dropEvent: number;
  /** Largest share of each piece's time dropped (one interval per piece). */
  readonly dropEventByTime: number;
  /** Largest share of the sensor's area dropped (one box per piece). */
  readonly dropEventByArea: number;
  /** Largest rate of uniform noise added (Hz per pixel). */
  readonly uniformNoise: number;
}

/** Spec names, as on the command line (Tonic's transform names in kebab case). */
export const AUGMENT_NAMES: Readonly<Record<keyof AugmentSpec, string>> = {
  flipPolarity: 'flip-polarity',
  flipLR: 'flip-lr',
  spatialJitter: 'spatial-jitter',
  spatialShift: 'spatial-shift',
  spatialScale: 'spatial-scale',
  spatialRotation: 'spatial-rotation',
  timeSkew: 'time-skew',
  dropEvent: 'drop-event',
  dropEventByTime: 'drop-event-by-time',
  dropEventByArea: 'drop-event-by-area',
  uniformNoise: 'uniform-noise',
};

export const NO_AUGMENT: AugmentSpec = {
  flipPolarity: 0, flipLR: 0, spatialJitter: 0, spatialShift: 0, spatialScale: 0, spatialRotation: 0,
  timeSkew: 1, dropEvent: 0, dropEventByTime: 0, dropEventByArea: 0, uniformNoise: 0,
};

/** What the bundled gesture model's training used (`--augment default`). */
export const DEFAULT_AUGMENT: AugmentSpec = {
  flipPolarity: 0.5, flipLR: 0.5, spatialJitter: 0.7, spatialShift: 12, spatialScale: 0.15, spatialRotation: 8,
  timeSkew: 1.4, dropEvent: 0.2, dropEventByTime: 0.1, dropEventByArea: 0.1, uniformNoise: 0.5,
};

/** `default`, `none`, or `[default,]name=value,…` (names not given: 0, or the default's with `default,`). */
export function parseAugmentSpec(text: string): AugmentSpec {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  let spec: Record<string, number> = { ...NO_AUGMENT };
  const byName = new Map(Object.entries(AUGMENT_NAMES).map(([k, v]) => [v, k]));
  for (const part of parts) {
    if (part === 'default') spec = { ...DEFAULT_AUGMENT };
    else if (part === 'none') spec = { ...NO_AUGMENT };
    else {
      const m = /^([a-z-]+)=([0-9.]+)$/.exec(part);
      const key = m ? byName.get(m[1]) : undefined;
      if (!m || !key) throw new RangeError(`augment: '${part}' is not name=value with a name of ${Object.values(AUGMENT_NAMES).join(', ')} (or default, none)`);
      spec[key] = Number(m[2]);
    }
  }
  const out = spec as unknown as AugmentSpec;
  for (const k of ['flipPolarity', 'flipLR', 'dropEvent', 'dropEventByTime', 'dropEventByArea'] as const) {
    if (!(out[k] >= 0 && out[k] <= 1)) throw new RangeError(`augment: ${AUGMENT_NAMES[k]} must be in [0, 1] (got ${out[k]})`);
  }
  if (!(out.timeSkew >= 1)) throw new RangeError(`augment: time-skew must be ≥ 1 (got ${out.timeSkew})`);
  return out;
}

/** The spec as text that `parseAugmentSpec` reads back. */
export function formatAugmentSpec(spec: AugmentSpec): string {
  return (Object.keys(AUGMENT_NAMES) as (keyof AugmentSpec)[]).map((k) => `${AUGMENT_NAMES[k]}=${spec[k]}`).join(',');
}

export interface LabelledWindow {
  readonly tStart: number;
  readonly tEnd: number;
  readonly label?: number;
}

/** What `augmentRecording` needs of a recording; other fields are kept. */
export interface AugmentableRecording {
  readonly geometry: Geometry;
  readonly windows: readonly LabelledWindow[];
  readonly events: EventBatch;
}

/** What was drawn for one recording. */
export interface AugmentDraw {
  readonly flippedPolarity: boolean;
  readonly flippedLR: boolean;
  readonly affine: AffineParams;
  readonly jitterSigma: number;
  readonly skew: number;
  readonly dropRatio: number;
  readonly dropTimeRatio: number;
  readonly dropAreaRatio: number;
  readonly noiseHz: number;
}

export interface AugmentRecordingOptions {
  /** Label → its mirror image's label (required when flipLR > 0). */
  readonly mirrorLabels?: readonly number[];
  /** Piece length (µs) the drops act on. Default 1.6 s. */
  readonly pieceUs?: number;
  readonly stats?: AugmentStats;
}

/** Draws the recording's transforms from `spec`. */
export function drawAugment(spec: AugmentSpec, rng: Rng): AugmentDraw {
  const sym = (max: number) => (max > 0 ? rng.uniform(-max, max) : 0);
  const upTo = (max: number) => (max > 0 ? rng.uniform(0, max) : 0);
  return {
    flippedPolarity: rng.next() < spec.flipPolarity,
    flippedLR: rng.next() < spec.flipLR,
    affine: { dx: sym(spec.spatialShift), dy: sym(spec.spatialShift), scale: 1 + sym(spec.spatialScale), angleRad: (sym(spec.spatialRotation) * Math.PI) / 180 },
    jitterSigma: upTo(spec.spatialJitter),
    skew: spec.timeSkew > 1 ? Math.exp(rng.uniform(-Math.log(spec.timeSkew), Math.log(spec.timeSkew))) : 1,
    dropRatio: upTo(spec.dropEvent),
    dropTimeRatio: upTo(spec.dropEventByTime),
    dropAreaRatio: upTo(spec.dropEventByArea),
    noiseHz: upTo(spec.uniformNoise),
  };
}

/** One augmented copy of a recording: events transformed, windows moved by the time skew, labels mirrored with a left-right flip. */
export function augmentRecording<R extends AugmentableRecording>(rec: R, spec: AugmentSpec, rng: Rng, o: AugmentRecordingOptions = {}): { recording: R; draw: AugmentDraw } {
  if (spec.flipLR > 0 && !o.mirrorLabels) throw new RangeError('augment: flip-lr needs the labels of the mirror images (mirrorLabels)');
  const d = drawAugment(spec, rng);
  const g = rec.geometry;
  let ev = rec.events;
  if (d.flippedPolarity) ev = flipPolarity(ev);
  if (d.flippedLR) ev = flipLR(ev, g);
  if (d.affine.dx !== 0 || d.affine.dy !== 0 || d.affine.scale !== 1 || d.affine.angleRad !== 0) ev = spatialAffine(ev, g, d.affine, o.stats);
  if (d.jitterSigma > 0) ev = spatialJitter(ev, g, d.jitterSigma, rng, o.stats);
  if (d.skew !== 1) ev = timeSkew(ev, d.skew);
  if (d.dropRatio > 0) ev = dropEvent(ev, d.dropRatio, rng, o.stats);
  ev = perPiece(ev, o.pieceUs ?? 1_600_000, (piece, t0, t1) => {
    let p = piece;
    if (d.dropTimeRatio > 0) p = dropEventByTime(p, d.dropTimeRatio, rng, t0, t1, o.stats);
    if (d.dropAreaRatio > 0) p = dropEventByArea(p, g, d.dropAreaRatio, rng, o.stats);
    return p;
  });
  if (d.noiseHz > 0 && ev.length > 0) {
    const t0 = ev.t[0];
    const t1 = ev.t[ev.length - 1] + 1;
    ev = uniformNoise(ev, g, (d.noiseHz * g.width * g.height * (t1 - t0)) / 1e6, rng, t0, t1, o.stats);
  }
  const mirror = o.mirrorLabels;
  const windows = rec.windows.map((w) => ({
    ...w,
    tStart: Math.round(w.tStart * d.skew),
    tEnd: Math.round(w.tEnd * d.skew),
    ...(w.label !== undefined && d.flippedLR && mirror ? { label: mirror[w.label] ?? w.label } : {}),
  }));
  return { recording: { ...rec, events: ev, windows }, draw: d };
}

/** Applies `fn` to consecutive pieces [t0 + k·pieceUs, …) of the batch and joins the results in order. */
function perPiece(ev: EventBatch, pieceUs: number, fn: (piece: EventBatch, t0: number, t1: number) => EventBatch): EventBatch {
  if (ev.length === 0) return ev;
  const parts: EventBatch[] = [];
  const start = ev.t[0];
  let i = 0;
  for (let t0 = start; i < ev.length; t0 += pieceUs) {
    const j = lowerBoundTime(ev, t0 + pieceUs);
    parts.push(fn(sliceByIndex(ev, i, j), t0, t0 + pieceUs));
    i = j;
  }
  return concatBatches(parts);
}
