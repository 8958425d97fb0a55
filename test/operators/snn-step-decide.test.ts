import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { from, lastValueFrom, of, toArray } from 'rxjs';
import { SnnRunner } from '../../src/snn/runner';
import { loadClassifierModel } from '../../streams/classifier-model';
import { binFrames, binStats } from '../../streams/operators/bin';
import { decide } from '../../streams/operators/decide';
import { snnStep } from '../../streams/operators/snn-step';
import { SnnScheduler } from '../../streams/operators/snn-scheduler';
import type { StepResult } from '../../streams/types';
import { makeTempDir } from '../helpers/paths';
import { randomRecording } from '../helpers/gesture-fixture';
import { writeTinyModel } from '../helpers/tiny-model';

function result(step: number, confidence: number, closedBy: 'time' | 'window-end' = 'time'): StepResult {
  return {
    sampleId: 's',
    streamId: 'x',
    step,
    output: new Float32Array(3),
    confidence,
    predicted: step % 3,
    spikes: [],
    spikesPerNeuron: 0,
    frame: { tStart: step * 10, tEnd: (step + 1) * 10, eventCount: 1, closedBy },
  };
}

describe('decide (operator)', () => {
  const classes = ['a', 'b', 'c'];
  it('answers at the first step with confidence > θ (strict) and completes', async () => {
    const ds = await lastValueFrom(of(result(0, 0.5), result(1, 0.6), result(2, 0.9), result(3, 0.95)).pipe(decide({ theta: 0.6, maxSteps: 8, classes, trueLabel: 2 }), toArray()));
    expect(ds).to.have.length(1);
    expect(ds[0]).to.include({ steps: 3, label: 2, className: 'c', early: true, eventTimeUs: 30, trueLabel: 2, maxSteps: 8 });
  });
  it('answers at T, or at the sample’s last step, without calling it early', async () => {
    const atT = await lastValueFrom(of(result(0, 0.1), result(1, 0.2), result(2, 0.3)).pipe(decide({ theta: 0.9, maxSteps: 2, classes }), toArray()));
    expect(atT.map((d) => [d.steps, d.early])).to.deep.equal([[2, false]]);
    const ended = await lastValueFrom(of(result(0, 0.1), result(1, 0.2)).pipe(decide({ theta: 0.9, maxSteps: 16, classes }), toArray()));
    expect(ended.map((d) => [d.steps, d.early])).to.deep.equal([[2, false]]);
    const lastFrame = await lastValueFrom(of(result(0, 0.1), result(1, 0.95, 'window-end')).pipe(decide({ theta: 0.9, maxSteps: 16, classes }), toArray()));
    expect(lastFrame.map((d) => [d.steps, d.early])).to.deep.equal([[2, false]]);
  });
});

describe('bin → snnStep → decide composed', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = makeTempDir();
    writeTinyModel(path.join(dir, 'm'), { T: 10, binUs: 50_000 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('decides each sample once, frees its slot, and stops binning after the decision', async () => {
    const model = loadClassifierModel(path.join(dir, 'm'));
    const scheduler = new SnnScheduler(new SnnRunner(model.net, 2));
    const events = randomRecording(0, 1_000_000, 50, 3);
    const run = async (theta: number) => {
      const stats = binStats();
      const [d] = await lastValueFrom(
        from([events]).pipe(
          binFrames({ geometry: { width: 128, height: 128 }, sampleId: 's', streamId: 'x', tStart: 0, tEnd: 1_000_000, binUs: 50_000, downsample: 4, maxSteps: 10, stats }),
          snnStep(scheduler, { alpha: model.alpha, tau: model.tau }),
          decide({ theta, maxSteps: 10, classes: model.classes }),
          toArray(),
        ),
      );
      await new Promise((r) => setImmediate(r));
      expect(scheduler.runner.activeCount, 'slot freed').to.equal(0);
      return { d, stats };
    };
    const full = await run(1);
    expect(full.d.steps).to.equal(10);
    expect(full.d.early).to.equal(false);
    const early = await run(0);
    expect(early.d.steps).to.equal(1);
    expect(early.d.early).to.equal(true);
  });
});
