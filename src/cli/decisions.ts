import { latencyStats } from '../confidence/report';
import type { Decision } from '../../streams/types';

/** One human line per decision: class, confidence, steps used of T, sensor-time latency, truth. */
export function formatDecision(d: Decision, classes: readonly string[]): string {
  const truth = d.trueLabel === undefined ? '' : d.trueLabel === d.label ? '  ✓' : `  ✗ (was ${classes[d.trueLabel] ?? d.trueLabel})`;
  const sensorMs = (d.eventTimeUs - d.sampleStartUs) / 1000;
  return `${d.sampleId.padEnd(22)} ${d.className.padEnd(26)} conf ${d.confidence.toFixed(3)}  steps ${String(d.steps).padStart(2)}/${d.maxSteps}${d.early ? ' early' : '      '}  after ${sensorMs.toFixed(0).padStart(5)} ms of events${truth}`;
}

export interface DecisionSummary {
  decisions: number;
  labelled: number;
  /** Fraction correct among labelled decisions (null when none is labelled). */
  accuracy: number | null;
  meanSteps: number;
  maxSteps: number;
  /** 1 − mean steps / T, in percent. */
  latencySavingPct: number;
  earlyDecisions: number;
  /** Sensor time from sample start to decision, ms. */
  meanSensorLatencyMs: number;
  p95SensorLatencyMs: number;
  /** Wall time from the deciding frame to the decision, ms. */
  meanWallLatencyMs: number;
  eventsConsumed: number;
  meanSpikesPerNeuron: number;
}

export function summarizeDecisions(ds: readonly Decision[]): DecisionSummary {
  const n = ds.length;
  const labelled = ds.filter((d) => d.trueLabel !== undefined);
  const correct = labelled.filter((d) => d.trueLabel === d.label).length;
  const sum = (f: (d: Decision) => number) => ds.reduce((a, d) => a + f(d), 0);
  const maxSteps = n > 0 ? Math.max(...ds.map((d) => d.maxSteps)) : 0;
  const meanSteps = n > 0 ? sum((d) => d.steps) / n : 0;
  const lat = n > 0 ? latencyStats(ds.map((d) => (d.eventTimeUs - d.sampleStartUs) / 1000)) : { mean: 0, p95: 0 };
  return {
    decisions: n,
    labelled: labelled.length,
    accuracy: labelled.length > 0 ? correct / labelled.length : null,
    meanSteps,
    maxSteps,
    latencySavingPct: maxSteps > 0 ? 100 * (1 - meanSteps / maxSteps) : 0,
    earlyDecisions: ds.filter((d) => d.early).length,
    meanSensorLatencyMs: lat.mean,
    p95SensorLatencyMs: lat.p95,
    meanWallLatencyMs: n > 0 ? sum((d) => d.latencyMs) / n : 0,
    eventsConsumed: sum((d) => d.eventsConsumed),
    meanSpikesPerNeuron: n > 0 ? sum((d) => d.spikesPerNeuron) / n : 0,
  };
}

export function formatSummary(s: DecisionSummary, extra: Record<string, string | number> = {}): string {
  const lines = [
    `decisions          ${s.decisions} (${s.earlyDecisions} early)`,
    `accuracy           ${s.accuracy === null ? 'n/a (no labels)' : `${(100 * s.accuracy).toFixed(2)}% of ${s.labelled}`}`,
    `mean steps         ${s.meanSteps.toFixed(2)} of ${s.maxSteps}`,
    `latency saving     ${s.latencySavingPct.toFixed(1)}%`,
    `sensor latency     mean ${s.meanSensorLatencyMs.toFixed(0)} ms, p95 ${s.p95SensorLatencyMs.toFixed(0)} ms`,
    `wall latency       mean ${s.meanWallLatencyMs.toFixed(2)} ms (deciding frame → decision)`,
    `spikes per neuron  ${s.meanSpikesPerNeuron.toFixed(3)}`,
    `events consumed    ${s.eventsConsumed}`,
    ...Object.entries(extra).map(([k, v]) => `${k.padEnd(18)} ${v}`),
  ];
  return lines.join('\n');
}
