import { QuantizedAnn } from '../../src/snn/ann';
import { saveModel } from '../../src/snn/model/model-file';
import { validateSpec } from '../../src/snn/spec';
import { annToSavedModel } from '../../src/snn/train';

/**
 * Writes an untrained (seeded, random-weight) model for 128×128 sensors downsampled 4× to
 * 32×32 (or `downsample`× to 128/downsample), with 11 classes: enough to exercise the
 * streaming machinery without training.
 */
export function writeTinyModel(dir: string, o: { T?: number; binUs?: number; theta?: number; seed?: number; downsample?: number } = {}): void {
  const downsample = o.downsample ?? 4;
  const side = 128 / downsample;
  const classes = Array.from({ length: 11 }, (_, i) => `class${i}`);
  const spec = validateSpec({
    input: { height: side, width: side, channels: 2 },
    layers: [
      { type: 'conv', kernel: 3, channels: 4, stride: 2 },
      { type: 'avgpool', size: 2 },
      { type: 'dense', units: 16 },
    ],
    classes,
  });
  const ann = QuantizedAnn.create(spec, o.seed ?? 7, 1);
  const T = o.T ?? 12;
  const saved = annToSavedModel(ann, {
    T,
    binning: { binUs: o.binUs ?? 50_000, T, downsample },
    calibration: { alpha: null, tau: null, theta: o.theta ?? null },
    dataset: 'none (random weights for tests)',
  });
  ann.dispose();
  saveModel(dir, saved);
}
