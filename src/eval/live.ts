/**
 * Live evaluation: whole recordings streamed through the live path (`classifyLive`: activity
 * segmentation, a new sample right after each decision, the one engine) as fast as possible, and
 * their decisions scored against the label windows (live-score.ts). This is what a user of a live
 * sensor gets, unlike the windowed evaluation (evaluate.ts), which classifies each label window
 * as one sample that starts when the gesture starts.
 *
 * Decisions depend on the events alone (not on batching or on how many streams share the
 * runner), so recordings are streamed several at a time through one batched scheduler.
 */
import { lastValueFrom, toArray, type Observable } from 'rxjs';
import { concatBatches, type EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { loadGestureDataset, parseTrialName, type GestureSplit, type LabelWindow } from '../datasets/dvs-gesture';
import { eventFileGeometry, readEventFile } from 'aedat-parser-ts/node';
import { SnnRunner } from '../snn/runner';
import { SnnScheduler } from '../snn/scheduler';
import type { ClassifierModel } from '../snn/model/classifier-model';
import { sourceFromBatches, type EventSource } from '../../streams/core/event-source';
import type { LiveSegmentation } from '../../streams/core/live-segmenter';
import { classify } from '../../streams/operators/classify';
import { classifyLive } from '../../streams/operators/classify-live';
import { eventFileSource } from '../../streams/sources/from-event-file';
import type { Decision, Sample } from '../../streams/types';
import { scoreLive, type LiveScore, type LiveStreamResult } from './live-score';
import { DEFAULT_SLOTS } from '../defaults';

export { isLateAnswer, LATE_ANSWER_US, scoreLive, windowsAt, type LiveClassScore, type LiveScore, type LiveStreamResult } from './live-score';

/** One recording to stream: its file, stream id, label windows and (optionally) its events already in memory. */
export interface LiveRecording {
  readonly file: string;
  readonly streamId: string;
  readonly windows: readonly LabelWindow[];
  readonly geometry: Geometry;
  /** The whole recording in one batch (for repeated runs, e.g. a θ sweep); read from `file` when absent. */
  readonly events?: EventBatch;
}

/**
 * The recordings of a DVS128-Gesture-layout folder's split (trials lists + labels CSVs), each with
 * all of its label windows, in trials-list order. `users` keeps only some users.
 */
export async function gestureRecordings(dir: string, o: { split?: GestureSplit; users?: (user: number) => boolean } = {}): Promise<LiveRecording[]> {
  const ds = await loadGestureDataset(dir, { split: o.split ?? 'test' });
  const byFile = new Map<string, { windows: LabelWindow[]; user: number }>();
  for (const s of ds.samples) {
    if (o.users && !o.users(s.user)) continue;
    let r = byFile.get(s.file);
    if (!r) byFile.set(s.file, (r = { windows: [], user: s.user }));
    r.windows.push({ tStart: s.tStart, tEnd: s.tEnd, label: s.label, id: s.id });
  }
  const out: LiveRecording[] = [];
  for (const [file, r] of byFile) {
    const base = file.replace(/^.*[\\/]/, '');
    out.push({ file, streamId: parseTrialName(base)?.base ?? base, windows: r.windows, geometry: (await eventFileGeometry(file)) ?? ds.geometry });
  }
  return out;
}

/** The recordings with their events read into memory once (one batch each). */
export async function withEvents(recordings: readonly LiveRecording[]): Promise<LiveRecording[]> {
  const out: LiveRecording[] = [];
  for (const r of recordings) {
    if (r.events) {
      out.push(r);
      continue;
    }
    const batches: EventBatch[] = [];
    for await (const b of readEventFile(r.file)) batches.push(b);
    out.push({ ...r, events: concatBatches(batches) });
  }
  return out;
}

export interface LiveRunOptions {
  /** θ override (default: the model's). */
  readonly theta?: number;
  readonly segmentation?: LiveSegmentation;
  /** Recordings streamed at once through the shared scheduler (default 4). */
  readonly concurrency?: number;
  /** A sample with fewer binned events gets no decision (the service's `--min-events`; default 1). */
  readonly minEvents?: number;
  readonly onStream?: (done: number, total: number) => void;
}

function sourceOf(r: LiveRecording): EventSource {
  return r.events ? sourceFromBatches([r.events]) : eventFileSource(r.file);
}

/** Streams every recording live, as fast as possible, and returns each one's decisions with its windows. */
export async function streamLive(recordings: readonly LiveRecording[], model: ClassifierModel, o: LiveRunOptions = {}): Promise<LiveStreamResult[]> {
  const concurrency = Math.max(1, Math.min(o.concurrency ?? 4, recordings.length));
  const scheduler = new SnnScheduler(new SnnRunner(model.net, concurrency));
  const results: LiveStreamResult[] = new Array(recordings.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < recordings.length) {
      const i = next++;
      const r = recordings[i];
      const decisions: Decision[] = await lastValueFrom(
        classifyLive(r.streamId, r.geometry, sourceOf(r), { model, scheduler, theta: o.theta, segmentation: o.segmentation, minEvents: o.minEvents }).pipe(toArray()),
      );
      results[i] = { streamId: r.streamId, windows: r.windows, decisions };
      o.onStream?.(++done, recordings.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/** Windowed accuracy at one θ: each label window one sample, every sample's decision counted (as the windowed report does). */
export interface WindowedPoint {
  readonly n: number;
  readonly accuracy: number;
  readonly meanSteps: number;
  /** Accuracy at T (no early stop) minus accuracy at this θ. */
  readonly loss: number;
}

/** One θ of a sweep: its live score, and its windowed accuracy on the same recordings' label windows when asked for. */
export interface LiveThetaPoint {
  readonly theta: number;
  readonly score: LiveScore;
  readonly windowed?: WindowedPoint;
}

/**
 * What a live θ must reach on validation streams (fractions, except the saving in %). The first
 * three are targets; `minStepsSavedPct` and `maxWindowedLoss` are constraints a θ must keep first.
 */
export interface LiveTargets {
  readonly decisionAccuracy: number;
  readonly gestureRecall: number;
  readonly maxOutsideShare: number;
  readonly minStepsSavedPct: number;
  readonly maxWindowedLoss: number;
}

export const DEFAULT_LIVE_TARGETS: LiveTargets = { decisionAccuracy: 0.95, gestureRecall: 0.9, maxOutsideShare: 0.1, minStepsSavedPct: 50, maxWindowedLoss: 0.01 };

/** True when a θ keeps the constraints: steps saved, and the windowed loss against T when it was measured. */
export function keepsConstraints(p: LiveThetaPoint, t: LiveTargets = DEFAULT_LIVE_TARGETS): boolean {
  return p.score.stepsSavedPct >= t.minStepsSavedPct && (p.windowed === undefined || p.windowed.loss <= t.maxWindowedLoss + 1e-12);
}

/** How far a score is from the targets: the largest shortfall over the three (0 when all are met). */
export function targetShortfall(s: LiveScore, t: LiveTargets = DEFAULT_LIVE_TARGETS): number {
  return Math.max(0, t.decisionAccuracy - (s.decisionAccuracy ?? 0), t.gestureRecall - (s.gestureRecall ?? 0), (s.outsideShare ?? 1) - t.maxOutsideShare);
}

/**
 * The live θ rule: among the θ that keep the constraints (steps saved; windowed accuracy within
 * `maxWindowedLoss` of T), the lowest whose validation streams meet every target (the fewest steps
 * that keep the answers trustworthy); when none does, the one with the smallest shortfall (ties:
 * lower θ). When no θ keeps the constraints, the smallest shortfall over all of them.
 */
export function chooseLiveTheta(points: readonly LiveThetaPoint[], t: LiveTargets = DEFAULT_LIVE_TARGETS): { point: LiveThetaPoint; metTargets: boolean; keptConstraints: boolean } {
  if (points.length === 0) throw new RangeError('chooseLiveTheta: no θ to choose from');
  const sorted = [...points].sort((a, b) => a.theta - b.theta);
  const feasible = sorted.filter((p) => keepsConstraints(p, t));
  const pool = feasible.length > 0 ? feasible : sorted;
  const ok = pool.find((p) => targetShortfall(p.score, t) === 0);
  if (ok) return { point: ok, metTargets: feasible.length > 0, keptConstraints: feasible.length > 0 };
  let best = pool[0];
  for (const p of pool) if (targetShortfall(p.score, t) < targetShortfall(best.score, t)) best = p;
  return { point: best, metTargets: false, keptConstraints: feasible.length > 0 };
}

/** Classifies every sample (a label window each) at `theta`: accuracy over all samples and mean steps. */
export async function windowedRun(samples: Observable<Sample>, model: ClassifierModel, theta: number, slots = DEFAULT_SLOTS): Promise<{ n: number; accuracy: number; meanSteps: number }> {
  const scheduler = new SnnScheduler(new SnnRunner(model.net, slots));
  const ds = await lastValueFrom(samples.pipe(classify({ model, scheduler, theta, concurrency: slots }), toArray()));
  const n = ds.length;
  return { n, accuracy: n > 0 ? ds.filter((d) => d.label === d.trueLabel).length / n : NaN, meanSteps: n > 0 ? ds.reduce((a, d) => a + d.steps, 0) / n : NaN };
}

/**
 * Streams the recordings once per θ (events read once) and scores each run; with `windowed` (the
 * same recordings' label windows as samples, opened anew per call), also each θ's windowed
 * accuracy and its loss against T.
 */
export async function sweepLiveTheta(
  recordings: readonly LiveRecording[],
  model: ClassifierModel,
  thetas: readonly number[],
  o: Omit<LiveRunOptions, 'theta'> & { windowed?: () => Observable<Sample>; onTheta?: (theta: number, done: number, total: number) => void } = {},
): Promise<LiveThetaPoint[]> {
  const loaded = await withEvents(recordings);
  const atT = o.windowed ? await windowedRun(o.windowed(), model, 1) : undefined;
  const points: LiveThetaPoint[] = [];
  for (const theta of thetas) {
    const streams = await streamLive(loaded, model, { ...o, theta });
    const w = o.windowed && atT ? await windowedRun(o.windowed(), model, theta) : undefined;
    points.push({ theta, score: scoreLive(streams), ...(w && atT ? { windowed: { ...w, loss: atT.accuracy - w.accuracy } } : {}) });
    o.onTheta?.(theta, points.length, thetas.length);
  }
  return points;
}
