/**
 * `spikestream evaluate --live DATASET`: whole recordings of a DVS128-Gesture-layout folder streamed
 * through the live path as fast as possible, decisions scored against the label windows
 * (src/eval/live.ts). Writes REPORT_DIR/live.md, live.json and live-timeline.svg.
 *
 *   spikestream evaluate --live DIR --out REPORT_DIR [--model DIR] [--split test] [--users 24-29]
 *                        [--theta θ] [--thetas 0.3,0.4,… [--store-theta]] [--min-events n] [--json]
 *
 * With --thetas the recordings are streamed once per θ; the report gives every θ's figures and the
 * θ the live rule picks (the lowest meeting every target); --store-theta writes that θ into the
 * model's spikestream.json (choose it on validation users, never on the test users).
 */
import * as path from 'path';
import { forLiveStreams, loadClassifierModel } from '../snn/model/classifier-model';
import { DEFAULT_LIVE_SEGMENTATION, type LiveSegmentation } from '../../streams/core/live-segmenter';
import { openDataset, parseUserList } from '../../streams/sources/open-dataset';
import { chooseLiveTheta, DEFAULT_LIVE_TARGETS, gestureRecordings, scoreLive, streamLive, sweepLiveTheta, withEvents, type LiveThetaPoint } from '../eval/live';
import { storeLiveTheta } from '../eval/live-calibration';
import { liveRows, writeLiveReport } from '../eval/live-report';
import { requireDatasetFolder } from './dataset';
import { UsageError } from './errors';
import { defaultModelDir, readModelInput } from './model-options';
import { checkNumber, parseSplit } from './options';
import { formatTable, printJson } from './output';
import { progressBar } from './progress';

export interface EvaluateLiveCliOptions {
  live: string;
  /** Default: the bundled gesture model. */
  model?: string;
  out: string;
  split?: string;
  users?: string;
  theta?: string;
  thetas?: string;
  storeTheta?: boolean;
  minEvents?: string;
  json?: boolean;
}

/** The segmentation in words, for the report. */
export function describeSegmentation(s: LiveSegmentation): string {
  return s.kind === 'activity'
    ? `activity segmentation: a sample starts when ${s.threshold} events fall in ${s.windowUs / 1000} ms and ends after ${s.quietUs / 1000} ms below that, or after T·bin`
    : `tumbling ${s.durationUs / 1000} ms windows`;
}

/** `--thetas 0.3,0.4,0.5`: θ values in [0, 1], ascending, without repeats. */
export function parseThetaList(spec: string): number[] {
  const values = spec.split(',').map((s) => checkNumber('--thetas', s.trim() === '' ? NaN : Number(s), { min: 0, max: 1 }, s));
  return [...new Set(values)].sort((a, b) => a - b);
}

export async function evaluateLive(o: EvaluateLiveCliOptions): Promise<void> {
  if ((await requireDatasetFolder(o.live)) !== 'dvs-gesture') throw new UsageError(`--live streams whole recordings with label windows: ${o.live} is not in the DVS128 Gesture layout`);
  if (o.storeTheta && !o.thetas) throw new UsageError('--store-theta stores the θ a sweep picks: give --thetas too');
  if (o.theta !== undefined && o.thetas !== undefined) throw new UsageError('give --theta or --thetas, not both');
  // Storing a θ writes into the model: never into the bundled one unasked.
  if (o.storeTheta && o.model === undefined) throw new UsageError('--store-theta writes the picked θ into a model: give --model DIR');
  const modelDir = readModelInput(o.model ?? defaultModelDir()).dir;
  const split = parseSplit(o.split ?? 'test');
  let users: ((u: number) => boolean) | undefined;
  try {
    users = o.users ? parseUserList(o.users) : undefined;
  } catch (err) {
    throw new UsageError(`--users: ${(err as Error).message}`);
  }
  const theta = o.theta !== undefined ? checkNumber('--theta', Number(o.theta), { min: 0, max: 1 }, o.theta) : undefined;
  const minEvents = o.minEvents !== undefined ? checkNumber('--min-events', Number(o.minEvents), { min: 1, integer: true }, o.minEvents) : undefined;
  const thetas = o.thetas ? parseThetaList(o.thetas) : undefined;
  const dir = path.resolve(modelDir);
  // Live streams run with the model's live calibration and θ (forLiveStreams); an explicit --theta wins.
  const model = forLiveStreams(loadClassifierModel(dir, { theta }));
  const recordings = await gestureRecordings(o.live, { split, users });
  if (recordings.length === 0) throw new UsageError(`${o.live}: no ${split} recordings${o.users ? ` of users ${o.users}` : ''}`);
  const data = `${o.live} split=${split}${o.users ? ` users=${o.users}` : ''}`;
  const t0 = performance.now();
  const bar = progressBar('live', { enabled: !o.json, unit: 'recordings' });
  let sweep: LiveThetaPoint[] | undefined;
  let chosen: { theta: number; metTargets: boolean; keptConstraints: boolean } | undefined;
  let runTheta = model.theta;
  let source = `${model.thetaSource}; ${model.stopRule === 'calibrated' ? 'on the calibrated probability, answer at q_t ≥ θ' : "on the paper's c_t, answer at c_t > θ"}`;
  const loaded = await withEvents(recordings);
  if (thetas) {
    // The same recordings' label windows, one sample each: the windowed accuracy a θ must keep.
    const windows = await openDataset(o.live, { split, users });
    bar.start(thetas.length);
    sweep = await sweepLiveTheta(loaded, model, thetas, { minEvents, windowed: () => windows.samples, onTheta: (_t, done) => bar.update(done) });
    bar.stop();
    const c = chooseLiveTheta(sweep, DEFAULT_LIVE_TARGETS);
    chosen = { theta: c.point.theta, metTargets: c.metTargets, keptConstraints: c.keptConstraints };
    runTheta = c.point.theta;
    source = 'live rule on these streams';
  }
  bar.start(recordings.length);
  const streams = await streamLive(loaded, model, { theta: runTheta, minEvents, onStream: (done) => bar.update(done) });
  bar.stop();
  const score = scoreLive(streams);
  const seconds = (performance.now() - t0) / 1000;
  let stored: string | undefined;
  if (o.storeTheta && chosen && sweep) {
    stored = storeLiveTheta(dir, { mode: model.mode, ...chosen, targets: DEFAULT_LIVE_TARGETS, validation: data, sweep });
  }
  const files = writeLiveReport(path.resolve(o.out), {
    model: o.model ?? modelDir,
    data,
    mode: model.mode,
    theta: runTheta,
    thetaSource: source,
    T: model.maxSteps,
    binUs: model.binUs,
    classes: model.classes,
    segmentation: describeSegmentation(DEFAULT_LIVE_SEGMENTATION),
    score,
    streams,
    seconds,
    sweep,
    chosen,
  });
  if (o.json) {
    printJson({ type: 'live', model: dir, data, theta: runTheta, thetaSource: source, score, chosen, sweep: sweep?.map((p) => ({ theta: p.theta, ...p.score, perClass: undefined, windowed: p.windowed })), stored, files, seconds });
    return;
  }
  process.stdout.write(
    `${formatTable(['live figure', 'value'], liveRows(score, model.classes.length))}\n` +
      `${chosen ? `θ = ${chosen.theta} chosen by the live rule${chosen.metTargets ? '' : chosen.keptConstraints ? ' (no θ met every target)' : ' (no θ kept the constraints)'}${stored ? `, stored in ${stored}` : ''}\n` : ''}` +
      `wrote ${files.markdown}, ${files.json} and ${files.figure}\n`,
  );
}
