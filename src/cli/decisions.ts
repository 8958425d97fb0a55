import { latencyStats } from '../confidence/report';
import { expectedCalibrationErrorOf } from '../confidence/reliability';
import type { Decision } from '../../streams/types';
import { formatCount } from './output';

/**
 * One human line per decision. The fixed-width fields come first and the class column is as wide
 * as the model's longest class name, so the sample id (any length) goes last and never breaks the
 * columns. "after N ms" is sensor time (the deciding frame's end − the sample's start); the JSON
 * `latencyMs` is wall time (the deciding frame's newest event's arrival → the decision).
 */
export function formatDecision(d: Decision, classes: readonly string[]): string {
  const width = classes.reduce((w, c) => Math.max(w, c.length), d.className.length);
  const sensorMs = (d.eventTimeUs - d.sampleStartUs) / 1000;
  const how = d.early ? 'early    ' : d.confident ? '         ' : 'uncertain';
  // An uncertain decision is no answer, so it is never right or wrong: '?' (as in the viewer), its true class beside.
  const truth = !d.confident ? '?' : d.trueLabel === undefined ? ' ' : d.trueLabel === d.label ? '✓' : '✗';
  // trueLabel −1: given during no gesture (the live scoring rule, eval/live-score.ts).
  const trueName = d.trueLabel === undefined ? '' : d.trueLabel < 0 ? 'no gesture' : (classes[d.trueLabel] ?? String(d.trueLabel));
  const was = d.trueLabel === undefined ? '' : !d.confident ? ` (true class ${trueName})` : d.trueLabel !== d.label ? ` (was ${trueName})` : '';
  return `${d.className.padEnd(width)}  conf ${d.confidence.toFixed(3)}  steps ${String(d.steps).padStart(2)}/${d.maxSteps} ${how}  after ${sensorMs.toFixed(0).padStart(5)} ms  ${truth}  ${d.sampleId}${was}`;
}

export interface DecisionSummary {
  decisions: number;
  /** Confident decisions (c_t > θ reached): the answers. */
  answers: number;
  /** Answers given during a gesture (true label ≥ 0: the ones accuracy is over, as `evaluate --live` counts them). */
  labelled: number;
  /** Fraction correct among those answers (null when none); uncertain decisions never count. */
  accuracy: number | null;
  /** Answers given during no gesture (true label −1): reported apart, as `evaluate --live`'s outside share. */
  outsideAnswers: number;
  /** ECE (10 bins) of the shown confidence over every decision with a known truth, confident or not, one outside every gesture counting as wrong (null when none). */
  ece: number | null;
  /** Decisions that reached c_t > θ before T. */
  earlyDecisions: number;
  /** Decisions that never reached θ (taken at T, a window end, a stream end or the wall-time limit): reported apart, not as answers. */
  uncertainDecisions: number;
  /** uncertainDecisions / decisions (0 when there is none). */
  uncertainShare: number;
  /** Uncertain decisions with a true label, and how many of them would have named it (shown apart, never in `accuracy`). */
  labelledUncertain: number;
  uncertainRight: number;
  /** Mean SNN steps used per decision (1…T). */
  meanSteps: number;
  maxSteps: number;
  /** SNN steps run (Σ steps) and saved by early decisions (Σ over early decisions of T − steps), as the engine counts them. */
  stepsRun: number;
  stepsSaved: number;
  /** stepsSaved / (stepsRun + stepsSaved), in percent: 0 when nothing was decided early. */
  stepsSavedPct: number;
  /** Sensor time from sample start to decision, ms. */
  meanSensorLatencyMs: number;
  p95SensorLatencyMs: number;
  /** Wall time from the deciding frame's newest event's arrival to the decision, ms. */
  meanWallLatencyMs: number;
  eventsConsumed: number;
  meanSpikesPerNeuron: number;
}

export function summarizeDecisions(ds: readonly Decision[]): DecisionSummary {
  const n = ds.length;
  const labelled = ds.filter((d) => d.trueLabel !== undefined && d.trueLabel >= 0 && d.confident);
  const known = ds.filter((d) => d.trueLabel !== undefined);
  const correct = labelled.filter((d) => d.trueLabel === d.label).length;
  const uncertain = ds.filter((d) => !d.confident);
  const labelledUncertain = uncertain.filter((d) => d.trueLabel !== undefined);
  const sum = (f: (d: Decision) => number) => ds.reduce((a, d) => a + f(d), 0);
  const stepsRun = sum((d) => d.steps);
  const stepsSaved = sum((d) => (d.early ? d.maxSteps - d.steps : 0));
  const lat = n > 0 ? latencyStats(ds.map((d) => (d.eventTimeUs - d.sampleStartUs) / 1000)) : { mean: 0, p95: 0 };
  return {
    decisions: n,
    answers: n - uncertain.length,
    labelled: labelled.length,
    accuracy: labelled.length > 0 ? correct / labelled.length : null,
    outsideAnswers: ds.filter((d) => d.confident && d.trueLabel !== undefined && d.trueLabel < 0).length,
    ece: known.length > 0 ? expectedCalibrationErrorOf(known.map((d) => d.confidence), known.map((d) => (d.trueLabel === d.label ? 1 : 0))) : null,
    earlyDecisions: ds.filter((d) => d.early).length,
    uncertainDecisions: uncertain.length,
    uncertainShare: n > 0 ? uncertain.length / n : 0,
    labelledUncertain: labelledUncertain.length,
    uncertainRight: labelledUncertain.filter((d) => d.trueLabel === d.label).length,
    meanSteps: n > 0 ? stepsRun / n : 0,
    maxSteps: n > 0 ? Math.max(...ds.map((d) => d.maxSteps)) : 0,
    stepsRun,
    stepsSaved,
    stepsSavedPct: stepsSaved > 0 ? (100 * stepsSaved) / (stepsRun + stepsSaved) : 0,
    meanSensorLatencyMs: lat.mean,
    p95SensorLatencyMs: lat.p95,
    meanWallLatencyMs: n > 0 ? sum((d) => d.latencyMs) / n : 0,
    eventsConsumed: sum((d) => d.eventsConsumed),
    meanSpikesPerNeuron: n > 0 ? sum((d) => d.spikesPerNeuron) / n : 0,
  };
}

/** The closing summary; with no decisions, only that and why it may be (no figures of nothing). */
export function formatSummary(s: DecisionSummary, extra: Record<string, string | number> = {}): string {
  const tail = Object.entries(extra).map(([k, v]) => `${k.padEnd(18)} ${typeof v === 'number' ? formatCount(v) : v}`);
  if (s.decisions === 0) return ['decisions          0 (no sample had enough events to decide on)', ...tail].join('\n');
  const lines = [
    `decisions          ${formatCount(s.decisions)}: ${formatCount(s.answers)} answers (${formatCount(s.earlyDecisions)} early), ${formatCount(s.uncertainDecisions)} uncertain (${(100 * s.uncertainShare).toFixed(1)}%, not answers)`,
    `accuracy           ${s.accuracy === null ? `n/a (no labelled answers)` : `${(100 * s.accuracy).toFixed(2)}% of ${formatCount(s.labelled)} labelled answers`}${s.outsideAnswers > 0 ? `; ${formatCount(s.outsideAnswers)} answers during no gesture` : ''}${s.labelledUncertain > 0 ? ` (uncertain apart: ${formatCount(s.uncertainRight)} of ${formatCount(s.labelledUncertain)} labelled would have been right)` : ''}`,
    ...(s.ece !== null ? [`confidence ECE     ${s.ece.toFixed(3)} (10 bins, every labelled decision; one during no gesture counts as wrong)`] : []),
    `mean steps         ${s.meanSteps.toFixed(2)} of ${s.maxSteps}`,
    `steps saved        ${s.stepsSavedPct.toFixed(1)}% (${formatCount(s.stepsSaved)} of ${formatCount(s.stepsRun + s.stepsSaved)} by early decisions)`,
    `sensor latency     mean ${s.meanSensorLatencyMs.toFixed(0)} ms, p95 ${s.p95SensorLatencyMs.toFixed(0)} ms (sample start → decision, in event time)`,
    `wall latency       mean ${s.meanWallLatencyMs.toFixed(2)} ms (deciding frame's last event arrives → decision)`,
    `spikes per neuron  ${s.meanSpikesPerNeuron.toFixed(3)}`,
    `events consumed    ${formatCount(s.eventsConsumed)}`,
    ...tail,
  ];
  return lines.join('\n');
}
