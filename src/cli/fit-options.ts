/**
 * `--fit crop|scale|pad` and `--roi x,y,w,h`: how a recording or sensor of another size reaches
 * the model's input (streams/operators/fit.ts does the work). Without them a size mismatch is an
 * error that names these options.
 */
import type { Command } from 'commander';
import type { Geometry } from '../events/geometry';
import { describeFitPlan, FIT_MODES, FitError, formatGeometry, parseRoiSpec, planFit, type FitMode, type FitPlan, type FitSettings } from '../../streams/operators/fit';
import type { Roi } from '../../streams/operators/roi';
import { UsageError } from './errors';
import { parseChoice } from './options';

/** What `--fit` and `--roi` give: the one fit-settings type every transport takes. */
export type FitCliOptions = FitSettings;

/** `x,y,w,h` in sensor pixels. */
export function parseRoi(value: string): Roi {
  try {
    return parseRoiSpec(value);
  } catch (err) {
    if (err instanceof FitError) throw new UsageError(`--${err.message}`);
    throw err;
  }
}

export function addFitOptions(cmd: Command, scope = ''): Command {
  return cmd
    .option('--fit <how>', `bring a sensor of another size to the model's input${scope}: crop (centre), scale (downsample to fit, centred) or pad (centre a smaller one)`, parseChoice('--fit', FIT_MODES))
    .option('--roi <x,y,w,h>', `keep this rectangle of the sensor first${scope} (then --fit if it still differs)`, parseRoi);
}

/** The fit of a sensor to a model's input size, checked up front; a mismatch is a usage error that names the fix. */
export function checkFit(sensor: Geometry, target: Geometry, o: FitCliOptions, what: string): FitPlan {
  try {
    return planFit({ sensor, target, fit: o.fit, roi: o.roi });
  } catch (err) {
    if (err instanceof FitError) throw new UsageError(`${what}: ${err.message}`);
    throw err;
  }
}

export interface FitAdvice {
  /** The model's sensor-size input. */
  readonly target: Geometry;
  readonly fitsAsIs: boolean;
  /** What each --fit would do, or why it cannot. */
  readonly options: Readonly<Record<FitMode, string>>;
}

/** What each `--fit` would do to this sensor for this model (for `info`). */
export function fitAdvice(sensor: Geometry, target: Geometry): FitAdvice {
  const fitsAsIs = sensor.width === target.width && sensor.height === target.height;
  const options = {} as Record<FitMode, string>;
  for (const fit of FIT_MODES) {
    try {
      options[fit] = describeFitPlan(planFit({ sensor, target, fit }));
    } catch (err) {
      options[fit] = `not possible: ${(err as Error).message}`;
    }
  }
  return { target, fitsAsIs, options };
}

/** One line for `info`: whether the sensor fits, and which --fit would make it (fits doing the same thing named together). */
export function formatFitAdvice(a: FitAdvice, model: string): string {
  if (a.fitsAsIs) return `fits ${model} (${formatGeometry(a.target)}) as is`;
  const byEffect = new Map<string, FitMode[]>();
  for (const fit of ['scale', 'crop', 'pad'] as const) {
    const effect = a.options[fit];
    if (effect.startsWith('not possible')) continue;
    byEffect.set(effect, [...(byEffect.get(effect) ?? []), fit]);
  }
  const choices = [...byEffect].map(([effect, fits]) => `--fit ${fits.join('|')} (${effect.replace(/^\d+×\d+: /, '')})`);
  return `${model} takes ${formatGeometry(a.target)}: needs ${choices.join(' or ')}`;
}
