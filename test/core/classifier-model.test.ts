import { expect } from 'chai';
import * as path from 'path';
import * as fs from 'fs';
import { forLiveStreams, formatTheta, loadClassifierModel, thetaOrigin } from '../../src/snn/model/classifier-model';
import { thetaLabel } from '../../src/cli/model-options';
import { makeTempDir, repoRoot } from '../helpers/paths';

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

describe('loadClassifierModel: the stop rule, the calibrated confidence and live streams', () => {
  const tmp = makeTempDir('spikestream-stop-rule-');
  const dir = path.join(tmp, 'model');
  const scales = Array.from({ length: 16 }, (_, t) => t + 1);
  const liveScales = Array.from({ length: 16 }, (_, t) => 2 * (t + 1));
  before(() => {
    fs.mkdirSync(dir);
    const src = path.join(repoRoot, 'models', 'gesture');
    for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const meta = JSON.parse(fs.readFileSync(path.join(src, 'spikestream.json'), 'utf8'));
    const qcfs = {
      T: 16, alpha: 16, tau: 0.7, stopRule: 'calibrated', theta: 0.97, thetaRule: 'paper', liveTheta: 0.88,
      confidence: { method: 'step-temperature', form: 'per-step', scales },
      liveConfidence: { method: 'step-temperature', form: 'per-step', scales: liveScales },
      stopRules: { calibrated: { theta: 0.97, rule: 'paper' }, calibratedLive: { theta: 0.88, rule: 'paper' }, paper: { theta: 0.31, rule: 'paper' } },
    };
    meta.calibration = { mode: 'qcfs', alpha: 16, tau: 0.7, theta: 0.97, modes: { qcfs } };
    fs.writeFileSync(path.join(dir, 'spikestream.json'), JSON.stringify(meta));
  });

  it('deploys the calibrated rule with its θ and scales; --confidence paper gives the paper rule with its own θ', () => {
    const m = loadClassifierModel(dir);
    expect(m).to.deep.include({ stopRule: 'calibrated', theta: 0.97, samples: 'windowed' });
    expect(m.calibration?.scales).to.deep.equal(scales);
    const paper = loadClassifierModel(dir, { stopRule: 'paper' });
    expect(paper).to.deep.include({ stopRule: 'paper', theta: 0.31, alpha: 16, tau: 0.7 });
    expect(paper.live).to.equal(undefined);
  });

  it('live streams take the live scales and θ, once; an explicit θ stays; the paper rule is unchanged', () => {
    const live = forLiveStreams(loadClassifierModel(dir));
    expect(live).to.deep.include({ theta: 0.88, samples: 'live' });
    expect(live.calibration?.scales).to.deep.equal(liveScales);
    expect(forLiveStreams(live)).to.equal(live);
    expect(forLiveStreams(loadClassifierModel(dir, { theta: 0.5 })).theta).to.equal(0.5);
    const paper = loadClassifierModel(dir, { stopRule: 'paper' });
    expect(forLiveStreams(paper)).to.equal(paper);
  });

  it('refuses the calibrated rule where no scales are stored, naming the way out', () => {
    const old = path.join(repoRoot, 'models', 'saccade-mnist');
    const meta = JSON.parse(fs.readFileSync(path.join(old, 'spikestream.json'), 'utf8'));
    if (meta.calibration.modes.qcfs.confidence) delete meta.calibration.modes.qcfs.confidence;
    const bare = path.join(tmp, 'bare');
    fs.mkdirSync(bare);
    for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(old, f), path.join(bare, f));
    fs.writeFileSync(path.join(bare, 'spikestream.json'), JSON.stringify(meta));
    expect(loadClassifierModel(bare).stopRule).to.equal('paper');
    expect(() => loadClassifierModel(bare, { stopRule: 'calibrated' })).to.throw(/no calibrated confidence stored .*--confidence paper/);
  });
});

describe('loadClassifierModel: the input encoding', () => {
  const tmp = makeTempDir('spikestream-encoding-');
  const withBinning = (name: string, binning: Record<string, unknown>): string => {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    const src = path.join(repoRoot, 'models', 'gesture');
    for (const f of ['model.json', 'weights.bin']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const meta = JSON.parse(fs.readFileSync(path.join(src, 'spikestream.json'), 'utf8'));
    meta.binning = { binUs: 100_000, T: 16, downsample: 4, ...binning };
    fs.writeFileSync(path.join(dir, 'spikestream.json'), JSON.stringify(meta));
    return dir;
  };

  it('a model without an encoding reads polarity frames; a time-ramp one spans rampSteps, else its T, whatever maxSteps is', () => {
    expect(loadClassifierModel(withBinning('old', {}))).to.deep.include({ encoding: 'polarity', encodingSteps: 16 });
    expect(loadClassifierModel(withBinning('ramp', { encoding: 'time-ramp' }), { maxSteps: 8 })).to.deep.include({ encoding: 'time-ramp', encodingSteps: 16, maxSteps: 8 });
    expect(loadClassifierModel(withBinning('ramp4', { encoding: 'time-ramp', rampSteps: 4 }))).to.deep.include({ encoding: 'time-ramp', encodingSteps: 4 });
  });

  it('refuses an unknown encoding, naming the file and the field', () => {
    expect(() => loadClassifierModel(withBinning('bad', { encoding: 'gray' }))).to.throw(RangeError, /spikestream.json binning.encoding must be one of polarity, time-split, time-ramp \(got "gray"\)/);
  });
});

describe('θ names the rule that chose it (printed by the CLI and the viewer)', () => {
  const dir = path.join(repoRoot, 'models', 'gesture');

  it('a calibrated θ says its rule and ε, windowed and live; an override or none says so', () => {
    const m = loadClassifierModel(dir);
    expect(m.thetaChosenBy).to.match(/^the paper's no-loss rule on validation, ε = 0$/);
    expect(forLiveStreams(m).thetaChosenBy).to.equal("the paper's no-loss rule on validation, scored with the live calibration, ε = 0");
    expect(thetaOrigin(m)).to.equal(`chosen by ${m.thetaChosenBy}`);
    expect(thetaOrigin(loadClassifierModel(dir, { theta: 0.4 }))).to.equal('given with --theta');
    expect(thetaOrigin(forLiveStreams(loadClassifierModel(dir, { theta: 0.4 })))).to.equal('given with --theta');
    expect(thetaOrigin(loadClassifierModel(dir, { maxSteps: 8 }))).to.match(/^not calibrated at this T/);
  });

  it('θ is printed with three decimals at most, and the label carries the stop rule', () => {
    expect(formatTheta(0.8790527880191803)).to.equal('0.879');
    expect(formatTheta(0.4)).to.equal('0.4');
    expect(formatTheta(1)).to.equal('1');
    const label = thetaLabel(forLiveStreams(loadClassifierModel(dir)));
    expect(label).to.match(/^θ = \d(\.\d{1,3})? \(on the calibrated probability, stop at q_t ≥ θ; chosen by the paper's no-loss rule/);
    expect(thetaLabel(loadClassifierModel(dir, { stopRule: 'paper' }))).to.match(/^θ = \d(\.\d{1,3})? \(on the paper's c_t, stop at c_t > θ; chosen by the paper's no-loss rule on validation, ε = 0\)$/);
  });
});
