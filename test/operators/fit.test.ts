import { expect } from 'chai';
import { from, lastValueFrom, toArray } from 'rxjs';
import { batchFromArrays } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { describeFitPlan, fitBatches, FitError, fitSample, fitStats, fitToModel, makeFit, modelSensorGeometry, planFit } from '../../streams/operators/fit';
import { eventsOf, sourceFromBatches } from '../../streams/core/event-source';
import type { Sample } from '../../streams/types';
import { sharedRecording } from '../helpers/paths';
import { joined, randomEvents, splitRandom, toPlain } from './util';

const M128 = { width: 128, height: 128 };

describe('operators: fit (sensor size → model input)', () => {
  it('modelSensorGeometry is the input size times the downsample factor', () => {
    expect(modelSensorGeometry({ net: { inputWidth: 32, inputHeight: 32 }, downsample: 4 })).to.deep.equal(M128);
  });

  it('passes a sensor of the target size through unchanged (the same batch object)', () => {
    const b = randomEvents(100, 128, 128, 1);
    const f = makeFit({ sensor: M128, target: M128 });
    expect(f.plan.identity).to.equal(true);
    expect(f.apply(b)).to.equal(b);
    expect(f.stats).to.include({ in: 100, out: 100 });
  });

  it('refuses a size mismatch without --fit, naming the fix', () => {
    expect(() => planFit({ sensor: { width: 240, height: 180 }, target: M128 })).to.throw(FitError, /240×180 sensor does not match the model's 128×128 input: add --fit scale or --fit crop/);
    expect(() => planFit({ sensor: { width: 34, height: 34 }, target: M128 })).to.throw(FitError, /add --fit pad/);
  });

  it('scale: DAVIS240 (240×180) → 1/2 → 120×90, centred in 128×128', () => {
    const f = makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'scale' });
    expect(f.plan).to.include({ factor: 2, offsetX: -4, offsetY: -19 });
    expect(f.geometry).to.deep.equal(M128);
    const out = f.apply(batchFromArrays({ x: [0, 239, 1, 120], y: [0, 179, 1, 90], p: [1, 0, 1, 0], t: [1, 2, 3, 4] }));
    expect(toPlain(out)).to.deep.equal({ x: [4, 123, 4, 64], y: [19, 108, 19, 64], p: [1, 0, 1, 0], t: [1, 2, 3, 4] });
    expect(f.stats).to.include({ in: 4, out: 4, cropped: 0 });
  });

  it('scale picks the smallest factor that fits for DAVIS346, DVXplorer and Prophesee sensors', () => {
    const factor = (width: number, height: number) => planFit({ sensor: { width, height }, target: M128, fit: 'scale' });
    expect(factor(346, 260)).to.deep.include({ factor: 3, scaled: { width: 116, height: 87 } });
    expect(factor(640, 480)).to.deep.include({ factor: 5, scaled: { width: 128, height: 96 } });
    expect(factor(1280, 720)).to.deep.include({ factor: 10, scaled: { width: 128, height: 72 } });
    // No upscaling: a smaller sensor is only centred.
    expect(factor(34, 34)).to.deep.include({ factor: 1, offsetX: -47, offsetY: -47 });
  });

  it('crop: keeps the centre 128×128 of a 240×180 sensor and counts what it cuts', () => {
    const f = makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'crop' });
    expect(f.plan).to.include({ factor: 1, offsetX: 56, offsetY: 26 });
    const out = f.apply(batchFromArrays({ x: [56, 55, 183, 184, 100], y: [26, 26, 153, 100, 25], p: [1, 1, 0, 0, 1], t: [1, 2, 3, 4, 5] }));
    expect(toPlain(out)).to.deep.equal({ x: [0, 127], y: [0, 127], p: [1, 0], t: [1, 3] });
    expect(f.stats).to.include({ in: 5, out: 2, cropped: 3, outOfBounds: 0, outsideRoi: 0 });
  });

  it('pad: centres a smaller sensor and refuses a larger one', () => {
    const f = makeFit({ sensor: { width: 34, height: 34 }, target: M128, fit: 'pad' });
    expect(toPlain(f.apply(batchFromArrays({ x: [0, 33], y: [0, 33], p: [1, 0], t: [5, 6] })))).to.deep.equal({ x: [47, 80], y: [47, 80], p: [1, 0], t: [5, 6] });
    expect(() => planFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'pad' })).to.throw(FitError, /--fit pad cannot fit .* use --fit scale or --fit crop/);
  });

  it('roi: keeps a rectangle first (re-origined), then fits it; events outside it are counted', () => {
    const f = makeFit({ sensor: { width: 346, height: 260 }, target: M128, roi: { x: 100, y: 50, width: 128, height: 128 } });
    expect(f.plan.identity).to.equal(false);
    const out = f.apply(batchFromArrays({ x: [100, 99, 227, 228, 400], y: [50, 50, 177, 60, 10], p: [1, 1, 0, 0, 1], t: [1, 2, 3, 4, 5] }));
    expect(toPlain(out)).to.deep.equal({ x: [0, 127], y: [0, 127], p: [1, 0], t: [1, 3] });
    expect(f.stats).to.include({ in: 5, out: 2, outsideRoi: 2, outOfBounds: 1, cropped: 0 });
    const scaled = planFit({ sensor: { width: 640, height: 480 }, target: M128, roi: { x: 0, y: 0, width: 256, height: 256 }, fit: 'scale' });
    expect(scaled).to.deep.include({ factor: 2, offsetX: 0, offsetY: 0 });
    expect(() => planFit({ sensor: { width: 240, height: 180 }, target: M128, roi: { x: 200, y: 0, width: 128, height: 128 } })).to.throw(FitError, /reaches outside the 240×180 sensor/);
    expect(() => planFit({ sensor: { width: 240, height: 180 }, target: M128, roi: { x: 0, y: 0, width: 100, height: 100 } })).to.throw(FitError, /100×100 ROI of the 240×180 sensor .* --fit pad/);
  });

  it('is pure, loses nothing uncounted, and gives the same events however the input is split', () => {
    const all = randomEvents(5000, 250, 190, 7); // some events beyond the 240×180 sensor
    const copy = toPlain(all);
    const whole = makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'crop', roi: { x: 10, y: 5, width: 200, height: 170 } });
    const expected = toPlain(whole.apply(all));
    expect(toPlain(all)).to.deep.equal(copy);
    const s = whole.stats;
    expect(s.in).to.equal(5000);
    expect(s.out + s.outOfBounds + s.outsideRoi + s.cropped).to.equal(s.in);
    expect(s.outOfBounds).to.be.greaterThan(0);
    expect(s.cropped).to.be.greaterThan(0);
    const pieces = makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'crop', roi: { x: 10, y: 5, width: 200, height: 170 } });
    expect(joined(splitRandom(all, 3).map((b) => pieces.apply(b)))).to.deep.equal(expected);
  });

  it('fitToModel: an operator that checks its plan when made, drops empty results and counts into given stats', async () => {
    expect(() => fitToModel({ sensor: { width: 640, height: 480 }, target: M128 })).to.throw(FitError);
    const stats = fitStats();
    const op = fitToModel({ sensor: { width: 240, height: 180 }, target: M128, fit: 'crop', stats });
    const batches = [
      batchFromArrays({ x: [0], y: [0], p: [1], t: [1] }), // cropped away: nothing emitted
      batchFromArrays({ x: [120], y: [90], p: [1], t: [2] }),
    ];
    const out = await lastValueFrom(from(batches).pipe(op, toArray()));
    expect(out.map(toPlain)).to.deep.equal([{ x: [64], y: [64], p: [1], t: [2] }]);
    expect(stats).to.include({ in: 2, out: 1, cropped: 1 });
  });

  it('fitSample and fitBatches: a sample or a batch stream of the sensor size becomes one of the target size', async () => {
    const f = makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'scale' });
    const batches = [batchFromArrays({ x: [0, 239], y: [0, 179], p: [1, 0], t: [1, 2] }), batchFromArrays({ x: [300], y: [0], p: [1], t: [3] })];
    const sample: Sample = { id: 'a#0', streamId: 'a', tStart: 0, tEnd: 10, geometry: { width: 240, height: 180 }, events: sourceFromBatches(batches) };
    const fitted = fitSample(sample, f);
    expect(fitted).to.deep.include({ id: 'a#0', tStart: 0, tEnd: 10, geometry: M128 });
    const got = await lastValueFrom(eventsOf(fitted.events).pipe(toArray()));
    expect(got.map(toPlain)).to.deep.equal([{ x: [4, 123], y: [19, 108], p: [1, 0], t: [1, 2] }]); // the out-of-bounds batch is empty: skipped
    expect(f.stats).to.include({ in: 3, out: 2, outOfBounds: 1 });
    const same = makeFit({ sensor: M128, target: M128 });
    const s128 = { ...sample, geometry: M128 };
    expect(fitSample(s128, same)).to.equal(s128);
    async function* gen() {
      yield* batches;
    }
    const streamed = [];
    for await (const b of fitBatches(gen(), makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'scale' }))) streamed.push(toPlain(b));
    expect(streamed).to.deep.equal([{ x: [4, 123], y: [19, 108], p: [1, 0], t: [1, 2] }]);
  });

  it('describes a plan in one line', () => {
    expect(describeFitPlan(planFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'scale' }))).to.equal('240×180: scale 1/2 → 120×90, padded to 128×128');
    expect(describeFitPlan(planFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'crop' }))).to.equal('240×180: centre crop 128×128');
    expect(describeFitPlan(planFit({ sensor: M128, target: M128 }))).to.equal('128×128 as is');
  });

  it('brings a real DAVIS240 recording into 128×128', async function () {
    this.timeout(30_000);
    const f = makeFit({ sensor: { width: 240, height: 180 }, target: M128, fit: 'scale' });
    let out = 0;
    let outside = 0;
    for await (const b of readEventFile(sharedRecording('davis240c_IMU_translBoxes.aedat'))) {
      const o = f.apply(b);
      out += o.length;
      for (let i = 0; i < o.length; i++) if (o.x[i] >= 128 || o.y[i] >= 128) outside++;
    }
    expect(out).to.be.greaterThan(0);
    expect(outside).to.equal(0);
    expect(f.stats.out).to.equal(out);
    expect(f.stats.in).to.equal(out + f.stats.outOfBounds);
  });
});
