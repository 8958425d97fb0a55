/**
 * Stores a θ chosen on live validation streams (`evaluate --live … --thetas … --store-theta`) in
 * a model's spikestream.json, beside the windowed calibration it replaces as the deployed θ:
 *
 *   calibration.modes[mode].liveTheta                  the live θ, under the calibrated stop rule
 *                                                      (live streams' own θ; windowed θ unchanged;
 *                                                      stopRules.calibratedLive, chosen by another rule, dropped)
 *   calibration.theta, calibration.modes[mode].theta   the live θ, under the paper's c_t rule
 *                                                      (thetaRule and deployedRule 'live'; the windowed
 *                                                      θ's figures dropped: they are not this θ's)
 *   calibration.live = { theta, mode, windowedTheta, rule, targets, metTargets, validation, sweep }
 *
 * α and τ stay the windowed calibration's; the windowed θ rules stay stored with their figures.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { ModelMeta } from '../snn/model/model-file';
import type { LiveTargets, LiveThetaPoint } from './live';

export interface LiveThetaChoice {
  readonly mode: string;
  readonly theta: number;
  readonly metTargets: boolean;
  readonly keptConstraints: boolean;
  readonly targets: LiveTargets;
  /** What the θ was chosen on (dataset, split, users). */
  readonly validation: string;
  readonly sweep: readonly LiveThetaPoint[];
}

/** Writes `choice` into DIR/spikestream.json (re-read just before writing, replaced atomically); returns its path. */
export function storeLiveTheta(dir: string, choice: LiveThetaChoice): string {
  const file = path.join(dir, 'spikestream.json');
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelMeta;
  if (meta.format !== 'spikestream-model') throw new Error(`${file} is not a spikestream model`);
  const cal = { ...((meta.calibration ?? { alpha: null, tau: null }) as Record<string, unknown>) };
  const modes = { ...((cal.modes ?? {}) as Record<string, Record<string, unknown>>) };
  const entry = modes[choice.mode];
  if (!entry || typeof entry.alpha !== 'number') throw new Error(`${file}: mode ${choice.mode} is not calibrated (run \`spikestream calibrate\` first: α and τ come from it)`);
  const prevLive = cal.live as { windowedTheta?: number; mode?: string } | undefined;
  const windowedTheta = prevLive?.mode === choice.mode && typeof prevLive.windowedTheta === 'number' && entry.deployedRule === 'live' ? prevLive.windowedTheta : entry.theta;
  // (with the calibrated rule the windowed θ is not replaced, only live streams' θ)
  // Under the calibrated rule live streams have their own θ (liveTheta); the windowed θ stays. The
  // θ this replaces was chosen by another rule: its validation figures go with it.
  const calibrated = entry.stopRule === 'calibrated' && entry.liveConfidence !== undefined;
  const stopRules = { ...((entry.stopRules ?? {}) as Record<string, unknown>) };
  if (calibrated) delete stopRules.calibratedLive;
  const staleFigures = { accAtTheta: undefined, meanSteps: undefined, latencySavingPct: undefined, earlyFraction: undefined, thetaInterval: undefined };
  modes[choice.mode] = calibrated
    ? { ...entry, liveTheta: choice.theta, liveThetaRule: 'live', stopRules }
    : { ...entry, theta: choice.theta, thetaRule: 'live', deployedRule: 'live', ...staleFigures };
  cal.modes = modes;
  if (!calibrated && (cal.mode ?? meta.conversion.mode) === choice.mode) Object.assign(cal, { theta: choice.theta, thetaRule: 'live', ...staleFigures });
  cal.live = {
    theta: choice.theta,
    mode: choice.mode,
    windowedTheta,
    rule: 'among the θ keeping the constraints (steps saved, windowed accuracy against T), the lowest meeting every target on the live validation streams (else the smallest shortfall)',
    targets: choice.targets,
    metTargets: choice.metTargets,
    keptConstraints: choice.keptConstraints,
    validation: choice.validation,
    sweep: choice.sweep.map((p) => ({
      theta: p.theta,
      decisionAccuracy: p.score.decisionAccuracy,
      gestureRecall: p.score.gestureRecall,
      outsideShare: p.score.outsideShare,
      uncertainShare: p.score.uncertainShare,
      meanSteps: p.score.meanSteps,
      stepsSavedPct: p.score.stepsSavedPct,
      ...(p.windowed ? { windowedAccuracy: p.windowed.accuracy, windowedLoss: p.windowed.loss } : {}),
    })),
  };
  meta.calibration = cal as ModelMeta['calibration'];
  const tmp = path.join(dir, `.spikestream.json.${process.pid}.tmp`);
  fs.writeFileSync(tmp, JSON.stringify(meta, null, 2) + '\n');
  fs.renameSync(tmp, file);
  return file;
}
