/**
 * `spikestream evaluate` — the Dynamic Confidence report of a calibrated model on a test frames
 * file (the paper's tables 1–3 and figures 1–4, per operating point: QCFS at the model's T, QFFS at
 * each calibrated T).
 *
 *   spikestream evaluate --model DIR --data TEST.ssf --out REPORT_DIR [--val VAL.ssf] [--mode qcfs|qffs|both]
 *                        [--timing-samples 100] [--batch 32] [--slots 64] [--backend wasm] [--json]
 *
 * θ, α and τ come from the model's calibration (θ chosen on validation, never on the test split);
 * when a mode is uncalibrated and --val is given, `calibrate` runs on it first (and writes the
 * model's spikestream.json). Writes REPORT_DIR/report.md, report.json and the SVG figures
 * ({mode}-T{T}-fig1-accuracy-steps.svg, -fig2-accuracy-confidence.svg, -fig3-theta-grid.svg,
 * -fig4-termination.svg). See src/eval/evaluate.ts.
 */
import type { Command } from 'commander';
import * as path from 'path';
import { evaluateModel, type EvaluateOutput } from '../eval/evaluate';
import { initBackend } from '../snn/backend';
import { loadModelDir, readFramesFor, parseConfidenceOptions, parseRunnerOptions, pct, runnerOptions, withPhaseProgress } from './calibrate';
import { formatTable, printJson, UsageError } from './output';
import { evaluateLive, type EvaluateLiveCliOptions } from './evaluate-live';
import { evaluateRobustnessCli } from './evaluate-robustness';

interface EvaluateCliOptions extends Omit<EvaluateLiveCliOptions, 'live'> {
  live?: string; robustness?: boolean; baseline?: string; cache?: string; perturbations?: string;
  data?: string; val?: string; out: string; mode: string; timingSamples: string; batch: string; slots: string;
  epsilon: string; alpha: string; backend?: string; json?: boolean;
}

function num(x: number | undefined, d = 2): string {
  return x !== undefined && Number.isFinite(x) ? x.toFixed(d) : '-';
}

/** The key figures of each mode (what --json prints, with the file paths). */
export function summarize(out: EvaluateOutput): Record<string, unknown> {
  return {
    files: out.files,
    calibratedNow: out.calibration ? Object.keys(out.calibration.modes) : [],
    results: out.results.map((r) => ({
      mode: r.conversion, T: r.T, n: r.n, alpha: r.alpha, tau: r.tau, theta: r.dc.theta,
      accAnn: r.accAnn, accSnnT: r.accSnnT, accDc: r.dc.accuracy, meanSteps: r.dc.meanSteps, latencySavingPct: r.latencySavingPct,
      oracles: r.oracles, wallMs: r.wallMs, backend: r.backend, spikesPerNeuron: r.spikesPerNeuron, decisionLatencyMs: r.decisionLatencyMs,
    })),
  };
}

export function register(program: Command): void {
  const command = program
    .command('evaluate')
    .description('evaluate a calibrated model with Dynamic Confidence on a test frames file: report.md, report.json and SVG figures')
    .option('--model <dir>', 'model directory or bundled model name (required with --data; with --live the default is the bundled gesture model)')
    .option('--data <file>', 'test frames file (.ssf); required unless --live')
    .requiredOption('--out <dir>', 'report directory')
    .option('--live <dir>', 'instead: stream the whole recordings of this DVS128-Gesture-layout folder live and score the decisions against the label windows (live.md, live.json, live-timeline.svg)')
    .option('--split <split>', 'with --live: train, test or all (default test)')
    .option('--users <list>', 'with --live: users to keep, e.g. 24-29')
    .option('--theta <θ>', "with --live: θ (default: the model's)")
    .option('--thetas <list>', 'with --live: stream once per θ (e.g. 0.3,0.4,0.5) and report each; the live rule picks one')
    .option('--store-theta', "with --live --thetas: store the picked θ in the model's spikestream.json (validation users only)")
    .option('--min-events <n>', 'with --live: a sample with fewer binned events gets no decision (default 1)')
    .option('--robustness', 'instead: re-render the held-out synthetic users with one perturbation at a time and report accuracy (T and DC), mean steps and ECE per perturbation (robustness.md, .json, .svg)')
    .option('--baseline <dir>', 'with --robustness: also evaluate this model (e.g. the one before) and draw it beside')
    .option('--cache <dir>', 'with --robustness: where the perturbed recordings are written and reused (default OUT/recordings)')
    .option('--perturbations <list>', 'with --robustness: only these (default all; see dataset synth-gestures --perturb)')
    .option('--val <file>', 'validation frames file: calibrate on it first when a mode is uncalibrated')
    .option('--mode <mode>', 'qcfs | qffs | both', 'both')
    .option('--timing-samples <n>', 'test samples timed one by one at batch 1 (Table 2); 0 skips', '100')
    .option('--epsilon <x>', 'for calibration with --val: accuracy loss allowed', '0')
    .option('--alpha <a>', 'for calibration with --val: auto | fit | a number', 'auto');
  runnerOptions(command)
    .action(async (o: EvaluateCliOptions) => {
      if (o.live !== undefined) return evaluateLive({ ...o, live: o.live });
      if (o.robustness) return evaluateRobustnessCli(o);
      if (o.data === undefined) throw new UsageError('give --data TEST.ssf (or --live DATASET)');
      if (o.model === undefined) throw new UsageError('give --model DIR: the model to evaluate on --data');
      const data = o.data;
      const { modes, alpha, epsilon } = parseConfidenceOptions(o);
      const timingSamples = Number(o.timingSamples);
      if (!Number.isInteger(timingSamples) || timingSamples < 0) throw new UsageError(`--timing-samples must be an integer ≥ 0 (got '${o.timingSamples}')`);
      const { batchSize, slots } = parseRunnerOptions(o);
      const model = loadModelDir(o.model);
      const test = readFramesFor(data, model, '--data');
      const val = o.val ? readFramesFor(o.val, model, '--val') : undefined;
      const backend = await initBackend(o.backend, o.json ? { log: () => undefined } : {});
      const out = await withPhaseProgress(o.json, (onProgress) =>
        evaluateModel(model, test, {
          modes, validation: val, validationName: val ? (val.header.dataset ?? path.basename(o.val!)) : undefined,
          dataName: test.header.dataset ?? path.basename(data), binning: test.header.binning, outDir: path.resolve(o.out),
          timingSamples, slots, batchSize, epsilon, alpha, annBackend: backend, onProgress,
        }),
      );
      if (o.json) {
        printJson(summarize(out));
        return;
      }
      const rows = out.results.map((r) => [
        r.mode, pct(r.accAnn), pct(r.accSnnT), pct(r.dc.accuracy), num(r.dc.meanSteps), String(r.T), num(r.latencySavingPct, 1),
        `${num(r.wallMsPerInference?.without, 3)} / ${num(r.wallMsPerInference?.with, 3)}`,
        `${num(r.spikesPerNeuron?.without)} / ${num(r.spikesPerNeuron?.with)}`,
      ]);
      process.stdout.write(
        formatTable(['mode', 'ANN (%)', 'SNN T (%)', 'DC (%)', 'mean steps', 'T', 'saving (%)', 'ms/inf w/o / with', 'spikes/neuron w/o / with'], rows) +
          `\nwrote ${out.files!.markdown}, ${out.files!.json} and ${out.files!.figures.length} figures\n`,
      );
    });
}
