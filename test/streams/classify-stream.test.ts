import { expect } from 'chai';
import * as path from 'path';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { SnnRunner } from '../../src/snn/runner';
import { SnnScheduler } from '../../src/snn/scheduler';
import { mapSource, type EventSource } from '../../streams/core/event-source';
import type { ServiceStepTrace } from '../../streams/core/step-trace';
import { classifyLive } from '../../streams/operators/classify-live';
import { classifyStream, planStreamFit } from '../../streams/operators/classify-stream';
import { FitError } from '../../streams/operators/fit';
import { eventFileSource } from '../../streams/sources/from-event-file';
import type { SampleStart } from '../../streams/core/live-segmenter';
import { repoRoot } from '../helpers/paths';

describe('classifyStream: one stream’s pipeline on every transport', function () {
  this.timeout(120_000);
  const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
  const file = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
  const sensor = { width: 128, height: 128 };
  const scheduler = (): SnnScheduler => new SnnScheduler(new SnnRunner(model.net, 4));
  const essence = (ds: { sampleId: string; label: number; steps: number; confidence: number }[]) => ds.map((d) => [d.sampleId, d.label, d.steps, d.confidence]);

  it('decides as classifyLive does on the fitted events, and traces every step in the one trace shape', async () => {
    const traces: ServiceStepTrace[] = [];
    const ds = await lastValueFrom(classifyStream({ streamId: 'cam', sensor, source: eventFileSource(file) }, { model, scheduler: scheduler(), onTrace: (t) => traces.push(t) }).pipe(toArray()));
    const direct = await lastValueFrom(classifyLive('cam', sensor, eventFileSource(file), { model, scheduler: scheduler() }).pipe(toArray()));
    expect(ds.length).to.be.greaterThan(10);
    expect(essence(ds)).to.deep.equal(essence(direct));
    expect(traces.length).to.equal(ds.reduce((n, d) => n + d.steps, 0));
    for (const t of traces) {
      expect(t.streamId).to.equal('cam');
      expect(t.probabilities).to.have.length(model.classes.length);
      expect(Math.max(...t.probabilities)).to.be.closeTo(t.confidence, 1e-4);
    }
  });

  it('errors with a FitError for a sensor the model cannot take, before reading anything', async () => {
    let opened = false;
    const source: EventSource = {
      open: (signal) => {
        opened = true;
        return eventFileSource(file).open(signal);
      },
    };
    const err = await firstValueFrom(classifyStream({ streamId: 'cam', sensor: { width: 240, height: 180 }, source }, { model, scheduler: scheduler() })).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(FitError);
    expect((err as FitError).message).to.match(/--fit/);
    expect(opened).to.equal(false);
  });

  it("names the source's own batch at each sample start, also when the fit maps the events", async () => {
    // A 256×256 sensor centre-cropped to the model's 128×128: every fitted batch is a new object.
    const big = { width: 256, height: 256 };
    const yielded = new Set<EventBatch>();
    const shifted = mapSource(eventFileSource(file), () => (b) => {
      const out = { ...b, x: b.x.map((x) => x + 64), y: b.y.map((y) => y + 64) };
      yielded.add(out);
      return out;
    });
    const starts: SampleStart[] = [];
    const ds = await lastValueFrom(
      classifyStream({ streamId: 'cam', sensor: big, source: shifted, fit: { fit: 'crop' }, onSampleStart: (s) => starts.push(s) }, { model, scheduler: scheduler() }).pipe(toArray()),
    );
    expect(ds.length).to.be.greaterThan(10);
    expect(starts.length).to.be.at.least(ds.length);
    for (const s of starts) expect(yielded.has(s.batch), `sample ${s.sample}'s batch`).to.equal(true);
    // Shifted into the middle of a 256×256 sensor and cropped back, the events are the original ones.
    const plain = await lastValueFrom(classifyStream({ streamId: 'cam', sensor, source: eventFileSource(file) }, { model, scheduler: scheduler() }).pipe(toArray()));
    expect(essence(ds)).to.deep.equal(essence(plain));
  });
});
