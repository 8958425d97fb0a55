import { expect } from 'chai';
import { logitsAtStep } from '../../src/eval/baselines';
import {
  binningFor,
  candidateSteps,
  defaultStoredSteps,
  modelSteps,
  storedAtSteps,
  storedOperatingPoint,
  storedSteps,
} from '../../src/snn/model/operating-points';
import { truncateRecording, type SnnRecording } from '../../src/eval/run-snn';
import type { ModelMeta } from '../../src/snn/model/model-file';

function meta(calibration: Record<string, unknown>): ModelMeta {
  return {
    format: 'spikestream-model',
    version: 1,
    spec: { input: { height: 4, width: 4, channels: 2 }, layers: [], classes: ['a', 'b'] },
    lambdas: {},
    conversion: { mode: 'qcfs', T: 16 },
    binning: { binUs: 100_000, T: 16, downsample: 4 },
    classes: ['a', 'b'],
    calibration: { alpha: null, tau: null, ...calibration },
  };
}

describe('operating points: T and binning per conversion mode', () => {
  it('QCFS runs at the model T; QFFS at T ∈ {L, 4, 6} within the frames available, T = 4 stored', () => {
    expect(candidateSteps('qcfs', 16, 3)).to.deep.equal([16]);
    expect(candidateSteps('qffs', 16, 3)).to.deep.equal([3, 4, 6]);
    expect(candidateSteps('qffs', 16, 7)).to.deep.equal([4, 6, 7]);
    expect(candidateSteps('qffs', 16, 8)).to.deep.equal([4, 6, 8]); // L = 8 (an imported model's levels)
    expect(candidateSteps('qffs', 5, 3)).to.deep.equal([3, 4]);
    expect(candidateSteps('qffs', 2, 3)).to.deep.equal([2]);
    expect(candidateSteps('qcfs', 16, 3, 12)).to.deep.equal([12]);
    expect(defaultStoredSteps('qcfs', 16, 3)).to.equal(16);
    expect(defaultStoredSteps('qffs', 16, 3)).to.equal(4);
    expect(defaultStoredSteps('qffs', 3, 3)).to.equal(3);
    const m = meta({});
    expect(modelSteps(m)).to.equal(16);
    expect(binningFor(m, 4)).to.deep.equal({ binUs: 100_000, T: 4, downsample: 4 });
    expect(() => modelSteps({ ...m, binning: undefined, conversion: { mode: 'qcfs', T: 0 } })).to.throw(/positive integer/);
  });

  it('reads what a runner should use per mode: modes[mode] first, the top level for the calibrated mode, the model T otherwise', () => {
    const none = meta({});
    const q = storedOperatingPoint(none, 'qffs');
    expect(q.T).to.equal(16);
    expect(q.theta).to.equal(undefined);
    expect(storedSteps(none, 'qffs')).to.deep.equal([]);
    // An older file: calibrated at the top level for the default mode only.
    const old = meta({ mode: 'qcfs', alpha: 16, tau: 1.2, theta: 0.5 });
    expect(storedOperatingPoint(old, 'qcfs')).to.include({ T: 16, alpha: 16, tau: 1.2, theta: 0.5 });
    expect(storedOperatingPoint(old, 'qffs').theta).to.equal(undefined);
    expect(storedSteps(old, 'qcfs')).to.deep.equal([16]);
    // Per-mode operating points with candidates.
    const cur = meta({
      mode: 'qcfs',
      modes: {
        qffs: {
          T: 4, alpha: 3, tau: 1.1, theta: 0.9, binning: { binUs: 100_000, T: 4, downsample: 4 },
          operatingPoints: [{ T: 3, alpha: 3, tau: 1.0, theta: 0.8 }, { T: 4, alpha: 3, tau: 1.1, theta: 0.9 }, { T: 6, alpha: 3, tau: 0.9, theta: 0.7 }],
        },
      },
    });
    const op = storedOperatingPoint(cur, 'qffs');
    expect(op).to.include({ T: 4, alpha: 3, tau: 1.1, theta: 0.9 });
    expect(op.binning).to.deep.equal({ binUs: 100_000, T: 4, downsample: 4 });
    expect(storedSteps(cur, 'qffs')).to.deep.equal([3, 4, 6]);
    expect(storedAtSteps(cur, 'qffs', 6)).to.include({ T: 6, tau: 0.9, theta: 0.7 });
    expect(storedAtSteps(cur, 'qffs', 6)!.binning).to.deep.equal({ binUs: 100_000, T: 6, downsample: 4 });
    expect(storedAtSteps(cur, 'qffs', 5)).to.equal(undefined);
  });

  it('truncateRecording and logitsAtStep cut [N × T × C] arrays at a step', () => {
    const n = 2;
    const T = 3;
    const C = 2;
    const outputs = Float32Array.from({ length: n * T * C }, (_, i) => i);
    const rec: SnnRecording = { n, T, classes: C, outputs, spikes: Float64Array.from({ length: n * T }, (_, i) => i), neurons: 5, labels: Int32Array.of(0, 1) };
    const r2 = truncateRecording(rec, 2);
    expect(r2.T).to.equal(2);
    expect(Array.from(r2.outputs)).to.deep.equal([0, 1, 2, 3, 6, 7, 8, 9]);
    expect(Array.from(r2.spikes)).to.deep.equal([0, 1, 3, 4]);
    expect(truncateRecording(rec, 3)).to.equal(rec);
    expect(() => truncateRecording(rec, 4)).to.throw(RangeError);
    expect(Array.from(logitsAtStep(outputs, n, T, C, 2))).to.deep.equal([2, 3, 8, 9]);
    expect(() => logitsAtStep(outputs, n, T, C, 0)).to.throw(RangeError);
  });
});
