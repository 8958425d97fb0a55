/**
 * TensorRunner (the SNN step as batched TF.js ops) against SnnRunner (the event-driven kernel), on
 * the wasm backend: O_t within 1e-4 of the output's scale at every step (QCFS and QFFS, the bundled
 * model on the bundled recording's frames), the same decisions when replaying the bundled test
 * samples, no tensor left behind, and the runner choice.
 */
import { expect } from 'chai';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { replay } from '../../src/eval/replay/replay';
import { initBackend } from '../../src/snn/backend';
import type { FrameDataset } from '../../src/snn/dataset';
import { frameOf } from '../../src/snn/dataset';
import { SnnRunner, SlotsFullError } from '../../src/snn/runner';
import { compareRunners, createRunner, resolveRunnerKind, type RunnerComparison } from '../../src/snn/step-runner';
import { TensorRunner } from '../../src/snn/tensor-runner';
import { loadClassifierModel, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { collectFrameDataset } from '../../streams/sinks/to-frame-dataset';
import { openDataset } from '../../streams/sources/open-dataset';
import { ASAP } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { repoRoot } from '../helpers/paths';

const GESTURES = path.join(repoRoot, 'recordings', 'gestures');

/** compareRunners of the typed and the tensor runner over every sample (the tensor runner disposed after). */
function worstRelativeGap(model: ClassifierModel, ds: FrameDataset): RunnerComparison {
  const tensor = new TensorRunner(model.net, ds.n);
  try {
    return compareRunners(new SnnRunner(model.net, ds.n), tensor, ds);
  } finally {
    tensor.dispose();
  }
}

const essentials = (ds: readonly Decision[]) => ds.map((d) => ({ id: d.sampleId, label: d.label, steps: d.steps, early: d.early, confident: d.confident, stoppedBy: d.stoppedBy }));

describe('TensorRunner (batched TF.js ops) against the event-driven runner', function () {
  this.timeout(120_000);
  let frames: FrameDataset;
  let model: ClassifierModel;

  before(async () => {
    await initBackend('wasm', { log: () => undefined });
    model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    frames = await collectFrameDataset(await openDataset(GESTURES, { split: 'all' }), { binUs: model.binUs, T: model.maxSteps, downsample: model.downsample });
  });

  it('QCFS: O_t within 1e-4 of the output scale at every step, the same prediction at every step', () => {
    const r = worstRelativeGap(model, frames);
    expect(r.worst).to.be.below(1e-4);
    expect(r.predictionsDiffer).to.equal(0);
  });

  it('QFFS: the same, with negative spikes and the spike cap', () => {
    const r = worstRelativeGap(loadClassifierModel(path.join(repoRoot, 'models', 'gesture'), { mode: 'qffs' }), frames);
    expect(r.worst).to.be.below(1e-4);
    expect(r.predictionsDiffer).to.equal(0);
  });

  for (const [what, target, dir] of [
    ['the bundled gesture recording', GESTURES, 'gesture'],
    ['the bundled N-MNIST samples', path.join(repoRoot, 'recordings', 'saccades', 'mnist'), 'saccade-mnist'],
  ] as const) {
    it(`replaying ${what} gives the same decisions with either runner`, async () => {
      const m = loadClassifierModel(path.join(repoRoot, 'models', dir));
      const o = { pacing: ASAP, split: 'all' as const, slots: 16, threads: 1 };
      const typed = await replay(target, m, { ...o, runner: 'typed' });
      const tensor = await replay(target, m, { ...o, runner: 'tensor' });
      const sorted = (ds: readonly Decision[]) => essentials(ds).sort((x, y) => x.id.localeCompare(y.id));
      expect(typed.decisions.length).to.be.greaterThan(5);
      expect(sorted(tensor.decisions)).to.deep.equal(sorted(typed.decisions));
    });
  }

  it('leaves no tensor behind: steady count while stepping, none after dispose()', () => {
    const before = tf.memory().numTensors;
    const r = new TensorRunner(model.net, 3);
    const held = tf.memory().numTensors;
    for (let k = 0; k < 3; k++) {
      const slots = [r.admit(), r.admit()];
      for (let t = 0; t < 4; t++) r.step(slots.map((slot, i) => ({ slot, frame: frameOf(frames, i, t) })));
      slots.forEach((s) => r.release(s));
      expect(tf.memory().numTensors).to.equal(held);
    }
    r.dispose();
    expect(tf.memory().numTensors).to.equal(before);
    expect(() => r.admit()).to.throw(/disposed/);
  });

  it('a re-admitted slot starts afresh; slots are checked like SnnRunner’s', () => {
    const r = new TensorRunner(model.net, 2);
    try {
      const s = r.admit();
      for (let t = 0; t < 5; t++) r.step([{ slot: s, frame: frameOf(frames, 0, t) }]);
      r.release(s);
      const s2 = r.admit();
      r.step([{ slot: s2, frame: frameOf(frames, 1, 0) }]);
      const alone = new TensorRunner(model.net, 1);
      const a = alone.admit();
      alone.step([{ slot: a, frame: frameOf(frames, 1, 0) }]);
      expect(Array.from(r.read(s2).output)).to.deep.equal(Array.from(alone.read(a).output));
      alone.dispose();
      r.admit();
      expect(() => r.admit()).to.throw(SlotsFullError);
      expect(() => r.step([{ slot: s2, frame: new Float32Array(3) }])).to.throw(/expected 2048/);
      expect(() => r.step([{ slot: s2, frame: frameOf(frames, 0, 0) }, { slot: s2, frame: frameOf(frames, 0, 1) }])).to.throw(/twice/);
      r.release(s2);
      expect(() => r.read(s2)).to.throw(/not admitted/);
    } finally {
      r.dispose();
    }
  });

  it('createRunner builds the kind asked for; auto means typed unless TF.js runs on its native backend', async () => {
    expect(createRunner(model.net, 1, 'typed')).to.be.instanceOf(SnnRunner);
    const t = createRunner(model.net, 1, 'tensor');
    expect(t).to.be.instanceOf(TensorRunner);
    (t as TensorRunner).dispose();
    expect(createRunner(model.net, 1, 'auto').kind).to.equal(tf.getBackend() === 'tensorflow' ? 'tensor' : 'typed');
    expect(await resolveRunnerKind('typed')).to.equal('typed');
    expect(await resolveRunnerKind('tensor')).to.equal('tensor');
    const auto = await resolveRunnerKind('auto', () => undefined);
    expect(auto).to.equal(tf.getBackend() === 'tensorflow' ? 'tensor' : 'typed');
  });
});
