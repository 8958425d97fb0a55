import { expect } from 'chai';
import { Command } from 'commander';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as calibrateCli from '../../src/cli/calibrate';
import * as evaluateCli from '../../src/cli/evaluate';
import { confidence } from '../../src/confidence';
import { calibrateModel, parseAlpha, parseModes, parseThetaRule, parseThetaSearch } from '../../src/eval/calibrate';
import { readReportJson, spreadIndices, writeReport } from '../../src/eval/evaluate';
import { storedOperatingPoint } from '../../src/snn/model/operating-points';
import { recordSnn } from '../../src/eval/run-snn';
import { initBackend } from '../../src/snn/backend';
import { frameOf, type FrameDataset } from '../../src/snn/dataset';
import { readFramesFile, writeFramesFile } from '../../src/snn/frames-file';
import { loadModel, saveModel, type SavedModel } from '../../src/snn/model/model-file';
import { SnnRunner } from '../../src/snn/runner';
import type { ModelSpec } from '../../src/snn/spec';
import { makeToyBars } from '../../src/snn/toy';
import { trainAnn } from '../../src/snn/train';
import { calibratedConfidence } from '../../src/confidence/step-calibration';
import { shouldStop, type StopRule } from '../../src/confidence/decide';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
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

/**
 * The deployed rule, sample by sample through a 1-slot runner: accuracy with θ and at T. α, τ, θ as
 * the streaming engine loads them; T from the mode's stored operating point.
 */
function runDeployed(dir: string, mode: 'qcfs' | 'qffs', ds: FrameDataset, stopRule?: StopRule): { accTheta: number; accT: number; meanSteps: number } {
  const m0 = loadClassifierModel(dir, { mode, stopRule });
  const m = { ...m0, maxSteps: storedOperatingPoint(loadModel(dir).meta, mode).T };
  const r = new SnnRunner(m.net, 1);
  let okTheta = 0;
  let okT = 0;
  let steps = 0;
  for (let i = 0; i < ds.n; i++) {
    const slot = r.admit();
    let decided = -1;
    for (let t = 0; t < m.maxSteps; t++) {
      r.step([{ slot, frame: frameOf(ds, i, t) }]);
      const out = r.read(slot).output;
      const c = m.stopRule === 'calibrated' ? calibratedConfidence(out, t, m.calibration!) : confidence(out, m.alpha, m.tau);
      if (decided < 0 && (shouldStop(Math.fround(c.confidence), m.theta, m.stopRule) || t === m.maxSteps - 1)) {
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
    expect(parseThetaSearch('grid')).to.equal('extended');
    expect(parseThetaSearch('PAPER')).to.equal('paper');
    expect(() => parseThetaSearch('fine')).to.throw(RangeError);
    expect(parseThetaRule('non-inferior')).to.equal('non-inferior');
    expect(() => parseThetaRule('lucky')).to.throw(RangeError);
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
    // Operating points: QCFS at the model's T; QFFS at T ∈ {L = 3, 4, 6}, T = 4 stored (the paper's setting).
    expect(cal.modes.qcfs.T).to.equal(T);
    expect(cal.modes.qffs.T).to.equal(4);
    expect(cal.modes.qffs.binning).to.deep.equal({ binUs: BIN_US, T: 4, downsample: 1 });
    expect(cal.modes.qffs.operatingPoints.map((o: { T: number }) => o.T)).to.deep.equal([3, 4, 6]);
    expect(r.operatingPoints.qffs.map((o: { alpha: number }) => o.alpha)).to.deep.equal([3, 3, 3]);
    expect(cal.modes.qcfs.tau).to.equal(r.temperature.tau); // τ at the model's T
    for (const mode of ['qcfs', 'qffs'] as const) {
      const c = cal.modes[mode];
      expect(c.accAtTheta).to.be.at.least(c.accFullT); // no accuracy loss on the split θ was chosen on
      expect(c.meanSteps).to.be.at.most(c.T);
      expect(c.latencySavingPct).to.be.closeTo((1 - c.meanSteps / c.T) * 100, 1e-9); // against its own T
      expect(c.thetaRule).to.equal('paper');
      // The calibrated stop rule is deployed; its θ and the paper rule's are stored, each labelled by the rule that chose it.
      expect(c.stopRule).to.equal('calibrated');
      expect(c.stopRules.calibrated).to.include({ theta: c.theta, rule: 'paper', grid: 'exact', stopRule: 'calibrated' });
      expect(c.stopRules.paper).to.include({ rule: 'paper', grid: 'exact', stopRule: 'paper' });
      expect(c.confidence.method).to.equal('step-temperature');
      expect(c.confidence.scales).to.have.length(c.T);
      expect(c.confidence.heldOut.paper.ece).to.be.a('number');
      // Only deployable θs' figures are stored: not the paper rule's alternatives.
      expect(c.rules).to.equal(undefined);
      expect(r.modes[mode].rules.paperExact.theta).to.equal(c.stopRules.paper.theta);
      expect(r.modes[mode].rules.nonInferior.accuracyDiff.lo).to.be.at.least(-0.01 - 1e-12);
      // The paper's c_t rule, selected with stopRule 'paper', reproduces its validation figures.
      const paper = runDeployed(modelDir, mode, val, 'paper');
      expect(paper.accTheta).to.be.closeTo(c.stopRules.paper.accuracy, 1e-12);
      expect(paper.meanSteps).to.be.closeTo(c.stopRules.paper.meanSteps, 1e-12);
      expect(loadClassifierModel(modelDir, { mode, stopRule: 'paper' }).theta).to.equal(c.stopRules.paper.theta);
      const m = loadClassifierModel(modelDir, { mode });
      expect(m.stopRule).to.equal('calibrated');
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
    const r = await calibrateModel(model, val, { modes: ['qcfs'], alpha: 'fit', epsilon: 0.05 });
    const c = r.modes.qcfs!;
    expect(c.alphaSource).to.equal('fit');
    expect(c.alpha).to.equal(c.alphaFit);
    expect(c.alpha).to.be.above(0);
    expect(c.accAtTheta).to.be.at.least(c.accFullT - 0.05 - 1e-12);
    expect(r.written).to.equal(undefined);
    expect(fs.readFileSync(path.join(modelDir, 'spikestream.json'), 'utf8')).to.equal(before);
  });

  it('calibrate --search paper / extended picks θ from the named grid, with no validation loss (library call, no write)', async () => {
    const model = { dir: modelDir, ...loadModel(modelDir) };
    const paperGrid = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
    for (const [search, grid] of [['paper', paperGrid], ['extended', [...paperGrid, 0.95, 0.99]]] as const) {
      const r = await calibrateModel(model, val, { modes: ['qcfs', 'qffs'], search });
      for (const c of [...r.operatingPoints.qcfs!, ...r.operatingPoints.qffs!]) {
        expect(c.search).to.equal(search);
        expect(grid.some((g) => Math.abs(g - c.theta) < 1e-9), `θ ${c.theta} on the ${search} grid`).to.equal(true);
        expect(c.thetaMin).to.equal(c.theta);
        expect(c.accAtTheta).to.be.at.least(c.accFullT - 1e-12);
      }
    }
    const exact = await calibrateModel(model, val, { modes: ['qcfs'] });
    const grid = await calibrateModel(model, val, { modes: ['qcfs'], search: 'paper' });
    // The exact search sees every θ, so it never needs more steps than the grid for the same guarantee.
    expect(exact.modes.qcfs!.meanSteps).to.be.at.most(grid.modes.qcfs!.meanSteps + 1e-12);
    // Deploying the non-inferior rule stores its θ.
    const ni = await calibrateModel(model, val, { modes: ['qffs'], search: 'paper', thetaRule: 'non-inferior', maxLoss: 0.05, qffsSteps: 3 });
    expect(ni.modes.qffs!.T).to.equal(3);
    expect(ni.modes.qffs!.theta).to.equal(ni.modes.qffs!.rules.nonInferior.theta);
    expect(ni.modes.qffs!.rules.nonInferior.tolerance).to.equal(0.05);
    let err: Error | undefined;
    try {
      await calibrateModel(model, val, { modes: ['qffs'], qffsSteps: 5 });
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/T ∈ \{3, 4, 6\}, not 5/);
  });

  it('evaluate --json: every operating point with its own baseline, intervals, matched baselines, θ rules and the four figures', async () => {
    const outDir = path.join(tmp, 'report');
    const out = await cli(['evaluate', '--model', modelDir, '--data', testFile, '--out', outDir, '--timing-samples', '12', '--json']);
    const s = JSON.parse(out);
    expect(s.calibratedNow).to.deep.equal([]);
    expect(s.results.map((r: { mode: string; T: number }) => `${r.mode}@${r.T}`)).to.deep.equal(['qcfs@8', 'qffs@3', 'qffs@4', 'qffs@6']);
    const md = fs.readFileSync(path.join(outDir, 'report.md'), 'utf8');
    for (const h of ['Table 1', 'Table 2', 'Table 3', 'Decision latency', 'Upper bounds', 'Calibration', 'Termination steps', 'Figures',
      'Does Dynamic Confidence lose accuracy?', 'Matched baselines', 'Conversion check', 'θ rules', 'extension', '| promise | kept | confirmed |',
      'θ rules, chosen on validation and checked on test', 'Transfer over the operating points: paper on q_t ≥ θ, every θ kept', '| stored |',
      'Shown confidence and stop rules', '| oracle gap |', 'Paired difference of steps per sample, calibrated − paper']) {
      expect(md).to.include(h);
    }
    expect(md).to.include('js typed-array runner');
    const rep = JSON.parse(fs.readFileSync(path.join(outDir, 'report.json'), 'utf8'));
    expect(rep.results).to.have.length(4);
    const meta = JSON.parse(fs.readFileSync(path.join(modelDir, 'spikestream.json'), 'utf8'));
    for (const r of rep.results) {
      const T = r.T;
      const base = `${r.conversion}-T${T}`;
      for (const f of ['fig1-accuracy-steps', 'fig2-accuracy-confidence', 'fig3-theta-grid', 'fig4-termination', 'fig5-reliability']) {
        expect(md).to.include(`(${base}-${f}.svg)`);
        const svg = fs.readFileSync(path.join(outDir, `${base}-${f}.svg`), 'utf8');
        expect(svg.startsWith('<svg')).to.equal(true);
        expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
      }
      const c = meta.calibration.modes[r.conversion];
      const stored = c.operatingPoints.find((o: { T: number }) => o.T === T);
      expect(r.deployed).to.equal(c.T === T);
      expect(r.dc.theta).to.equal(stored.theta); // θ from validation, not re-chosen on test
      expect(r.alpha).to.equal(stored.alpha);
      expect(r.thetaChosenOn).to.equal('validation');
      expect(r.n).to.equal(64);
      expect(r.dc.meanSteps).to.be.within(1, T);
      expect(r.latencySavingPct).to.be.closeTo((1 - r.dc.meanSteps / T) * 100, 1e-9);
      expect(r.wallMs.samples).to.equal(12);
      expect(r.wallMsPerInference.without).to.be.above(0);
      expect(r.spikesPerNeuron.with).to.be.at.most(r.spikesPerNeuron.without + 1e-12);
      expect(r.decisionLatencyMs.without.mean).to.be.closeTo((T * BIN_US) / 1000, 1e-9);
      expect(r.decisionLatencyMs.with.mean).to.be.closeTo((r.dc.meanSteps * BIN_US) / 1000, 1e-9);
      expect(r.perStep.accuracy).to.have.length(T);
      expect(r.terminationHistogram.counts.reduce((a: number, b: number) => a + b, 0)).to.equal(64);
      expect(r.oracles.firstCorrect.accuracy).to.be.at.least(r.accSnnT);
      // Matched baselines: Acc(ANN) is the ANN on the mean of the same T frames.
      expect(r.matched.annPrefixMean).to.have.length(T);
      expect(r.accAnn).to.equal(r.matched.annPrefixMean[T - 1]);
      expect(r.matched.annEnsemble).to.have.length(T);
      // At t = 1 both baselines see frame 1 alone.
      expect(r.matched.annEnsemble[0]).to.equal(r.matched.annPrefixMean[0]);
      expect(r.conversionCheck.T).to.equal(T);
      expect(r.conversionCheck.accAnn).to.equal(r.accAnn);
      expect(r.conversionCheck.agreement).to.be.within(0, 1);
      // Intervals contain their point estimates; the paired difference is DC − full-T.
      const u = r.uncertainty;
      for (const [v, ci] of [[r.accAnn, u.accAnn], [r.accSnnT, u.accSnnT], [r.dc.accuracy, u.dc]]) expect(v).to.be.within(ci.lo, ci.hi);
      expect(u.dcVsFullT.accuracyDiff.value).to.be.closeTo(r.dc.accuracy - r.accSnnT, 1e-12);
      expect(u.dcVsFullT.meanSteps.value).to.be.closeTo(r.dc.meanSteps, 1e-12);
      expect(u.noLoss).to.match(/points \[/);
      expect(r.thetaRules.map((o: { rule: string; grid: string }) => `${o.rule}/${o.grid}`)).to.deep.equal(['paper on q_t ≥ θ/exact', 'paper on c_t > θ/exact']);
      expect(r.thetaRules.map((o: { deployed: boolean }) => o.deployed)).to.deep.equal([true, false]);
      // The shown confidence: ECE with percentile intervals (resampled ECE is biased upwards, so on 64
      // samples an interval may lie above its estimate); each stop rule against the oracle.
      const sc = r.shownConfidence;
      expect(sc.shown).to.equal('calibrated');
      for (const q of [sc.quality.calibrated.decisions.ece, sc.quality.calibrated.steps.ece, sc.quality.paper.decisions.ece]) {
        expect(q.value).to.be.within(0, 1);
        expect(q.lo).to.be.at.most(q.hi);
      }
      expect(sc.rules.map((x: { stopRule: string }) => x.stopRule)).to.deep.equal(['calibrated', 'paper']);
      expect(sc.rules[0].meanSteps.value).to.be.closeTo(r.dc.meanSteps, 1e-12);
      expect(sc.rules[0].oracleGap).to.be.closeTo(r.dc.meanSteps - sc.oracle.meanSteps, 1e-12);
      expect(sc.stepsCalibratedMinusPaper.value).to.be.closeTo(sc.rules[0].meanSteps.value - sc.rules[1].meanSteps.value, 1e-12);
      expect(r.thetaRules[0].test.accuracy).to.be.closeTo(r.dc.accuracy, 1e-12);
      expect(r.notes.join(' ')).to.not.include('WARNING');
    }
    // report.json holds everything: re-rendering it gives the same report.
    const again = path.join(tmp, 'report-again');
    writeReport(again, readReportJson(path.join(outDir, 'report.json')));
    expect(fs.readFileSync(path.join(again, 'report.md'), 'utf8')).to.equal(md);
    expect(fs.readFileSync(path.join(again, 'qcfs-T8-fig1-accuracy-steps.svg'), 'utf8')).to.equal(fs.readFileSync(path.join(outDir, 'qcfs-T8-fig1-accuracy-steps.svg'), 'utf8'));
    expect(() => readReportJson(path.join(modelDir, 'spikestream.json'))).to.throw(/not a spikestream evaluation report/);
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
    expect(s.results.map((r: { T: number }) => r.T)).to.deep.equal([3, 4, 6]);
    expect(s.results.find((r: { T: number }) => r.T === 4).theta).to.equal(m.theta);
    // Only qffs was calibrated: the default (qcfs) top level stays uncalibrated.
    const meta = JSON.parse(fs.readFileSync(path.join(uncalDir, 'spikestream.json'), 'utf8'));
    expect(meta.calibration.theta ?? null).to.equal(null);
    const md = fs.readFileSync(path.join(outDir, 'report.md'), 'utf8');
    expect(md).to.include('Table 1');
    expect(md).to.not.include('Table 2'); // timing skipped
    expect(readFramesFile(testFile).n).to.equal(64);
  });
});
