/**
 * Scoring live decisions against label windows: what a user of a live stream sees. This module is
 * the one live scoring rule: `start` (its ✓/✗ and summary), the viewer's ✓/✗ (through the
 * decisions' `trueLabel`), `evaluate --live` and the docs all use it.
 *
 * THE RULE. A decision belongs to the label window during which it was given:
 * `w.tStart < d.eventTimeUs ≤ w.tEnd` (the deciding frame ended while the gesture was going on).
 * It is right when that window's class is the decision's; a decision given inside no window is
 * given during no gesture (`trueLabel` −1, NO_GESTURE) and is never right. A live stream gives
 * several decisions per gesture (each sample starts at an activity onset or right after the
 * previous decision), some between gestures, some uncertain. Only confident decisions (θ reached)
 * are answers; uncertain ones are counted apart and never scored as answers — but the calibration
 * of the shown confidence is measured over every decision, confident or not.
 *
 *  - decision accuracy: confident decisions inside a window whose class matches it / confident
 *    decisions inside a window;
 *  - gesture recall: windows whose first confident decision is right / all windows (a window with
 *    no confident decision counts as missed);
 *  - time to the first correct decision: from the window's start to the first confident correct
 *    decision inside it (median and p95 over the windows that got one);
 *  - outside share: confident decisions inside no window / all confident decisions; of them, the
 *    late answers name the gesture whose window ended at most `LATE_ANSWER_US` before (a sample
 *    that started during the gesture and decided just after its window closed), the others are
 *    guesses between gestures;
 *  - uncertain share: uncertain decisions / all decisions.
 */
import type { LabelWindow } from '../datasets/dvs-gesture';
import { percentile } from '../confidence/report';
import { eceInterval, reliabilityDiagram, type ReliabilityDiagram } from '../confidence/reliability';
import type { BootstrapOptions, Interval } from '../confidence/stats';
import type { Decision } from '../../streams/types';

/** One live stream: its label windows and the decisions it gave. */
export interface LiveStreamResult {
  readonly streamId: string;
  readonly windows: readonly LabelWindow[];
  readonly decisions: readonly Decision[];
}

export interface LiveScore {
  readonly streams: number;
  /** Label windows (gestures) in all streams. */
  readonly gestures: number;
  readonly decisions: number;
  readonly confident: number;
  readonly uncertain: number;
  /** uncertain / decisions (null when there is none). */
  readonly uncertainShare: number | null;
  /** Confident decisions given inside a window, and how many of them name its class. */
  readonly confidentInside: number;
  readonly correctInside: number;
  readonly decisionAccuracy: number | null;
  /** Confident decisions given inside no window, and their share of all confident decisions. */
  readonly confidentOutside: number;
  readonly outsideShare: number | null;
  /** Answers outside every window that name the gesture whose window ended at most LATE_ANSWER_US before. */
  readonly lateAnswers: number;
  /** Windows with at least one confident decision, and those whose first one is right. */
  readonly gesturesAnswered: number;
  readonly firstCorrect: number;
  readonly gestureRecall: number | null;
  /** Window start → first confident correct decision (ms of sensor time), over the windows that got one. */
  readonly timeToFirstCorrectMs: { readonly n: number; readonly median: number | null; readonly p95: number | null };
  /** SNN steps run over all decisions; steps saved by early decisions (Σ T − steps), and their share. */
  readonly stepsRun: number;
  readonly stepsSaved: number;
  readonly stepsSavedPct: number;
  readonly meanSteps: number | null;
  /** The lowest confidence among confident decisions (near 1/classes would be a guess presented as an answer). */
  readonly minConfidentConfidence: number | null;
  /** Per class (by the window's label): windows, first decision right, confident decisions inside and right. */
  readonly perClass: readonly LiveClassScore[];
  /** How well the shown confidence means what it says, over every decision. */
  readonly calibration: LiveCalibration;
}

export interface LiveClassScore {
  readonly label: number;
  readonly gestures: number;
  readonly firstCorrect: number;
  readonly confidentInside: number;
  readonly correctInside: number;
}

/** The windows a decision at sensor time `t` was given in. */
export function windowsAt(windows: readonly LabelWindow[], t: number): LabelWindow[] {
  return windows.filter((w) => w.tStart < t && t <= w.tEnd);
}

/** `trueLabel` of a decision given during no gesture. */
export const NO_GESTURE = -1;

/** The true class of a live decision under the rule: the class of the window holding its time, NO_GESTURE (−1) inside none. */
export function liveTrueLabel(windows: readonly LabelWindow[], d: Pick<Decision, 'eventTimeUs' | 'label'>): number {
  const ws = windowsAt(windows, d.eventTimeUs);
  const w = ws.find((x) => x.label === d.label) ?? ws[0];
  return w?.label ?? NO_GESTURE;
}

/** Whether a live decision is right under the rule. */
export function isRightLive(windows: readonly LabelWindow[], d: Pick<Decision, 'eventTimeUs' | 'label'>): boolean {
  return liveTrueLabel(windows, d) === d.label;
}

/** The shown confidence of every decision (confident or not) against the rule: ECE with its bootstrap interval and the reliability diagram. */
export interface LiveCalibration {
  readonly n: number;
  readonly ece: Interval;
  readonly reliability: ReliabilityDiagram;
}

/** Calibration of the shown confidence over all decisions of the streams (a decision outside every window counts as wrong). */
export function liveCalibration(streams: readonly LiveStreamResult[], boot: BootstrapOptions = {}): LiveCalibration {
  const conf: number[] = [];
  const right: number[] = [];
  for (const s of streams) {
    for (const d of s.decisions) {
      conf.push(d.confidence);
      right.push(isRightLive(s.windows, d) ? 1 : 0);
    }
  }
  return { n: conf.length, ece: eceInterval(conf, right, undefined, boot), reliability: reliabilityDiagram(conf, right) };
}

/** How long after a window's end an answer naming its gesture counts as late (rather than a guess between gestures). */
export const LATE_ANSWER_US = 500_000;

/** True when `d`, given outside every window, names the gesture whose window ended at most LATE_ANSWER_US before it. */
export function isLateAnswer(windows: readonly LabelWindow[], d: Pick<Decision, 'eventTimeUs' | 'label'>): boolean {
  let last: LabelWindow | undefined;
  for (const w of windows) if (w.tEnd < d.eventTimeUs && (!last || w.tEnd > last.tEnd)) last = w;
  return last !== undefined && last.label === d.label && d.eventTimeUs - last.tEnd <= LATE_ANSWER_US;
}

const ratio = (k: number, n: number): number | null => (n > 0 ? k / n : null);
const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

interface ClassTally {
  gestures: number;
  firstCorrect: number;
  confidentInside: number;
  correctInside: number;
}

/** The counts scoreLive adds up over all streams, before they become shares. */
interface LiveTally {
  gestures: number;
  decisions: number;
  confident: number;
  confidentInside: number;
  correctInside: number;
  gesturesAnswered: number;
  firstCorrect: number;
  stepsRun: number;
  stepsSaved: number;
  minConf: number;
  lateAnswers: number;
  toFirstCorrect: number[];
  perClass: Map<number, ClassTally>;
}

function classTally(tally: LiveTally, label: number): ClassTally {
  let c = tally.perClass.get(label);
  if (!c) tally.perClass.set(label, (c = { gestures: 0, firstCorrect: 0, confidentInside: 0, correctInside: 0 }));
  return c;
}

/** Decision side: each confident answer is inside a labelled window (right or wrong), late, or outside. */
function tallyAnswers(s: LiveStreamResult, answers: readonly LiveStreamResult['decisions'][number][], tally: LiveTally): void {
  for (const d of s.decisions) {
    tally.stepsRun += d.steps;
    if (d.early) tally.stepsSaved += d.maxSteps - d.steps;
  }
  for (const d of answers) {
    tally.minConf = Math.min(tally.minConf, d.confidence);
    const ws = windowsAt(s.windows, d.eventTimeUs);
    if (ws.length === 0) {
      if (isLateAnswer(s.windows, d)) tally.lateAnswers++;
      continue;
    }
    tally.confidentInside++;
    const right = ws.some((w) => w.label === d.label);
    if (right) tally.correctInside++;
    const w = ws.find((x) => x.label === d.label) ?? ws[0];
    if (w.label !== undefined) {
      const c = classTally(tally, w.label);
      c.confidentInside++;
      if (right) c.correctInside++;
    }
  }
}

/** Gesture side: was each window answered, was its first answer right, and how long to the first right one. */
function tallyGestures(s: LiveStreamResult, answers: readonly LiveStreamResult['decisions'][number][], tally: LiveTally): void {
  for (const w of s.windows) {
    tally.gestures++;
    const c = w.label !== undefined ? classTally(tally, w.label) : undefined;
    if (c) c.gestures++;
    const inside = answers.filter((d) => w.tStart < d.eventTimeUs && d.eventTimeUs <= w.tEnd);
    if (inside.length === 0) continue;
    tally.gesturesAnswered++;
    if (inside[0].label === w.label) {
      tally.firstCorrect++;
      if (c) c.firstCorrect++;
    }
    const hit = inside.find((d) => d.label === w.label);
    if (hit) tally.toFirstCorrect.push((hit.eventTimeUs - w.tStart) / 1000);
  }
}

/** Scores live streams (see the file comment). */
export function scoreLive(streams: readonly LiveStreamResult[], boot: BootstrapOptions = {}): LiveScore {
  const tally: LiveTally = {
    gestures: 0,
    decisions: 0,
    confident: 0,
    confidentInside: 0,
    correctInside: 0,
    gesturesAnswered: 0,
    firstCorrect: 0,
    stepsRun: 0,
    stepsSaved: 0,
    minConf: Infinity,
    lateAnswers: 0,
    toFirstCorrect: [],
    perClass: new Map(),
  };
  for (const s of streams) {
    const answers = s.decisions.filter((d) => d.confident).sort((a, b) => a.eventTimeUs - b.eventTimeUs);
    tally.decisions += s.decisions.length;
    tally.confident += answers.length;
    tallyAnswers(s, answers, tally);
    tallyGestures(s, answers, tally);
  }
  const { gestures, decisions, confident, confidentInside, correctInside, gesturesAnswered, firstCorrect } = tally;
  const { stepsRun, stepsSaved, minConf, lateAnswers, toFirstCorrect, perClass } = tally;
  const uncertain = decisions - confident;
  return {
    streams: streams.length,
    gestures,
    decisions,
    confident,
    uncertain,
    uncertainShare: ratio(uncertain, decisions),
    confidentInside,
    correctInside,
    decisionAccuracy: ratio(correctInside, confidentInside),
    confidentOutside: confident - confidentInside,
    outsideShare: ratio(confident - confidentInside, confident),
    lateAnswers,
    gesturesAnswered,
    firstCorrect,
    gestureRecall: ratio(firstCorrect, gestures),
    timeToFirstCorrectMs: { n: toFirstCorrect.length, median: finite(percentile(toFirstCorrect, 50)), p95: finite(percentile(toFirstCorrect, 95)) },
    stepsRun,
    stepsSaved,
    stepsSavedPct: stepsSaved > 0 ? (100 * stepsSaved) / (stepsRun + stepsSaved) : 0,
    meanSteps: ratio(stepsRun, decisions),
    minConfidentConfidence: finite(minConf),
    perClass: [...perClass].sort((a, b) => a[0] - b[0]).map(([label, c]) => ({ label, ...c })),
    calibration: liveCalibration(streams, boot),
  };
}
