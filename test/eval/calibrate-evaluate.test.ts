import { expect } from 'chai';
import { Command } from 'commander';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as calibrateCli from '../../src/cli/calibrate';
import * as evaluateCli from '../../src/cli/evaluate';
import { confidence } from '../../src/confidence';
import { calibrateModel, parseAlpha, parseModes } from '../../src/eval/calibrate';
import { spreadIndices } from '../../src/eval/evaluate';
import { recordSnn } from '../../src/eval/run-snn';
import { initBackend } from '../../src/snn/backend';
import { frameOf, type FrameDataset } from '../../src/snn/dataset';
import { readFramesFile, writeFramesFile } from '../../src/snn/frames-file';
import { loadModel, saveModel, type SavedModel } from '../../src/snn/model-file';
import { SnnRunner } from '../../src/snn/runner';
import type { ModelSpec } from '../../src/snn/spec';
import { makeToyBars } from '../../src/snn/toy';
import { trainAnn } from '../../src/snn/train';
import { loadClassifierModel } from '../../streams/classifier-model';
import { makeTempDir } from '../helpers/paths';

const H = 16;
const T = 8;
const BIN_US = 10_000;
const spec: ModelSpec = {
  input: { height: H, width: H, channels: 2 },
  layers: [{ type: 'conv', kernel: 3, channels: 8 }, { type: 'avgpool', size: 2 }, { type: 'conv', kernel: 3, channels: 8 }, { type: 'avgpool', size: 2 }, { type: 'dense', units: 32 }],
  classes: ['horizontal', 'vertical', 'diagonal', 'antidiagonal'],
};

/** Runs calibrate/evaluate in-process as the CLI would (commands registered on a fresh program); captures stdout. */
async function cli(args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  calibrateCli.register(program);
  evaluateCli.register(program);
  const chunks: string[] = [];
  const orig = process.stdout.write.bind(process.stdout);
  (process.stdout as unknown as { write: (s: string) => boolean }).write = (s: string) => {
    chunks.push(String(s));
    return true;
  };
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    (process.stdout as unknown as { write: typeof orig }).write = orig;
  }
  return chunks.join('');
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** The deployed rule, sample by sample through a 1-slot runner: accuracy with θ and at T. */
function runDeployed(dir: string, mode: 'qcfs' | 'qffs', ds: FrameDataset): { accTheta: number; accT: number; meanSteps: number } {
  const m = loadClassifierModel(dir, { mode });
  const r = new SnnRunner(m.net, 1);
  let okTheta = 0;
  let okT = 0;
  let steps = 0;
  for (let i = 0; i < ds.n; i++) {
    const slot = r.admit();
    let decided = -1;
    for (let t = 0; t < m.maxSteps; t++) {
      r.step([{ slot, frame: frameOf(ds, i, t) }]);
      const c = confidence(r.read(slot).output, m.alpha, m.tau);
      if (decided < 0 && (Math.fround(c.confidence) > m.theta || t === m.maxSteps - 1)) {
        decided = c.predicted;
        steps += t + 1;
      }
      if (t === m.maxSteps - 1 && c.predicted === ds.labels[i]) okT++;
    }
    if (decided === ds.labels[i]) okTheta++;
    r.release(slot);
  }
  return { accTheta: okTheta / ds.n, accT: okT / ds.n, meanSteps: steps / ds.n };
}

describe('eval: calibrate and evaluate (tiny toy model)', function () {
  this.timeout(120_000);
  const tmp = makeTempDir('spikestream-eval-');
  const modelDir = path.join(tmp, 'model');
  const uncalDir = path.join(tmp, 'model-uncal');
  const valFile = path.join(tmp, 'val.ssf');
  const testFile = path.join(tmp, 'test.ssf');
  let val: FrameDataset;
  let saved: SavedModel;

  before(async () => {
    await initBackend('wasm', { log: () => undefined });
    const train = makeToyBars({ n: 192, T, height: H, width: H, seed: 11 });
    val = makeToyBars({ n: 64, T, height: H, width: H, seed: 12 });
    const test = makeToyBars({ n: 64, T, height: H, width: H, seed: 13 });
    const binning = { binUs: BIN_US, T, downsample: 1 };
    const res = await trainAnn(train, { spec, epochs: 6, lr: 1e-2, seed: 3, binning, dataset: 'toy bars' });
    saved = res.model;
    res.ann.dispose();
    saveModel(modelDir, saved);
    saveModel(uncalDir, saved);
    writeFramesFile(valFile, val, { binning, dataset: 'toy-val' });
    writeFramesFile(testFile, test, { binning, dataset: 'toy-test' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('parses --mode and --alpha', () => {
    expect(parseModes(undefined)).to.deep.equal(['qcfs', 'qffs']);
    expect(parseModes('QFFS')).to.deep.equal(['qffs']);
    expect(() => parseModes('x')).to.throw(RangeError);
    expect(parseAlpha('fit')).to.equal('fit');
    expect(parseAlpha('8')).to.equal(8);
    expect(() => parseAlpha('-1')).to.throw(RangeError);
    expect(Array.from(spreadIndices(10, 4))).to.deep.equal([0, 2, 5, 7]);
    expect(spreadIndices(3, 100)).to.have.length(3);
  });

  it('records the same outputs batched as sample by sample', async () => {
    const { spec: s, weights } = loadModel(modelDir);
    const { convertWeights } = await import('../../src/snn/convert');
    const net = convertWeights(s, weights, 'qffs');
    const small: FrameDataset = { ...val, n: 5, frames: val.frames.subarray(0, 5 * T * H * H * 2), labels: val.labels.subarray(0, 5) };
    const batched = await recordSnn(net, small, { slots: 4 });
    for (let i = 0; i < 5; i++) {
      const one = await recordSnn(net, small, { slots: 1, indices: [i] });
      expect(Array.from(one.outputs)).to.deep.equal(Array.from(batched.outputs.subarray(i * T * 4, (i + 1) * T * 4)));
      expect(Array.from(one.spikes)).to.deep.equal(Array.from(batched.spikes.subarray(i * T, (i + 1) * T)));
    }
  });

  it('calibrate --json: θ loses no accuracy on the validation split; calibration stored and read back per mode', async () => {
    const weightsBefore = sha(path.join(modelDir, 'weights.bin'));
    const out = await cli(['calibrate', '--model', modelDir, '--val', valFile, '--json']);
    const r = JSON.parse(out);
    expect(r.n).to.equal(64);
    expect(r.T).to.equal(T);
    expect(r.annAccuracy).to.be.at.least(0.7);
    expect(r.temperature.tau).to.be.above(0);
    expect(r.temperature.nllAfter).to.be.at.most(r.temperature.nllBefore + 1e-9);
    expect(Object.keys(r.modes)).to.deep.equal(['qcfs', 'qffs']);
    expect(sha(path.join(modelDir, 'weights.bin'))).to.equal(weightsBefore);

    const meta = JSON.parse(fs.readFileSync(path.join(modelDir, 'spikestream.json'), 'utf8'));
    const cal = meta.calibration;
    expect(cal.mode).to.equal('qcfs');
    expect(cal.alpha).to.equal(T); // alphaFor('QCFS', T)
    expect(cal.modes.qffs.alpha).to.equal(3); // 2^2 − 1
    for (const mode of ['qcfs', 'qffs'] as const) {
      const c = cal.modes[mode];
      expect(c.accAtTheta).to.be.at.least(c.accFullT); // no accuracy loss on the split θ was chosen on
      expect(c.meanSteps).to.be.at.most(T);
      expect(c.latencySavingPct).to.be.closeTo((1 - c.meanSteps / T) * 100, 1e-9);
      expect(c.tau).to.equal(r.temperature.tau);
      const m = loadClassifierModel(modelDir, { mode });
      expect(m.mode).to.equal(mode);
      expect(m.alpha).to.equal(c.alpha);
      expect(m.tau).to.equal(c.tau);
      expect(m.theta).to.equal(c.theta);
      expect(m.thetaSource).to.equal('calibration');
      // The deployed rule, run independently sample by sample, reproduces the calibration.
      const d = runDeployed(modelDir, mode, val);
      expect(d.accT).to.be.closeTo(c.accFullT, 1e-12);
      expect(d.accTheta).to.be.closeTo(c.accAtTheta, 1e-12);
      expect(d.accTheta).to.be.at.least(d.accT);
      expect(d.meanSteps).to.be.closeTo(c.meanSteps, 1e-12);
    }
    expect(cal.theta).to.equal(cal.modes.qcfs.theta);
    // A training-time key survives the in-place update.
    expect(meta.training.epochs).to.equal(6);
  });

  it('calibrate with --alpha fit and ε > 0 (library call, no write)', async () => {
    const model = { dir: modelDir, ...loadModel(modelDir) };
    const before = fs.readFileSync(path.join(modelDir, 'spikestream.json'), 'utf8');
    const r = await calibrateModel(model, val, { modes: ['qcfs'], alpha: 'fit', epsilon: 0.05, write: false });
    const c = r.modes.qcfs!;
    expect(c.alphaSource).to.equal('fit');
    expect(c.alpha).to.equal(c.alphaFit);
    expect(c.alpha).to.be.above(0);
    expect(c.accAtTheta).to.be.at.least(c.accFullT - 0.05 - 1e-12);
    expect(r.written).to.equal(undefined);
    expect(fs.readFileSync(path.join(modelDir, 'spikestream.json'), 'utf8')).to.equal(before);
  });

  it('calibrate --search grid picks θ from the paper grid, with no validation loss (library call, no write)', async () => {
    const model = { dir: modelDir, ...loadModel(modelDir) };
    const r = await calibrateModel(model, val, { modes: ['qcfs', 'qffs'], search: 'grid', write: false });
    for (const c of [r.modes.qcfs!, r.modes.qffs!]) {
      expect(c.search).to.equal('grid');
      expect([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1].some((g) => Math.abs(g - c.theta) < 1e-9), `θ ${c.theta} on the grid`).to.equal(true);
      expect(c.accAtTheta).to.be.at.least(c.accFullT - 1e-12);
    }
    const exact = await calibrateModel(model, val, { modes: ['qcfs'], write: false });
    // The exact search sees every θ, so it never needs more steps than the grid for the same guarantee.
    expect(exact.modes.qcfs!.meanSteps).to.be.at.most(r.modes.qcfs!.meanSteps + 1e-12);
  });

  it('evaluate --json writes report.md with Tables 1–3, report.json and the SVG figures', async () => {
    const outDir = path.join(tmp, 'report');
    const out = await cli(['evaluate', '--model', modelDir, '--data', testFile, '--out', outDir, '--timing-samples', '12', '--json']);
    const s = JSON.parse(out);
    expect(s.calibratedNow).to.deep.equal([]);
    expect(s.results.map((r: { mode: string }) => r.mode)).to.deep.equal(['qcfs', 'qffs']);
    const md = fs.readFileSync(path.join(outDir, 'report.md'), 'utf8');
    for (const h of ['Table 1', 'Table 2', 'Table 3', 'Decision latency', 'Upper bounds', 'Calibration', 'Termination steps', 'Figures']) {
      expect(md).to.include(h);
    }
    expect(md).to.include('js typed-array runner');
    for (const mode of ['qcfs', 'qffs']) {
      for (const f of ['accuracy-confidence', 'pareto', 'termination']) {
        const p = path.join(outDir, `${mode}-${f}.svg`);
        expect(md).to.include(`(${mode}-${f}.svg)`);
        const svg = fs.readFileSync(p, 'utf8');
        expect(svg.startsWith('<svg')).to.equal(true);
        expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
      }
    }
    const rep = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8'));
    expect(rep.results).to.have.length(2);
    const meta = JSON.parse(fs.readFileSync(path.join(modelDir, 'spikestream.json'), 'utf8'));
    for (const r of rep.results) {
      const c = meta.calibration.modes[r.conversion];
      expect(r.dc.theta).to.equal(c.theta); // θ from validation, not re-chosen on test
      expect(r.thetaChosenOn).to.equal('validation');
      expect(r.n).to.equal(64);
      expect(r.accAnn).to.be.within(0, 1);
      expect(r.dc.meanSteps).to.be.within(1, T);
      expect(r.latencySavingPct).to.be.closeTo((1 - r.dc.meanSteps / T) * 100, 1e-9);
      expect(r.wallMs.samples).to.equal(12);
      expect(r.wallMsPerInference.without).to.be.above(0);
      expect(r.wallMsPerInference.with).to.be.above(0);
      expect(r.spikesPerNeuron.with).to.be.at.most(r.spikesPerNeuron.without + 1e-12);
      expect(r.decisionLatencyMs.without.mean).to.be.closeTo((T * BIN_US) / 1000, 1e-9);
      expect(r.decisionLatencyMs.with.mean).to.be.closeTo((r.dc.meanSteps * BIN_US) / 1000, 1e-9);
      expect(r.perStep.accuracy).to.have.length(T);
      expect(r.perStep.meanConfidenceNoAlpha).to.have.length(T);
      expect(r.terminationHistogram.counts.reduce((a: number, b: number) => a + b, 0)).to.equal(64);
      expect(r.oracles.firstCorrect.accuracy).to.be.at.least(r.accSnnT);
      expect(r.notes.join(' ')).to.not.include('WARNING');
    }
  });

  it('evaluate refuses an uncalibrated model without --val, and calibrates first with it', async () => {
    const outDir = path.join(tmp, 'report-uncal');
    let err: Error | undefined;
    try {
      await cli(['evaluate', '--model', uncalDir, '--data', testFile, '--out', outDir, '--mode', 'qffs', '--json']);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/no calibrated θ for qffs/);
    const out = await cli(['evaluate', '--model', uncalDir, '--data', testFile, '--val', valFile, '--out', outDir, '--mode', 'qffs',
      '--timing-samples', '0', '--json']);
    const s = JSON.parse(out);
    expect(s.calibratedNow).to.deep.equal(['qffs']);
    const m = loadClassifierModel(uncalDir, { mode: 'qffs' });
    expect(m.thetaSource).to.equal('calibration');
    expect(s.results[0].theta).to.equal(m.theta);
    // Only qffs was calibrated: the default (qcfs) top level stays uncalibrated.
    const meta = JSON.parse(fs.readFileSync(path.join(uncalDir, 'spikestream.json'), 'utf8'));
    expect(meta.calibration.theta ?? null).to.equal(null);
    const md = fs.readFileSync(path.join(outDir, 'report.md'), 'utf8');
    expect(md).to.include('Table 1');
    expect(md).to.not.include('Table 2'); // timing skipped
    expect(readFramesFile(testFile).n).to.equal(64);
  });
});
