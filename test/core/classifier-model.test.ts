import { expect } from 'chai';
import * as path from 'path';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { repoRoot } from '../helpers/paths';

describe('loadClassifierModel: the operating point stored per conversion mode', () => {
  const dir = path.join(repoRoot, 'models', 'gesture');

  it('runs each mode at the T, bins, α, τ and θ it was calibrated for', () => {
    const qcfs = loadClassifierModel(dir);
    expect(qcfs).to.deep.include({ mode: 'qcfs', maxSteps: 16, binUs: 100_000, downsample: 4, alpha: 16, thetaSource: 'calibration' });
    const qffs = loadClassifierModel(dir, { mode: 'qffs' });
    expect(qffs).to.deep.include({ mode: 'qffs', maxSteps: 4, binUs: 100_000, alpha: 3, thetaSource: 'calibration' });
    expect(qffs.theta).to.be.within(0, 1);
  });

  it('uses the point calibrated at an overridden T, and nothing from another T when there is none', () => {
    const at6 = loadClassifierModel(dir, { mode: 'qffs', maxSteps: 6 });
    expect(at6).to.deep.include({ maxSteps: 6, thetaSource: 'calibration' });
    const at8 = loadClassifierModel(dir, { maxSteps: 8 });
    expect(at8).to.deep.include({ maxSteps: 8, alpha: 8, tau: 1, theta: 1, thetaSource: 'none' });
    expect(loadClassifierModel(dir, { maxSteps: 8, theta: 0.4 })).to.deep.include({ theta: 0.4, thetaSource: 'override' });
  });
});
