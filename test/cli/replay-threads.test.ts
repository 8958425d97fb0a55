/**
 * `replay --threads`: the samples shared out over worker threads give the same decisions as one
 * thread, handed on in sample order; a recording segmented by activity stays on one thread.
 */
import { expect } from 'chai';
import * as path from 'path';
import { replay } from '../../src/eval/replay/replay';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { ASAP } from '../../streams/sources/pacing';
import type { Decision } from '../../streams/types';
import { runSpikestream } from '../helpers/cli';
import { repoRoot } from '../helpers/paths';

const byId = (ds: readonly Decision[]) => [...ds].map(({ latencyMs: _l, ...d }) => d).sort((a, b) => a.sampleId.localeCompare(b.sampleId));

describe('replay on worker threads', function () {
  this.timeout(120_000);
  const gesture = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));

  for (const [what, target, model] of [
    ['a dataset folder', path.join(repoRoot, 'recordings', 'gestures'), gesture],
    ['label windows of a recording', path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'), gesture],
    ['an N-MNIST folder', path.join(repoRoot, 'recordings', 'saccades', 'mnist'), loadClassifierModel(path.join(repoRoot, 'models', 'saccade-mnist'))],
  ] as const) {
    it(`${what}: the same decisions as one thread, in sample order`, async () => {
      const base = { pacing: ASAP, split: 'all' as const, slots: 8 };
      const one = await replay(target, model, { ...base, threads: 1 });
      const order: number[] = [];
      const three = await replay(target, model, { ...base, threads: 3, onDecision: (_d, i) => order.push(i ?? -1) });
      expect(one.decisions.length).to.be.greaterThan(5);
      expect(byId(three.decisions)).to.deep.equal(byId(one.decisions));
      expect(order).to.deep.equal([...order].sort((a, b) => a - b));
      expect(three.samples).to.equal(one.samples);
      expect(three.skippedFrames).to.equal(one.skippedFrames);
      expect(three.source).to.match(/3 threads/);
    });
  }

  it('the CLI takes --threads and --runner, and refuses bad values', () => {
    const recording = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
    const r = runSpikestream(['replay', recording, '--json', '--threads', '2', '--runner', 'typed']);
    expect(r.code).to.equal(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('{"type":"decision"'))).to.have.length(11);
    expect(runSpikestream(['replay', recording, '--threads', '0']).code).to.equal(2);
    expect(runSpikestream(['replay', recording, '--runner', 'gpu']).code).to.equal(2);
  });
});
