import { sleep, waitFor } from '../helpers/time';
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { firstValueFrom, lastValueFrom, Subject, toArray } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { batchFromArrays } from '../../src/events/event-batch';
import { SnnRunner } from '../../src/snn/runner';
import { SnnScheduler } from '../../src/snn/scheduler';
import { bufferedSource } from '../../streams/core/buffered-source';
import { loadClassifierModel, type ClassifierModel } from '../../src/snn/model/classifier-model';
import { classifyStats, ModelInputError } from '../../streams/core/engine';
import { sourceFromBatches, type EventSource } from '../../streams/core/event-source';
import { classify, classifySample } from '../../streams/operators/classify';
import { classifyLive } from '../../streams/operators/classify-live';
import type { Decision, Sample } from '../../streams/types';
import { randomRecording } from '../helpers/gesture-fixture';
import { makeTempDir } from '../helpers/paths';
import { writeTinyModel } from '../helpers/tiny-model';

const GEOM = { width: 128, height: 128 };

/** A source whose pulls never deliver anything (a sensor that went silent); counts opens and closes. */
function silentSource(): EventSource & { opened: number; aborted: number } {
  const s = {
    opened: 0,
    aborted: 0,
    open(signal: AbortSignal) {
      s.opened++;
      signal.addEventListener('abort', () => s.aborted++, { once: true });
      return {
        next: () => new Promise<IteratorResult<EventBatch, undefined>>((resolve) => signal.addEventListener('abort', () => resolve({ done: true, value: undefined }), { once: true })),
        settle: () => undefined,
      };
    },
  };
  return s;
}

describe('engine: one per-sample engine, cancellation that frees everything', function () {
  this.timeout(60_000);
  let dir: string;
  let model: ClassifierModel;
  before(() => {
    dir = makeTempDir('spikestream-engine-');
    writeTinyModel(path.join(dir, 'm'), { T: 10, binUs: 50_000 });
    model = loadClassifierModel(path.join(dir, 'm'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const scheduler = (slots: number) => new SnnScheduler(new SnnRunner(model.net, slots));
  const sample = (id: string, events: EventSource, tEnd = 500_000): Sample => ({ id, streamId: 's', tStart: 0, tEnd, geometry: GEOM, events });

  it('the composed operator path builds no frame after the deciding one, even with every event in memory', async () => {
    const all = randomRecording(0, 500_000, 20, 3); // 10 bins of events, one batch
    const stats = classifyStats();
    const s = scheduler(4);
    const ds = await lastValueFrom(
      sourcesOf(['a', 'b', 'c'].map((id) => sample(id, sourceFromBatches([all])))).pipe(classify({ model, scheduler: s, theta: 0, stats }), toArray()),
    );
    expect(ds.map((d) => [d.steps, d.early, d.stoppedBy, d.confident])).to.deep.equal([
      [1, true, 'confidence', true],
      [1, true, 'confidence', true],
      [1, true, 'confidence', true],
    ]);
    expect(stats.bin.framesBuilt, 'one frame per sample').to.equal(3);
    expect(stats.stepsRun).to.equal(3);
    expect(s.runner.activeCount).to.equal(0);
  });

  it('measures latency from the arrival of the deciding frame\'s newest event, not from the step', async () => {
    const events = new Subject<EventBatch>();
    const s = scheduler(1);
    const got = firstValueFrom(classifySample(sample('lat', bufferedSource(events), Infinity), { model, scheduler: s, theta: 0 }));
    // The engine opens its pull after taking a slot, and the Subject is hot: send only once it listens.
    await waitFor(() => events.observed, 2000, 'the engine to subscribe to the stream');
    events.next(randomRecording(0, 49_000, 20, 4)); // bin 0, arrives now
    await sleep(150); // a fixed wait is the point: the latency must include this much time before bin 0 closes
    events.next(batchFromArrays({ x: [1], y: [1], p: [1], t: [60_000] })); // first event of bin 1 closes bin 0
    const d = await got;
    expect(d.steps).to.equal(1);
    expect(d.latencyMs, 'includes the wait for the event that closed the frame').to.be.at.least(140);
    expect(d.latencyMs).to.be.below(5000);
  });

  it('unsubscribing a silent sample frees its slot and settles its pull in the same turn', async () => {
    const s = scheduler(1);
    const src = silentSource();
    const sub = classifySample(sample('quiet', src), { model, scheduler: s }).subscribe();
    await waitFor(() => src.opened > 0, 2000, 'the engine to open its pull');
    expect(s.runner.activeCount).to.equal(1);
    expect(src.opened).to.equal(1);
    sub.unsubscribe();
    expect(s.runner.activeCount, 'freed synchronously').to.equal(0);
    expect(src.aborted).to.equal(1);
  });

  it('unsubscribing a silent live stream frees its slot within one event-loop turn', async () => {
    const s = scheduler(2);
    const events = new Subject<EventBatch>();
    const sub = classifyLive('cam', GEOM, bufferedSource(events), { model, scheduler: s }).subscribe();
    events.next(randomRecording(0, 30_000, 20, 5)); // a burst: a sample starts, then silence
    await waitFor(() => s.runner.activeCount > 0, 2000, 'the burst to start a sample');
    expect(s.runner.activeCount).to.equal(1);
    sub.unsubscribe();
    await new Promise((r) => setImmediate(r));
    expect(s.runner.activeCount).to.equal(0);
    expect(events.observed, 'the stream is unsubscribed').to.equal(false);
  });

  it('a sample waiting for a slot leaves the queue when unsubscribed', async () => {
    const s = scheduler(1);
    const holder = classifySample(sample('hold', silentSource()), { model, scheduler: s }).subscribe();
    const waiter = classifySample(sample('wait', silentSource()), { model, scheduler: s }).subscribe();
    await waitFor(() => s.waiting > 0, 2000, 'the second sample to queue for the only slot');
    expect(s.waiting).to.equal(1);
    waiter.unsubscribe();
    expect(s.waiting).to.equal(0);
    holder.unsubscribe();
    expect(s.runner.activeCount).to.equal(0);
  });

  it('the wall-time limit decides a trickling sample with what it has and hands its slot to the next in line', async () => {
    const s = scheduler(1);
    const events = new Subject<EventBatch>();
    const stats = classifyStats();
    const got: Decision[] = [];
    const sub = classifyLive('trickle', GEOM, bufferedSource(events), { model, scheduler: s, theta: 1, wallLimitMs: 300, stats }).subscribe((d) => got.push(d));
    await waitFor(() => events.observed, 2000, 'the live stream to be subscribed');
    events.next(randomRecording(0, 30_000, 20, 6));
    // One event every 40 ms whose sensor time advances 1 µs: the sample never reaches its bin's end.
    let t = 30_000;
    const trickle = setInterval(() => events.next(batchFromArrays({ x: [2], y: [2], p: [1], t: [++t] })), 40);
    try {
      await waitFor(() => s.runner.activeCount > 0, 2000, 'the trickling sample to take the only slot');
      const good = firstValueFrom(classifySample(sample('good', sourceFromBatches([randomRecording(0, 500_000, 30, 9)])), { model, scheduler: s, theta: 1 }));
      await waitFor(() => s.waiting > 0 || got.length > 0, 2000, 'the good sample to queue for the slot');
      expect(s.waiting, 'the good sample waits for the only slot').to.equal(1);
      const t0 = performance.now();
      const d = await good;
      expect(d.sampleId).to.equal('good');
      expect(performance.now() - t0).to.be.below(2000);
      expect(got).to.have.length(1);
      expect(got[0]).to.deep.include({ stoppedBy: 'wall-limit', confident: false, early: false, steps: 1 });
      expect(stats.wallLimited).to.equal(1);
    } finally {
      clearInterval(trickle);
      sub.unsubscribe();
    }
    expect(s.runner.activeCount).to.equal(0);
  });

  it('a sensor the model cannot take is refused before it takes a slot: 40 of them, then a good one is served', async () => {
    const s = scheduler(1);
    const small = randomRecording(0, 300_000, 50, 7);
    for (let i = 0; i < 40; i++) {
      const bad: Sample = { ...sample(`bad${i}`, sourceFromBatches([small])), geometry: { width: 240, height: 180 } };
      const err = await lastValueFrom(classifySample(bad, { model, scheduler: s })).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ModelInputError);
    }
    expect(s.runner.activeCount).to.equal(0);
    const d = await lastValueFrom(classifySample(sample('good', sourceFromBatches([small]), 300_000), { model, scheduler: s }));
    expect(d.sampleId).to.equal('good');
  });

  it('a window with no events, or fewer than minEvents, gets no decision (counted)', async () => {
    const s = scheduler(2);
    const stats = classifyStats();
    const few = randomRecording(0, 100_000, 2000, 10); // ~50 events
    const outside: Sample = { ...sample('outside', sourceFromBatches([few])), tStart: 5_000_000, tEnd: 5_500_000 };
    const ds = await lastValueFrom(sourcesOf([outside, sample('few', sourceFromBatches([few]))]).pipe(classify({ model, scheduler: s, stats, minEvents: 100 }), toArray()));
    expect(ds).to.deep.equal([]);
    expect(stats.emptySamples).to.equal(2);
    const one = await lastValueFrom(sourcesOf([sample('few', sourceFromBatches([few]))]).pipe(classify({ model, scheduler: s }), toArray()));
    expect(one.map((d) => d.sampleId)).to.deep.equal(['few']);
    expect(s.runner.activeCount).to.equal(0);
  });

  it('gives the same decision whether the events come in one batch or in many', async () => {
    const all = randomRecording(0, 500_000, 30, 8);
    const pieces: EventBatch[] = [];
    for (let i = 0; i < all.length; i += 97) pieces.push(sliceOf(all, i, Math.min(all.length, i + 97)));
    const one = await lastValueFrom(classifySample(sample('x', sourceFromBatches([all])), { model, scheduler: scheduler(1), theta: 0.5 }));
    const many = await lastValueFrom(classifySample(sample('x', sourceFromBatches(pieces)), { model, scheduler: scheduler(1), theta: 0.5 }));
    const essence = (d: Decision) => [d.label, d.confidence, d.steps, d.early, d.eventTimeUs, d.eventsConsumed];
    expect(essence(many)).to.deep.equal(essence(one));
  });
});

function sourcesOf(samples: Sample[]) {
  const { from } = require('rxjs') as typeof import('rxjs');
  return from(samples);
}

function sliceOf(b: EventBatch, from: number, to: number): EventBatch {
  const { sliceByIndex } = require('../../src/events/event-batch') as typeof import('../../src/events/event-batch');
  return sliceByIndex(b, from, to);
}
