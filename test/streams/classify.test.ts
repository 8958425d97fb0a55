import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { SnnRunner } from '../../src/snn/runner';
import { encodeAedat31 } from 'aedat-parser-ts';
import { loadClassifierModel, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { classify } from '../../streams/operators/classify';
import { classifyStats } from '../../streams/core/engine';
import { SnnScheduler } from '../../src/snn/scheduler';
import { eventFileSource } from '../../streams/sources/from-event-file';
import { fromDataset } from '../../streams/sources/from-dataset';
import { clearGestureIndexCache } from '../../src/datasets/dvs-gesture';
import type { Decision as ClassifiedDecision, Sample } from '../../streams/types';
import { makeTempDir } from '../helpers/paths';
import { randomRecording, writeGestureFolder } from '../helpers/gesture-fixture';
import { writeTinyModel } from '../helpers/tiny-model';

const GEOM = { width: 128, height: 128 };

describe('classify: binning → batched SNN → Dynamic Confidence decision', function () {
  this.timeout(120_000);
  let dir: string;
  let file: string;
  let model: ClassifierModel;
  const windows = [
    [0, 600_000],
    [300_000, 900_000],
    [1_000_000, 1_700_000],
    [1_500_000, 2_000_000],
    [2_100_000, 2_900_000],
  ] as const;

  before(() => {
    dir = makeTempDir('spikestream-classify-');
    writeTinyModel(path.join(dir, 'model'), { T: 10, binUs: 50_000 });
    model = loadClassifierModel(path.join(dir, 'model'));
    file = path.join(dir, 'rec.aedat');
    fs.writeFileSync(file, encodeAedat31(randomRecording(0, 3_000_000, 40, 5), { geometry: GEOM }));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function samplesFromFile(chunkBytes: number): Sample[] {
    return windows.map(([t0, t1], i) => ({
      id: `rec#${i}`,
      streamId: 'rec',
      label: i % 11,
      tStart: t0,
      tEnd: t1,
      geometry: GEOM,
      events: eventFileSource(file, { chunkBytes }),
    }));
  }

  async function run(samples: Sample[], slots: number, theta: number, stats = classifyStats()): Promise<ClassifiedDecision[]> {
    const scheduler = new SnnScheduler(new SnnRunner(model.net, slots));
    const out = await lastValueFrom(from(samples).pipe(classify({ model, scheduler, theta, stats }), toArray()));
    expect(scheduler.runner.activeCount, 'every slot is free again').to.equal(0);
    return out.sort((a, b) => a.sampleId.localeCompare(b.sampleId));
  }

  const essence = (ds: ClassifiedDecision[]) => ds.map((d) => [d.sampleId, d.label, d.confidence, d.steps, d.early, d.eventTimeUs, d.trueLabel]);

  it('gives the same decisions whatever the chunk sizes and however many samples share a batch', async () => {
    const reference = await run(samplesFromFile(1 << 16), 1, 0.3);
    expect(reference).to.have.length(windows.length);
    for (const [chunk, slots] of [[4096, 8], [333, 3], [1 << 20, 5]] as const) {
      expect(essence(await run(samplesFromFile(chunk), slots, 0.3))).to.deep.equal(essence(reference));
    }
  });

  it('with θ = 1 never stops early: each sample runs to T or to its window end', async () => {
    const ds = await run(samplesFromFile(1 << 16), 4, 1);
    for (const d of ds) {
      expect(d.early).to.equal(false);
      const [t0, t1] = windows[Number(d.sampleId.split('#')[1])];
      expect(d.steps).to.equal(Math.min(10, Math.ceil((t1 - t0) / 50_000)));
      expect(d.maxSteps).to.equal(10);
    }
  });

  it('after a decision at step k, no frame k+1 is built and the reader stops', async () => {
    const stats = classifyStats();
    const ds = await run(samplesFromFile(4096), 2, 0);
    for (const d of ds) {
      expect(d.steps).to.equal(1);
      expect(d.early).to.equal(true);
    }
    const stats2 = classifyStats();
    await run(samplesFromFile(4096), 2, 0, stats2);
    expect(stats2.bin.framesBuilt).to.equal(windows.length);
    expect(stats2.stepsRun).to.equal(windows.length);
    expect(stats2.early).to.equal(windows.length);
    expect(stats2.stepsSaved).to.equal(windows.length * 9);
    expect(stats.samples).to.equal(0);
  });

  it('a dataset sample decided early reads only a small part of its window', async () => {
    clearGestureIndexCache();
    const ds = path.join(dir, 'ds');
    fs.mkdirSync(ds);
    writeGestureFolder(ds, [{ name: 'user01_led', split: 'train', events: randomRecording(0, 6_000_000, 5, 9), rows: [[1, 500_000, 5_500_000]] }]);
    let early = 0;
    let full = 0;
    const runWith = async (theta: number) => {
      let bytes = 0;
      const samples = await lastValueFrom(fromDataset(ds, { onBytesRead: (n) => (bytes += n) }).pipe(toArray()));
      const stats = classifyStats();
      const [d] = await run(samples, 1, theta, stats);
      return { d, bytes, stats };
    };
    const a = await runWith(0);
    early = a.bytes;
    const b = await runWith(1);
    full = b.bytes;
    expect(a.d.steps).to.equal(1);
    expect(b.d.steps).to.equal(10);
    expect(a.stats.eventsConsumed).to.be.below(b.stats.eventsConsumed / 5);
    expect(early).to.be.below(full / 3);
  });
});
