/**
 * How a sensor's events reach the model in NATS mode — the gateway refuses a sensor size the
 * model cannot take (as the embedded service does), the worker fits each connection's events.
 */
import type { Geometry } from '../events/geometry';
import type { ClassifierModel } from '../snn/model/classifier-model';
import { geometryMismatch } from '../../streams/core/engine';
import { FitError, makeFit, modelSensorGeometry, type Fit, type FitMode } from '../../streams/operators/fit';
import type { Roi } from '../../streams/operators/roi';

export interface FitChoice {
  readonly fit?: FitMode;
  readonly roi?: Roi;
}

/** The fit for a sensor of this size, or why the model cannot take it (one line). */
export function fitForModel(model: ClassifierModel, choice: FitChoice | undefined, sensor: Geometry): { readonly fit: Fit } | { readonly refusal: string } {
  try {
    const fit = makeFit({ sensor, target: modelSensorGeometry(model), ...choice });
    const mismatch = geometryMismatch(model, fit.geometry);
    return mismatch === undefined ? { fit } : { refusal: mismatch };
  } catch (err) {
    if (err instanceof FitError) return { refusal: err.message };
    throw err;
  }
}
