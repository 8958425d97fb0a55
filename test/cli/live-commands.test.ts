import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { concatBatches } from '../../src/events/event-batch';
import { readFramesFile } from '../../src/snn/frames-file';
import { runSpikestream } from '../helpers/cli';
import { randomRecording, writeGestureFolder, type FixtureTrial } from '../helpers/gesture-fixture';
import { repoRoot } from '../helpers/paths';
import { writeTinyModel } from '../helpers/tiny-model';

/** A recording with two bursts of activity (~10 kev/s), each holding one labelled gesture. */
function trial(name: string, split: 'train' | 'test', seed: number, classes: [number, number]): FixtureTrial {
  return {
    name,
    split,
    events: concatBatches([randomRecording(500_000, 2_500_000, 100, seed), randomRecording(3_500_000, 5_500_000, 100, seed + 1)]),
    rows: [
      [classes[0], 800_000, 2_300_000],
      [classes[1], 3_800_000, 5_300_000],
    ],
  };
}

describe('spikestream frames --live-style and evaluate --live (tiny generated dataset)', function () {
  this.timeout(120_000);
  let dir: string;
  let data: string;
  let model: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ss-live-'));
    data = path.join(dir, 'data');
    fs.mkdirSync(data);
    writeGestureFolder(data, [trial('user01_led', 'train', 1, [3, 5]), trial('user24_led', 'test', 11, [1, 2]), trial('user25_led', 'test', 21, [7, 11])]);
    model = path.join(dir, 'model');
    writeTinyModel(model, { T: 12, binUs: 100_000, theta: 0.1 });
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('frames --live-style cuts whole recordings: live samples, the label windows, step labels in the file', () => {
    const out = path.join(dir, 'ls.ssf');
    const r = runSpikestream(['frames', data, '--split', 'train', '--live-style', '--with-windows', '--restart-steps', '3-5', '--steps', '12', '--out', out, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(j).to.include({ recordings: 1, windowSamples: 2 });
    expect(j.liveSamples).to.be.greaterThan(5);
    expect(j.noGesture).to.be.greaterThan(0);
    expect(j.liveStyle.restartSteps).to.deep.equal([3, 5]);
    const f = readFramesFile(out);
    expect(f.n).to.equal(j.samples);
    expect(f.T).to.equal(12);
    expect(f.stepLabels).to.have.length(f.n * 12);
    // The two label windows come first, labelled by their class at every step.
    expect(Array.from(f.stepLabels!.subarray(0, 12)).every((l) => l === 2)).to.equal(true);
    expect(f.labels[1]).to.equal(4);
    expect(Array.from(f.labels).some((l) => l === -1)).to.equal(true);
  });

  it('frames --live-style --augment cuts augmented copies (labels mirrored with flip-lr) and train joins several frames files', () => {
    const plain = path.join(dir, 'plain.ssf');
    const aug = path.join(dir, 'aug.ssf');
    const common = ['frames', data, '--split', 'train', '--live-style', '--with-windows', '--steps', '12'];
    expect(runSpikestream([...common, '--out', plain, '--json']).code).to.equal(0);
    const r = runSpikestream([...common, '--augment', 'flip-lr=1,flip-polarity=1,spatial-shift=3', '--augment-copies', '2', '--with-originals', '--out', aug, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(j.augment).to.include({ copies: 2, withOriginals: true });
    expect(j.augment.spec).to.contain('flip-lr=1');
    const p = readFramesFile(plain);
    const a = readFramesFile(aug);
    // The original cut first (its label windows lead), then the copies, mirrored: right arm clockwise ↔ left arm counter-clockwise, …
    expect(Array.from(a.labels.subarray(0, 2))).to.deep.equal(Array.from(p.labels.subarray(0, 2)));
    const mirrored = a.labels[p.n];
    expect(mirrored).to.equal([0, 2, 1, 6, 5, 4, 3, 7, 8, 9, 10][p.labels[0]]);
    expect(a.n).to.be.greaterThan(2 * p.n);
    const bad = runSpikestream([...common, '--augment', 'flip-colour=1', '--out', path.join(dir, 'x.ssf')]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.contain('flip-colour');
    expect(runSpikestream(['frames', data, '--augment', 'default', '--out', path.join(dir, 'y.ssf')]).stderr).to.contain('--live-style');
    const model2 = path.join(dir, 'joined-model');
    const t = runSpikestream(['train', '--data', plain, aug, '--epochs', '1', '--batch', '64', '--out', model2, '--json']);
    expect(t.code, t.stderr).to.equal(0);
    const meta = JSON.parse(fs.readFileSync(path.join(model2, 'spikestream.json'), 'utf8'));
    expect(meta.dataset).to.contain(' + ');
    // --init starts from a trained model's weights: at a vanishing learning rate they stay where they were.
    const tuned = path.join(dir, 'tuned-model');
    const ft = runSpikestream(['train', '--init', model2, '--data', plain, '--epochs', '1', '--lr', '1e-12', '--weight-decay', '0', '--out', tuned, '--json']);
    expect(ft.code, ft.stderr).to.equal(0);
    const w0 = new Float32Array(fs.readFileSync(path.join(model2, 'weights.bin')).buffer.slice(0));
    const w1 = new Float32Array(fs.readFileSync(path.join(tuned, 'weights.bin')).buffer.slice(0));
    expect(w1.length).to.equal(w0.length);
    let maxDiff = 0;
    for (let i = 0; i < w0.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w1[i] - w0[i]));
    expect(maxDiff).to.be.below(1e-6);
    const other = runSpikestream(['train', '--init', model, '--data', plain, '--epochs', '1', '--out', path.join(dir, 'x-model')]);
    expect(other.code).to.not.equal(0);
    expect(other.stderr).to.contain('different spec');
    expect(runSpikestream(['train', '--init', path.join(dir, 'nothing'), '--data', plain, '--epochs', '1', '--out', path.join(dir, 'y-model')]).stderr).to.contain('holds no spikestream model');
  });

  it('frames --live-style refuses what it cannot cut', () => {
    const out = path.join(dir, 'bad.ssf');
    const counts = runSpikestream(['frames', data, '--live-style', '--events-per-bin', '1000', '--out', out]);
    expect(counts.code).to.equal(2);
    expect(counts.stderr).to.contain('--bin-us');
    expect(runSpikestream(['frames', data, '--live-style', '--restart-steps', '6-2', '--out', out]).code).to.equal(2);
    const nmnist = runSpikestream(['frames', path.join(repoRoot, 'recordings', 'saccades', 'mnist'), '--live-style', '--out', out]);
    expect(nmnist.code).to.equal(2);
    expect(nmnist.stderr).to.contain('DVS128 Gesture layout');
  });

  it('evaluate --live streams the test recordings and scores the decisions against the windows', () => {
    const out = path.join(dir, 'report');
    const r = runSpikestream(['evaluate', '--live', data, '--model', model, '--out', out, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    const s = j.score;
    expect(s).to.include({ streams: 2, gestures: 4 });
    expect(s.decisions).to.be.greaterThan(4);
    expect(s.confident + s.uncertain).to.equal(s.decisions);
    expect(s.confidentInside + s.confidentOutside).to.equal(s.confident);
    expect(s.correctInside).to.be.at.most(s.confidentInside);
    expect(s.firstCorrect).to.be.at.most(s.gesturesAnswered);
    expect(j.theta).to.equal(0.1);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'live.json'), 'utf8'));
    expect(report.format).to.equal('spikestream-live-evaluation');
    expect(report.streams.map((x: { streamId: string }) => x.streamId)).to.deep.equal(['user24_led', 'user25_led']);
    expect(report.streams.reduce((a: number, x: { decisions: unknown[] }) => a + x.decisions.length, 0)).to.equal(s.decisions);
    expect(fs.readFileSync(path.join(out, 'live.md'), 'utf8')).to.contain('| decision accuracy (answers inside a gesture window that name it) |');
    expect(fs.readFileSync(path.join(out, 'live-timeline.svg'), 'utf8')).to.match(/^<svg[\s\S]*user24_led[\s\S]*<\/svg>\n$/);
    // The text output prints the same figures.
    const text = runSpikestream(['evaluate', '--live', data, '--model', model, '--out', out, '--users', '24']);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.match(/first answer right \(gesture recall\)\s+\S+/);
  });

  it('evaluate --live without --model streams with the bundled gesture model; --store-theta then asks for --model', () => {
    const out = path.join(dir, 'bundled');
    const r = runSpikestream(['evaluate', '--live', data, '--out', out, '--users', '24', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(j.model).to.equal(path.join(repoRoot, 'models', 'gesture'));
    expect(j.score.streams).to.equal(1);
    const store = runSpikestream(['evaluate', '--live', data, '--out', out, '--thetas', '0.3,0.5', '--store-theta']);
    expect([store.code, store.stderr.trim()]).to.deep.equal([2, 'spikestream: --store-theta writes the picked θ into a model: give --model DIR']);
    const windowed = runSpikestream(['evaluate', '--data', path.join(dir, 'none.ssf'), '--out', out]);
    expect([windowed.code, windowed.stderr.trim()]).to.deep.equal([2, 'spikestream: give --model DIR: the model to evaluate on --data']);
  });

  it('evaluate --live --thetas sweeps θ; --store-theta writes the picked θ beside the windowed calibration', () => {
    const out = path.join(dir, 'sweep');
    const uncalibrated = runSpikestream(['evaluate', '--live', data, '--model', model, '--out', out, '--thetas', '0.1,0.5', '--store-theta']);
    expect(uncalibrated.code).to.equal(1);
    expect(uncalibrated.stderr).to.contain('not calibrated');
    const file = path.join(model, 'spikestream.json');
    const meta = JSON.parse(fs.readFileSync(file, 'utf8'));
    meta.calibration = { ...meta.calibration, mode: 'qcfs', alpha: 12, tau: 1, theta: 0.3, modes: { qcfs: { alpha: 12, tau: 1, theta: 0.3, deployedRule: 'paper' } } };
    fs.writeFileSync(file, JSON.stringify(meta));
    const r = runSpikestream(['evaluate', '--live', data, '--model', model, '--out', out, '--thetas', '0.5,0.1', '--store-theta', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const j = JSON.parse(r.stdout);
    expect(j.sweep.map((p: { theta: number }) => p.theta)).to.deep.equal([0.1, 0.5]);
    expect([0.1, 0.5]).to.include(j.chosen.theta);
    expect(j.theta).to.equal(j.chosen.theta);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')).calibration;
    expect(stored.theta).to.equal(j.chosen.theta);
    expect(stored.modes.qcfs).to.include({ theta: j.chosen.theta, deployedRule: 'live', alpha: 12 });
    expect(stored.live).to.include({ theta: j.chosen.theta, windowedTheta: 0.3, mode: 'qcfs' });
    expect(stored.live.sweep).to.have.length(2);
    // The sweep measured the windowed accuracy on the same recordings' label windows (4 of them).
    for (const p of j.sweep) expect(p.windowed.n).to.equal(4);
    expect(stored.live.sweep[0].windowedLoss).to.be.a('number');
    expect(fs.readFileSync(path.join(out, 'live.md'), 'utf8')).to.contain('## θ on these streams');
  });

  it('evaluate needs --data or --live, and --store-theta needs a sweep', () => {
    const none = runSpikestream(['evaluate', '--model', model, '--out', path.join(dir, 'x')]);
    expect(none.code).to.equal(2);
    expect(none.stderr).to.contain('--data');
    expect(runSpikestream(['evaluate', '--live', data, '--model', model, '--out', path.join(dir, 'x'), '--store-theta']).code).to.equal(2);
    expect(runSpikestream(['evaluate', '--live', data, '--model', model, '--out', path.join(dir, 'x'), '--thetas', '0.2,1.5']).code).to.equal(2);
  });
});
