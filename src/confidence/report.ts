/**
 * The evaluation report of Dynamic Confidence: one result object (what an evaluator measured),
 * helpers that compute its parts from traces, and a Markdown rendering in the paper's table
 * styles (Table 1: accuracy and mean steps; Table 2: wall-clock time; Table 3: spikes/neuron).
 * Pure functions: the caller writes the strings wherever it likes.
 */
import type { NumericArray, SnnMode } from './confidence';
import { oracleFirstCorrect, oracleStaysCorrect } from './oracle';
import {
  chooseTheta,
  curvePoint,
  EXTENDED_THETA_GRID,
  gridCurve,
  latencySaving,
  lookupTheta,
  paretoFront,
  terminationSteps,
  thresholdCurve,
  type CurvePoint,
  type ThresholdCurve,
} from './threshold';
import { fullTAccuracy, perStepAccuracy, perStepMeanConfidence, type ConfidenceTrace } from './trace';

/** Accuracy (fraction 0..1) and mean time steps of one operating point. */
export interface AccuracySteps {
  readonly accuracy: number;
  readonly meanSteps: number;
}

export interface WithWithout {
  readonly without: number;
  readonly with: number;
}

export interface LatencyStats {
  readonly mean: number;
  readonly p95: number;
}

export interface TerminationHistogram {
  /** counts[t−1] = number of samples that used exactly t steps, t = 1..T. */
  readonly counts: readonly number[];
  /** cumulative[t−1] = fraction of samples that used ≤ t steps. */
  readonly cumulative: readonly number[];
}

export interface PerStepStats {
  /** Accuracy of argmax O_t at step t = 1..T (index t−1). */
  readonly accuracy: readonly number[];
  /** Mean max softmax(O_t/τ) — no α: shows confidence saturation. */
  readonly meanConfidenceNoAlpha?: readonly number[];
  /** Mean max softmax(O_t/(α·τ)). */
  readonly meanConfidenceAlpha: readonly number[];
}

/** Everything a Dynamic Confidence evaluation reports. Accuracies are fractions in [0, 1]. */
export interface EvaluationResult {
  readonly model: string;
  readonly dataset?: string;
  readonly mode: SnnMode;
  /** tfjs backend or runtime that ran the SNN, e.g. 'tensorflow', 'wasm', 'cpu'. */
  readonly backend: string;
  /** Full simulation length T. */
  readonly T: number;
  readonly bits?: number;
  readonly alpha: number;
  readonly tau: number;
  /** Number of evaluated samples and the split the figures come from. */
  readonly n?: number;
  readonly split?: string;
  /** Split θ was chosen on (normally 'validation'). */
  readonly thetaChosenOn?: string;
  readonly calibration?: { readonly nllBefore: number; readonly nllAfter: number; readonly eceBefore: number; readonly eceAfter: number };
  readonly accAnn: number;
  /** The SNN without Dynamic Confidence (all T steps). */
  readonly accSnnT: number;
  /** The SNN with Dynamic Confidence at the chosen θ. */
  readonly dc: AccuracySteps & { readonly theta: number; readonly earlyFraction?: number };
  readonly latencySavingPct: number;
  readonly oracles?: { readonly firstCorrect: AccuracySteps; readonly staysCorrect: AccuracySteps };
  /** Wall-clock ms per inference, batch 1. */
  readonly wallMsPerInference?: WithWithout;
  /** Spikes per neuron per inference (spiking layers only). */
  readonly spikesPerNeuron?: WithWithout;
  /** Decision latency in sensor time (ms from the sample's first event to the end of its deciding frame). */
  readonly decisionLatencyMs?: { readonly without: LatencyStats; readonly with: LatencyStats };
  readonly perStep?: PerStepStats;
  /** The accuracy/mean-steps curve (downsampled for plotting), its Pareto front and the grid points. */
  readonly curve?: { readonly points: readonly CurvePoint[]; readonly pareto: readonly CurvePoint[]; readonly grid?: readonly CurvePoint[] };
  readonly chosen?: CurvePoint;
  readonly terminationHistogram?: TerminationHistogram;
  readonly notes?: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Helpers computing report parts.

/** Histogram of steps used (1..T) with its cumulative fraction. */
export function terminationHistogram(stepsUsed: ArrayLike<number>, T: number): TerminationHistogram {
  const counts = new Array<number>(T).fill(0);
  for (let i = 0; i < stepsUsed.length; i++) {
    const s = stepsUsed[i];
    if (s >= 1 && s <= T) counts[s - 1]++;
  }
  const cumulative = new Array<number>(T);
  let acc = 0;
  const n = stepsUsed.length;
  for (let t = 0; t < T; t++) {
    acc += counts[t];
    cumulative[t] = n > 0 ? acc / n : NaN;
  }
  return { counts, cumulative };
}

/**
 * Average spikes per neuron per inference. `spikeCounts` is row-major [N × T]: the spikes emitted
 * by all spiking neurons of sample i at 0-based step t (for QFFS count |spikes|, negative ones
 * included). With `stepsUsed` (Dynamic Confidence) sample i counts only its first stepsUsed[i]
 * steps; without it all T steps count.
 */
export function spikesPerNeuron(spikeCounts: NumericArray, T: number, neurons: number, stepsUsed?: ArrayLike<number>): number {
  if (!(T > 0) || spikeCounts.length % T !== 0) throw new RangeError(`spikesPerNeuron: ${spikeCounts.length} counts are not N×${T}`);
  if (!(neurons > 0)) throw new RangeError('spikesPerNeuron: neurons must be > 0');
  const n = spikeCounts.length / T;
  if (stepsUsed && stepsUsed.length !== n) throw new RangeError(`spikesPerNeuron: ${stepsUsed.length} step counts for ${n} samples`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const upto = stepsUsed ? Math.max(0, Math.min(T, stepsUsed[i])) : T;
    for (let t = 0; t < upto; t++) total += spikeCounts[i * T + t];
  }
  return n > 0 ? total / n / neurons : NaN;
}

/** Linear-interpolated percentile (p in [0, 100]) of finite values; NaN when none. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) v.push(values[i]);
  if (v.length === 0) return NaN;
  v.sort((a, b) => a - b);
  const r = (Math.min(100, Math.max(0, p)) / 100) * (v.length - 1);
  const lo = Math.floor(r);
  const hi = Math.ceil(r);
  return v[lo] + (v[hi] - v[lo]) * (r - lo);
}

/** Mean and p95 of a set of latencies. */
export function latencyStats(values: ArrayLike<number>): LatencyStats {
  let s = 0;
  let c = 0;
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) {
      s += values[i];
      c++;
    }
  }
  return { mean: c > 0 ? s / c : NaN, p95: percentile(values, 95) };
}

/**
 * Decision latency in sensor time for every sample: the end of its deciding frame, relative to
 * the sample's start. `frameEndMs` is either a fixed bin width in ms (frame t ends at t·bin) or a
 * row-major [N × T] array of frame end offsets in ms (event-count binning).
 */
export function decisionLatencies(stepsUsed: ArrayLike<number>, T: number, frameEndMs: number | NumericArray): Float64Array {
  const n = stepsUsed.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.max(1, Math.min(T, stepsUsed[i]));
    out[i] = typeof frameEndMs === 'number' ? s * frameEndMs : frameEndMs[i * T + s - 1];
  }
  return out;
}

/** Per-step accuracy and mean confidence (with α, and without α when that trace is given). */
export function perStepStats(trace: ConfidenceTrace, traceNoAlpha?: ConfidenceTrace): PerStepStats {
  return {
    accuracy: Array.from(perStepAccuracy(trace)),
    meanConfidenceAlpha: Array.from(perStepMeanConfidence(trace)),
    meanConfidenceNoAlpha: traceNoAlpha ? Array.from(perStepMeanConfidence(traceNoAlpha)) : undefined,
  };
}

/** Keeps at most `max` points of a curve, evenly spaced in index, always keeping both ends. */
export function downsampleCurve(curve: ThresholdCurve, max = 400): CurvePoint[] {
  const len = curve.length;
  if (len <= max) {
    const all: CurvePoint[] = [];
    for (let k = 0; k < len; k++) all.push(curvePoint(curve, k));
    return all;
  }
  const out: CurvePoint[] = [];
  for (let j = 0; j < max; j++) out.push(curvePoint(curve, Math.round((j * (len - 1)) / (max - 1))));
  return out;
}

export interface TraceAnalysis {
  readonly curve: ThresholdCurve;
  readonly pareto: CurvePoint[];
  readonly grid: CurvePoint[];
  /** The chosen (or given) operating point on this trace. */
  readonly chosen: CurvePoint;
  readonly accSnnT: number;
  readonly latencySavingPct: number;
  readonly stepsUsed: Int32Array;
  readonly oracles: { readonly firstCorrect: AccuracySteps; readonly staysCorrect: AccuracySteps };
  readonly terminationHistogram: TerminationHistogram;
  readonly perStep: PerStepStats;
}

/**
 * Everything a trace alone gives. Without `theta`, θ is chosen on this trace (validation):
 * lowest mean steps with accuracy ≥ full-T accuracy − ε. With `theta` (chosen on validation,
 * applied to a test trace) the point at that θ is reported.
 */
export function analyzeTrace(
  trace: ConfidenceTrace,
  options: { readonly theta?: number; readonly epsilon?: number; readonly traceNoAlpha?: ConfidenceTrace; readonly grid?: readonly number[] } = {},
): TraceAnalysis {
  const curve = thresholdCurve(trace);
  const pareto = paretoFront(curve);
  const accSnnT = fullTAccuracy(trace);
  const chosen =
    options.theta !== undefined ? lookupTheta(curve, options.theta) : (chooseTheta(curve, accSnnT, options.epsilon ?? 0) ?? curvePoint(curve, 0));
  const theta = options.theta ?? chosen.theta;
  const stepsUsed = terminationSteps(trace, theta);
  const a = oracleFirstCorrect(trace);
  const b = oracleStaysCorrect(trace);
  return {
    curve,
    pareto,
    grid: gridCurve(trace, options.grid ?? EXTENDED_THETA_GRID),
    chosen: { ...chosen, theta },
    accSnnT,
    latencySavingPct: latencySaving(chosen.meanSteps, trace.steps),
    stepsUsed,
    oracles: {
      firstCorrect: { accuracy: a.accuracy, meanSteps: a.meanSteps },
      staysCorrect: { accuracy: b.accuracy, meanSteps: b.meanSteps },
    },
    terminationHistogram: terminationHistogram(stepsUsed, trace.steps),
    perStep: perStepStats(trace, options.traceNoAlpha),
  };
}

// ---------------------------------------------------------------------------------------------
// Markdown.

function pct(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '—' : (x * 100).toFixed(digits);
}
function num(x: number | undefined, digits = 2): string {
  return x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits);
}
function thetaStr(x: number): string {
  if (x === Infinity) return '+∞';
  if (x === -Infinity) return '−∞';
  return Number.isInteger(x * 100) ? x.toFixed(2) : x.toPrecision(6);
}
function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [`| ${head.map(cell).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export interface MarkdownOptions {
  /** Relative paths of the SVG figures to link, when the caller writes them. */
  readonly figures?: { readonly accuracyConfidence?: string; readonly pareto?: string; readonly histogram?: string };
  /** Max rows of the Pareto table. */
  readonly maxParetoRows?: number;
}

/** The report as Markdown, in the paper's table styles. */
export function renderMarkdown(r: EvaluationResult, options: MarkdownOptions = {}): string {
  const out: string[] = [];
  const name = `${r.model}${r.dataset ? ` on ${r.dataset}` : ''}`;
  out.push(`# Dynamic Confidence — ${name}`);
  out.push('');
  const meta = [
    `mode ${r.mode}`,
    `T = ${r.T}`,
    r.bits !== undefined ? `${r.bits}-bit activations` : undefined,
    `α = ${num(r.alpha, 4)}`,
    `τ = ${num(r.tau, 4)}`,
    `θ = ${thetaStr(r.dc.theta)}${r.thetaChosenOn ? ` (chosen on ${r.thetaChosenOn})` : ''}`,
    `backend ${r.backend}`,
    r.n !== undefined ? `${r.n} samples${r.split ? ` (${r.split})` : ''}` : undefined,
  ].filter((s): s is string => s !== undefined);
  out.push(meta.join(' · '));
  out.push('');

  out.push('## Table 1 — accuracy and latency');
  out.push('');
  out.push(
    table(
      ['Model', 'Method', 'Acc(ANN)(%)', 'Acc(SNN)(%)', 'Averaged time steps', 'Latency saving(%)'],
      [
        [r.model, r.mode, pct(r.accAnn), pct(r.accSnnT), String(r.T), ''],
        [r.model, `${r.mode} + Dynamic Confidence`, pct(r.accAnn), pct(r.dc.accuracy), num(r.dc.meanSteps), num(r.latencySavingPct, 0)],
      ],
    ),
  );
  out.push('');

  if (r.wallMsPerInference) {
    out.push('## Table 2 — wall-clock time per inference (ms, batch 1)');
    out.push('');
    const w = r.wallMsPerInference;
    out.push(
      table(
        ['Model', 'Backend', 'without Dynamic Confidence', 'with Dynamic Confidence', 'Speed-up'],
        [[r.model, r.backend, num(w.without, 3), num(w.with, 3), w.with > 0 ? `${num(w.without / w.with)}×` : '—']],
      ),
    );
    out.push('');
  }
  if (r.spikesPerNeuron) {
    out.push('## Table 3 — spikes per neuron per inference');
    out.push('');
    const s = r.spikesPerNeuron;
    out.push(table(['Model', 'without Dynamic Confidence', 'with Dynamic Confidence'], [[`${r.model}, ${r.mode}`, num(s.without), num(s.with)]]));
    out.push('');
  }
  if (r.decisionLatencyMs) {
    out.push('## Decision latency (sensor time, ms)');
    out.push('');
    const d = r.decisionLatencyMs;
    out.push(
      table(
        ['', 'mean', 'p95'],
        [
          ['without Dynamic Confidence', num(d.without.mean, 1), num(d.without.p95, 1)],
          ['with Dynamic Confidence', num(d.with.mean, 1), num(d.with.p95, 1)],
        ],
      ),
    );
    out.push('');
  }
  if (r.oracles) {
    out.push('## Upper bounds (oracles, use the labels)');
    out.push('');
    out.push(
      table(
        ['Strategy', 'Accuracy(%)', 'Mean time steps'],
        [
          ['SNN, all T steps', pct(r.accSnnT), String(r.T)],
          [`Dynamic Confidence (θ = ${thetaStr(r.dc.theta)})`, pct(r.dc.accuracy), num(r.dc.meanSteps)],
          ['Oracle: first correct step (paper)', pct(r.oracles.firstCorrect.accuracy), num(r.oracles.firstCorrect.meanSteps)],
          ['Oracle: correct from here to T', pct(r.oracles.staysCorrect.accuracy), num(r.oracles.staysCorrect.meanSteps)],
        ],
      ),
    );
    out.push('');
  }
  if (r.calibration) {
    const c = r.calibration;
    out.push('## Calibration (temperature scaling on ANN validation logits)');
    out.push('');
    out.push(
      table(
        ['', 'NLL', 'ECE (15 bins)'],
        [
          ['before (τ = 1)', num(c.nllBefore, 4), num(c.eceBefore, 4)],
          [`after (τ = ${num(r.tau, 4)})`, num(c.nllAfter, 4), num(c.eceAfter, 4)],
        ],
      ),
    );
    out.push('');
  }
  if (r.curve) {
    out.push('## Threshold search');
    out.push('');
    if (r.chosen) {
      out.push(
        `Chosen θ = ${thetaStr(r.chosen.theta)} (every θ in [${thetaStr(r.chosen.thetaMin)}, ${thetaStr(r.chosen.thetaMax)}) gives the same result): ` +
          `${pct(r.chosen.accuracy)}% in ${num(r.chosen.meanSteps)} mean steps.`,
      );
      out.push('');
    }
    const maxRows = options.maxParetoRows ?? 20;
    const pf = r.curve.pareto;
    const step = pf.length > maxRows ? (pf.length - 1) / (maxRows - 1) : 1;
    const rows: string[][] = [];
    const seen = new Set<number>();
    for (let j = 0; j < Math.min(maxRows, pf.length); j++) {
      const k = Math.round(j * step);
      if (seen.has(k)) continue;
      seen.add(k);
      const p = pf[k];
      rows.push([thetaStr(p.theta), `[${thetaStr(p.thetaMin)}, ${thetaStr(p.thetaMax)})`, pct(p.accuracy), num(p.meanSteps)]);
    }
    out.push(`Pareto front (${pf.length} points${pf.length > maxRows ? `, ${rows.length} shown` : ''}):`);
    out.push('');
    out.push(table(['θ', 'θ interval', 'Accuracy(%)', 'Mean time steps'], rows));
    out.push('');
    if (r.curve.grid && r.curve.grid.length > 0) {
      out.push("Paper's grid:");
      out.push('');
      out.push(
        table(
          ['θ', 'Accuracy(%)', 'Mean time steps', 'Early (%)'],
          r.curve.grid.map((p) => [thetaStr(p.theta), pct(p.accuracy), num(p.meanSteps), pct(p.earlyFraction, 1)]),
        ),
      );
      out.push('');
    }
  }
  if (r.terminationHistogram) {
    const h = r.terminationHistogram;
    out.push('## Termination steps');
    out.push('');
    const rows: string[][] = [];
    for (let t = 0; t < h.counts.length; t++) if (h.counts[t] > 0) rows.push([String(t + 1), String(h.counts[t]), pct(h.cumulative[t], 1)]);
    out.push(table(['Steps used', 'Samples', 'Cumulative (%)'], rows));
    out.push('');
  }
  const f = options.figures;
  if (f && (f.accuracyConfidence || f.pareto || f.histogram)) {
    out.push('## Figures');
    out.push('');
    if (f.accuracyConfidence) out.push(`![Accuracy and mean confidence against t](${f.accuracyConfidence})`);
    if (f.pareto) out.push(`![Accuracy against mean time steps](${f.pareto})`);
    if (f.histogram) out.push(`![Termination steps](${f.histogram})`);
    out.push('');
  }
  if (r.notes && r.notes.length > 0) {
    out.push('## Notes');
    out.push('');
    for (const n of r.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}
