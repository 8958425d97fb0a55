import { expect } from 'chai';
import * as path from 'path';
import { lastValueFrom, merge, toArray } from 'rxjs';
import { SnnRunner } from '../../src/snn/runner';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { classifyStats } from '../../streams/core/engine';
import { segmentStats } from '../../streams/core/live-segmenter';
import { bufferedSource } from '../../streams/core/buffered-source';
import { SnnScheduler } from '../../src/snn/scheduler';
import { classifyLive } from '../../streams/operators/classify-live';
import { eventFileSource } from '../../streams/sources/from-event-file';
import type { Decision as ClassifiedDecision } from '../../streams/types';
import { repoRoot } from '../helpers/paths';
import { sleep, waitFor } from '../helpers/time';

describe('live streams: activity segmentation + Dynamic Confidence', function () {
  this.timeout(120_000);
  const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
  const file = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
  const geometry = { width: 128, height: 128 };
  const essence = (ds: ClassifiedDecision[]) => ds.map((d) => [d.sampleId, d.sampleStartUs, d.eventTimeUs, d.label, d.steps, d.early, d.confidence]);

  async function live(chunkBytes: number, slots = 4, onDecided: 'next-sample' | 'skip-to-window-end' = 'next-sample') {
    const scheduler = new SnnScheduler(new SnnRunner(model.net, slots));
    const stats = classifyStats();
    const seg = segmentStats();
    const ds = await lastValueFrom(classifyLive('cam', geometry, eventFileSource(file, { chunkBytes }), { model, scheduler, stats, onDecided, segmentStats: seg }).pipe(toArray()));
    expect(scheduler.runner.activeCount).to.equal(0);
    return { ds, stats, seg };
  }

  it('gives one decision per sample, most of them early, with samples following each other in time', async () => {
    const { ds, stats, seg } = await live(1 << 16);
    expect(ds.length).to.be.greaterThan(20);
    // A model property, not a mechanism: on this recording (1.5 s gestures, shorter than any in training)
    // the bundled model answers early in about half its samples (19 of 38 at the time-ramp weights).
    expect(stats.early).to.be.at.least(0.4 * ds.length);
    for (let k = 1; k < ds.length; k++) {
      expect(ds[k].sampleStartUs).to.be.above(ds[k - 1].sampleStartUs);
      // After an early decision at the end of bin k, the next sample starts at or after that bin's end.
      if (ds[k - 1].early) expect(ds[k].sampleStartUs).to.be.at.least(ds[k - 1].eventTimeUs);
    }
    expect(seg.samples).to.be.at.least(ds.length);
    expect(seg.unrouted).to.be.greaterThan(0); // the pauses between gestures
  });

  it('decides the same whatever the chunk sizes and however many streams share the runner', async () => {
    const reference = essence((await live(1 << 16)).ds);
    for (const chunk of [1000, 4096 + 3, 1 << 20]) expect(essence((await live(chunk)).ds), `chunks of ${chunk} B`).to.deep.equal(reference);
    // Three streams at once, sharing one 4-slot runner.
    const scheduler = new SnnScheduler(new SnnRunner(model.net, 4));
    const all = await lastValueFrom(
      merge(...['a', 'b', 'c'].map((id, k) => classifyLive(id, geometry, eventFileSource(file, { chunkBytes: 3000 + 1000 * k }), { model, scheduler }))).pipe(toArray()),
    );
    for (const id of ['a', 'b', 'c']) {
      const mine = all.filter((d) => d.streamId === id).map((d) => ({ ...d, sampleId: d.sampleId.replace(`${id}#`, 'cam#') }));
      expect(essence(mine), `stream ${id}`).to.deep.equal(reference);
    }
    expect(scheduler.stats.maxBatch).to.be.greaterThan(1);
  });

  it("'skip-to-window-end' skips the rest of a decided sample and counts it", async () => {
    const next = await live(1 << 16, 2, 'next-sample');
    const skip = await live(1 << 16, 2, 'skip-to-window-end');
    expect(skip.seg.skipped).to.be.greaterThan(0);
    expect(skip.ds.length).to.be.below(next.ds.length);
  });
});

describe('live streams: a sensor that goes silent', function () {
  this.timeout(60_000);
  const { Subject } = require('rxjs') as typeof import('rxjs');
  const { writeTinyModel } = require('../helpers/tiny-model') as typeof import('../helpers/tiny-model');
  const { randomRecording } = require('../helpers/gesture-fixture') as typeof import('../helpers/gesture-fixture');
  const { makeTempDir } = require('../helpers/paths') as typeof import('../helpers/paths');
  const fs = require('fs') as typeof import('fs');

  it('with idleFlushMs, the sample in progress ends and is decided without further events', async () => {
    const dir = makeTempDir();
    writeTinyModel(path.join(dir, 'm'), { T: 10, binUs: 50_000 });
    const model = loadClassifierModel(path.join(dir, 'm'), { theta: 1 }); // never early: only the sample's end decides
    const burst = randomRecording(0, 230_000, 20, 4); // ~11,500 events in 230 ms: one sample, 5 bins
    for (const idleFlushMs of [undefined, 100]) {
      const events = new Subject<import('../../src/events/event-batch').EventBatch>();
      const got: ClassifiedDecision[] = [];
      const scheduler = new SnnScheduler(new SnnRunner(model.net, 1));
      const sub = classifyLive('cam', { width: 128, height: 128 }, bufferedSource(events), { model, scheduler, idleFlushMs }).subscribe((d) => got.push(d));
      events.next(burst);
      if (idleFlushMs === undefined) {
        await sleep(400); // a fixed wait is the point: without idle flush nothing may be decided in it
        expect(got, 'without idle flush: still waiting for events').to.have.length(0);
      } else {
        await waitFor(() => got.length > 0, 2000, 'the idle flush to decide the sample');
        expect(got).to.have.length(1);
        expect(got[0].early).to.equal(false);
        expect(got[0].steps).to.equal(5);
      }
      sub.unsubscribe();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
