/** The live evaluation's report: Markdown, JSON (figures and every decision, compact) and the timeline SVG. */
import * as fs from 'fs';
import * as path from 'path';
import { num, pct, table, thetaStr } from '../confidence/markdown-format';
import { wilson } from '../confidence/stats';
import { plotReliability } from '../confidence/plot-reliability';
import { plotLiveTimeline } from './live-figure';
import { DEFAULT_LIVE_TARGETS, targetShortfall, type LiveTargets, type LiveThetaPoint } from './live';
import { LATE_ANSWER_US, type LiveScore, type LiveStreamResult } from './live-score';

export interface LiveReportInput {
  readonly model: string;
  readonly data: string;
  readonly mode: string;
  readonly theta: number;
  readonly thetaSource: string;
  readonly T: number;
  readonly binUs?: number;
  readonly classes: readonly string[];
  readonly segmentation: string;
  readonly score: LiveScore;
  readonly streams: readonly LiveStreamResult[];
  readonly seconds: number;
  /** A θ sweep on these streams, and the θ the live rule picks from it. */
  readonly sweep?: readonly LiveThetaPoint[];
  readonly chosen?: { readonly theta: number; readonly metTargets: boolean; readonly keptConstraints?: boolean };
  readonly targets?: LiveTargets;
}

const ci = (k: number, n: number): string => {
  if (n === 0) return '—';
  const w = wilson(k, n);
  return `${pct(w.value)} [${pct(w.lo, 1)}, ${pct(w.hi, 1)}] (${k}/${n})`;
};

/** The headline figures as Markdown table rows (also used for the README). */
export function liveRows(s: LiveScore, classes: number): string[][] {
  const ttf = s.timeToFirstCorrectMs;
  return [
    ['decision accuracy (answers inside a gesture window that name it)', ci(s.correctInside, s.confidentInside)],
    ['first answer right (gesture recall)', ci(s.firstCorrect, s.gestures)],
    ['gestures that got an answer', `${s.gesturesAnswered}/${s.gestures}`],
    ['gesture start → first right answer, median (p95)', ttf.n > 0 ? `${num(ttf.median ?? NaN, 0)} ms (${num(ttf.p95 ?? NaN, 0)} ms), ${ttf.n} gestures` : '—'],
    ['answers outside every window', ci(s.confidentOutside, s.confident)],
    [`… of them late: naming the gesture that ended ≤ ${LATE_ANSWER_US / 1000} ms before`, `${s.lateAnswers} (the other ${s.confidentOutside - s.lateAnswers}: guesses between gestures)`],
    ['uncertain decisions (not answers)', ci(s.uncertain, s.decisions)],
    ['decisions / answers', `${s.decisions} / ${s.confident}`],
    ['mean steps per decision', num(s.meanSteps ?? NaN)],
    ['steps saved by early decisions', `${s.stepsSavedPct.toFixed(1)} %`],
    ['ECE of the shown confidence, every decision', `${num(s.calibration.ece.value, 3)} [${num(s.calibration.ece.lo, 3)}, ${num(s.calibration.ece.hi, 3)}]`],
    ['lowest confidence of an answer (chance = 1/classes)', `${num(s.minConfidentConfidence ?? NaN, 3)} (chance ${num(1 / classes, 3)})`],
  ];
}

/** Below this many times chance (1/classes) an answer would be a guess presented as an answer. */
export const NEAR_CHANCE_FACTOR = 2;

function targetRows(s: LiveScore, t: LiveTargets, classes: number): string[][] {
  const met = (ok: boolean) => (ok ? 'met' : '**missed**');
  const floor = NEAR_CHANCE_FACTOR / classes;
  return [
    ['no answer near chance', `confidence ≥ ${num(floor, 3)} (${NEAR_CHANCE_FACTOR} × 1/${classes})`, num(s.minConfidentConfidence ?? NaN, 3), met((s.minConfidentConfidence ?? 1) >= floor)],
    ['decision accuracy', `≥ ${pct(t.decisionAccuracy, 0)} %`, `${pct(s.decisionAccuracy ?? NaN)} %`, met((s.decisionAccuracy ?? 0) >= t.decisionAccuracy)],
    ['first answer right', `≥ ${pct(t.gestureRecall, 0)} %`, `${pct(s.gestureRecall ?? NaN)} %`, met((s.gestureRecall ?? 0) >= t.gestureRecall)],
    ['answers outside every window', `≤ ${pct(t.maxOutsideShare, 0)} %`, `${pct(s.outsideShare ?? NaN)} %`, met((s.outsideShare ?? 1) <= t.maxOutsideShare)],
    ['steps saved', `≥ ${t.minStepsSavedPct} %`, `${s.stepsSavedPct.toFixed(1)} %`, met(s.stepsSavedPct >= t.minStepsSavedPct)],
    ['ECE of the shown confidence, every decision', `≤ ${LIVE_ECE_TARGET}`, num(s.calibration.ece.value, 3), met(s.calibration.ece.value <= LIVE_ECE_TARGET)],
  ];
}

/** The calibration a live user should be able to trust: ECE (10 bins) of the shown confidence over every decision. */
export const LIVE_ECE_TARGET = 0.05;

/** The shown confidence's calibration over every decision (confident or not). */
function calibrationLines(s: LiveScore): string[] {
  const c = s.calibration;
  const e = c.ece;
  return [
    '## Shown confidence',
    '',
    `Every decision shows a confidence; a calibrated one is the probability that the decision is right under the rule above. Over all ${c.n} decisions, confident or not (one given outside every gesture window counts as wrong): ECE ${num(e.value, 3)} [${num(e.lo, 3)}, ${num(e.hi, 3)}] (10 equal-width bins, 95 % bootstrap interval over decisions); mean confidence ${num(c.reliability.meanConfidence, 3)}, share right ${num(c.reliability.accuracyAll, 3)}.`,
    '',
    '![reliability of the live decisions\' confidence](live-reliability.svg)',
    '',
  ];
}

export function renderLiveMarkdown(r: LiveReportInput): string {
  const s = r.score;
  const t = r.targets ?? DEFAULT_LIVE_TARGETS;
  const out = [
    '# Live evaluation',
    '',
    `Model \`${r.model}\` (${r.mode}, T = ${r.T}${r.binUs ? `, ${r.binUs / 1000} ms bins` : ''}), θ = ${thetaStr(r.theta)} (${r.thetaSource}). Data: ${r.data} — ${s.streams} recordings, ${s.gestures} labelled gestures, streamed whole through the live path (${r.segmentation}; a new sample right after each decision) as fast as possible in ${r.seconds.toFixed(1)} s.`,
    '',
    'The live scoring rule (src/eval/live-score.ts, used by `start`, the viewer and this report): a decision belongs to the label window during which it was given (window start < decision time ≤ window end, in sensor time) and is right when it names that window\'s gesture; one given inside no window is given during no gesture and is never right. Only confident decisions (θ reached) are answers; uncertain ones are counted apart and are never scored as answers. A gesture with no answer counts as missed in the recall. 95 % Wilson intervals in brackets.',
    '',
    table(['figure', 'value'], liveRows(s, r.classes.length)),
    '',
    table(['target', 'goal', 'here', ''], targetRows(s, t, r.classes.length)),
    '',
    ...calibrationLines(s),
  ];
  if (r.sweep && r.sweep.length > 0) {
    out.push(
      '## θ on these streams',
      '',
      `The live θ rule: among the θ that keep the constraints — steps saved ≥ ${t.minStepsSavedPct} % and, on the same recordings' label windows (one sample each), accuracy at most ${pct(t.maxWindowedLoss, 0)} point${t.maxWindowedLoss === 0.01 ? '' : 's'} below the SNN at T — the lowest that meets every target above; when none does, the one with the smallest shortfall.${r.chosen ? ` Here: θ = ${thetaStr(r.chosen.theta)}${r.chosen.metTargets ? ' (meets the targets)' : r.chosen.keptConstraints === false ? ' (no θ keeps the constraints)' : ' (no θ meets every target)'}.` : ''}`,
      '',
      table(
        ['θ', 'decision accuracy (%)', 'first answer right (%)', 'outside (%)', 'uncertain (%)', 'median to first right (ms)', 'mean steps', 'steps saved (%)', 'windowed accuracy (%)', 'windowed loss (points)', 'shortfall (points)'],
        r.sweep.map((p) => [
          thetaStr(p.theta),
          pct(p.score.decisionAccuracy ?? NaN),
          pct(p.score.gestureRecall ?? NaN),
          pct(p.score.outsideShare ?? NaN),
          pct(p.score.uncertainShare ?? NaN),
          num(p.score.timeToFirstCorrectMs.median ?? NaN, 0),
          num(p.score.meanSteps ?? NaN),
          p.score.stepsSavedPct.toFixed(1),
          p.windowed ? pct(p.windowed.accuracy) : '—',
          p.windowed ? pct(p.windowed.loss) : '—',
          pct(targetShortfall(p.score, t), 1),
        ]),
      ),
      '',
    );
  }
  out.push(
    '## Per class',
    '',
    table(
      ['class', 'gestures', 'first answer right', 'answers inside', 'right'],
      s.perClass.map((c) => [r.classes[c.label] ?? String(c.label), String(c.gestures), `${c.firstCorrect}/${c.gestures}`, String(c.confidentInside), c.confidentInside > 0 ? `${pct(c.correctInside / c.confidentInside, 1)} %` : '—']),
    ),
    '',
    '![live timeline](live-timeline.svg)',
    '',
    'Live versus windowed figures: the windowed evaluation (report.md) classifies each label window as one sample that starts when the gesture starts and gives one decision per gesture. A live stream does not know where gestures start: its samples start at activity onsets (often in the move into a gesture) and again right after each decision, so it gives several decisions per gesture, some in the moves between gestures; the figures above count what a user of a live stream sees.',
    '',
  );
  return out.join('\n');
}

/** Writes live.md, live.json and live-timeline.svg into `dir`; returns their paths. */
export function writeLiveReport(dir: string, r: LiveReportInput): { markdown: string; json: string; figure: string; reliability: string } {
  fs.mkdirSync(dir, { recursive: true });
  const files = { markdown: path.join(dir, 'live.md'), json: path.join(dir, 'live.json'), figure: path.join(dir, 'live-timeline.svg'), reliability: path.join(dir, 'live-reliability.svg') };
  fs.writeFileSync(files.markdown, renderLiveMarkdown(r));
  const json = {
    format: 'spikestream-live-evaluation',
    version: 1,
    model: r.model,
    data: r.data,
    mode: r.mode,
    theta: r.theta,
    thetaSource: r.thetaSource,
    T: r.T,
    binUs: r.binUs,
    segmentation: r.segmentation,
    seconds: r.seconds,
    score: r.score,
    targets: r.targets ?? DEFAULT_LIVE_TARGETS,
    sweep: r.sweep,
    chosen: r.chosen,
    // Every decision, compactly: [sample start µs, decision µs, label, confidence, steps, confident].
    streams: r.streams.map((s) => ({
      streamId: s.streamId,
      windows: s.windows.map((w) => [w.tStart, w.tEnd, w.label ?? -1]),
      decisions: s.decisions.map((d) => [d.sampleStartUs, d.eventTimeUs, d.label, +d.confidence.toFixed(4), d.steps, d.confident ? 1 : 0]),
    })),
  };
  fs.writeFileSync(files.json, JSON.stringify(json) + '\n');
  fs.writeFileSync(files.figure, plotLiveTimeline(r.streams, r.classes));
  const e = r.score.calibration.ece;
  fs.writeFileSync(files.reliability, plotReliability([{ label: 'every live decision', diagram: r.score.calibration.reliability, ece: e }], 'Reliability of the live decisions\' confidence'));
  return files;
}
