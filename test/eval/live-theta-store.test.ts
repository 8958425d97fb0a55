import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { storeLiveTheta } from '../../src/eval/live-calibration';
import { DEFAULT_LIVE_TARGETS } from '../../src/eval/live';
import { makeTempDir } from '../helpers/paths';

/** A model folder holding only spikestream.json with the given calibration of qcfs. */
function modelWith(qcfs: Record<string, unknown>): string {
  const dir = makeTempDir('spikestream-live-theta-');
  fs.writeFileSync(path.join(dir, 'spikestream.json'), JSON.stringify({ format: 'spikestream-model', conversion: { mode: 'qcfs' }, calibration: { mode: 'qcfs', theta: qcfs.theta, accAtTheta: 0.9, modes: { qcfs } } }));
  return dir;
}

const choice = { mode: 'qcfs', theta: 0.6, metTargets: true, keptConstraints: true, targets: DEFAULT_LIVE_TARGETS, validation: 'val users', sweep: [] };
const read = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'spikestream.json'), 'utf8')).calibration;

describe('storeLiveTheta: a θ chosen on live streams, labelled by its rule, with no stale figures', () => {
  it('under the calibrated rule: live streams get it as liveTheta; the windowed θ stays; the live θ of the no-loss rule goes', () => {
    const dir = modelWith({ alpha: 16, theta: 0.97, stopRule: 'calibrated', liveConfidence: { scales: [1] }, liveTheta: 0.88, stopRules: { calibrated: { theta: 0.97 }, calibratedLive: { theta: 0.88 } } });
    storeLiveTheta(dir, choice);
    const c = read(dir);
    expect(c.modes.qcfs).to.include({ theta: 0.97, liveTheta: 0.6, liveThetaRule: 'live' });
    expect(c.modes.qcfs.stopRules).to.deep.equal({ calibrated: { theta: 0.97 } });
    expect(c.theta).to.equal(0.97);
  });

  it('under the paper rule: it replaces θ, labelled live, and the windowed θ’s figures go', () => {
    const dir = modelWith({ alpha: 16, theta: 0.4, stopRule: 'paper', accAtTheta: 0.98, meanSteps: 5.8 });
    storeLiveTheta(dir, choice);
    const c = read(dir);
    expect(c.modes.qcfs).to.include({ theta: 0.6, thetaRule: 'live', deployedRule: 'live' });
    expect(c.modes.qcfs.accAtTheta).to.equal(undefined);
    expect(c.modes.qcfs.meanSteps).to.equal(undefined);
    expect(c).to.include({ theta: 0.6, thetaRule: 'live' });
    expect(c.accAtTheta).to.equal(undefined);
    expect(c.live).to.include({ theta: 0.6, windowedTheta: 0.4 });
  });
});
