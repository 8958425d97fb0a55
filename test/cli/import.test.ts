import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { parseClasses } from '../../src/cli/import';
import { loadModel } from '../../src/snn/model/model-file';
import { runSpikestream } from '../helpers/cli';
import { makeTempDir } from '../helpers/paths';
import { FIXTURES, manifest } from '../snn/model/onnx-fixtures';

describe('spikestream import → calibrate → evaluate (a PyTorch model used like ours)', () => {
  const m = manifest();
  const fx = m.models.find((x) => x.name.startsWith('gesture')) ?? m.models[0];
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('imports with --classes from a file and --json, and says what it found', () => {
    const names = path.join(dir, 'classes.txt');
    fs.writeFileSync(names, m.classes.join('\n') + '\n');
    const r = runSpikestream(['import', path.join(FIXTURES, fx.onnx), '--out', path.join(dir, 'model'), '--classes', names, '--json']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    const s = JSON.parse(r.stdout);
    expect(s.activations).to.include({ levels: fx.levels, shift: fx.shift });
    expect(s.binning).to.deep.equal({ binUs: 100_000, T: 16, downsample: 4 });
    const saved = loadModel(path.join(dir, 'model'));
    expect(saved.meta.classes).to.deep.equal(m.classes);
    const text = runSpikestream(['import', path.join(FIXTURES, fx.onnx), '--out', path.join(dir, 'again')]);
    expect(text.code).to.equal(0);
    expect(text.stdout).to.match(new RegExp(`QCFS activations: \\d+, found as Div → Mul → .*L = ${fx.levels}, shift ${fx.shift}`));
    expect(text.stdout).to.include(`next: spikestream calibrate --model ${path.join(dir, 'again')}`);
  });

  it('calibrate stores α, τ, θ and evaluate writes the Dynamic Confidence report, at the model\'s T', () => {
    const frames = path.join(dir, 'bundled.ssf');
    const f = runSpikestream(['frames', 'recordings/gestures', '--split', 'test', '--out', frames, '--bin-us', '100000', '--steps', '16', '--downsample', '4']);
    expect(f.code, f.stderr).to.equal(0);
    const model = path.join(dir, 'model');
    const cal = runSpikestream(['calibrate', '--model', model, '--val', frames, '--mode', 'qcfs', '--json']);
    expect(cal.code, cal.stderr).to.equal(0);
    expect(JSON.parse(cal.stdout)).to.include({ T: 16, levels: fx.levels });
    const c = loadModel(model).meta.calibration;
    expect(c.alpha).to.equal(16);
    expect(c.tau).to.be.a('number');
    expect(c.theta).to.be.a('number');
    const out = path.join(dir, 'report');
    const ev = runSpikestream(['evaluate', '--model', model, '--data', frames, '--out', out, '--mode', 'qcfs', '--json']);
    expect(ev.code, ev.stderr).to.equal(0);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).to.match(/^# spikestream evaluation — /);
    expect(md).to.include('Acc(DC)');
    expect(md).to.match(/\| QCFS \| 16 \|/);
  });

  it('start --model DIR --once streams the bundled recording live through it', () => {
    const r = runSpikestream(['start', '--model', path.join(dir, 'model'), '--once', '--asap', '--json', '--no-viewer', '--threads', '1']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; decisions?: number; mode?: string });
    const summary = lines.find((l) => l.type === 'summary')!;
    expect(summary.decisions).to.be.greaterThan(0);
    expect(summary.mode).to.equal('qcfs');
    expect(lines.filter((l) => l.type === 'decision')).to.have.length(summary.decisions!);
  });

  it('replay classifies the bundled recordings with it', () => {
    const r = runSpikestream(['replay', 'recordings/gestures', '--model', path.join(dir, 'model'), '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type?: string });
    expect(lines.length).to.be.greaterThan(1);
  });

  it('usage errors: a missing file or bad options exit 2', () => {
    expect(runSpikestream(['import', path.join(dir, 'nope.onnx'), '--out', path.join(dir, 'x')]).code).to.equal(2);
    const bad = runSpikestream(['import', path.join(FIXTURES, fx.onnx), '--out', path.join(dir, 'x'), '--sensor', '128']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--sensor must be WIDTHxHEIGHT/);
    expect(runSpikestream(['import', path.join(FIXTURES, fx.onnx), '--out', path.join(dir, 'x'), '--steps', '0']).code).to.equal(2);
  });

  it('parseClasses: a comma list or a file; fewer than 2 names is a usage error', () => {
    expect(parseClasses('a, b ,c')).to.deep.equal(['a', 'b', 'c']);
    expect(() => parseClasses('a')).to.throw(/at least 2/);
  });
});
