import { expect } from 'chai';
import { DvsEmulator, emulateRender, type DvsEmulatorOptions } from '../../src/emulator/dvs-emulator';
import type { EventBatch } from '../../src/events/event-batch';
import { Rng } from '../../src/prng';

function uniform(n: number, v: number): Float32Array {
  return new Float32Array(n).fill(v);
}

function expectSorted(b: EventBatch): void {
  for (let i = 1; i < b.length; i++) if (b.t[i] < b.t[i - 1]) expect.fail(`time decreases at ${i}`);
}

describe('emulator/DvsEmulator', () => {
  const W = 32;
  const H = 32;
  const N = W * H;

  it('a brightness step gives ≈ Δln I / θ events per pixel, all of the step’s polarity', () => {
    const eps = 1e-3;
    const opts: DvsEmulatorOptions = { width: W, height: H, seed: 3, thresholdOn: 0.2, thresholdOff: 0.25, thresholdSigma: 0.02, logEpsilon: eps };
    const emu = new DvsEmulator(opts);
    const i0 = 0.1;
    const i1 = 0.1 * Math.exp(1.3);
    emu.reset(uniform(N, i0), 0);
    const up = emu.step(uniform(N, i1), 1000);
    const dLog = Math.log(i1 + eps) - Math.log(i0 + eps);
    // Exact expectation given each pixel's own threshold, and the nominal figure.
    let exact = 0;
    for (let i = 0; i < N; i++) exact += Math.floor(dLog / emu.thresholdOn[i]);
    expect(up.length).to.equal(exact);
    expect(up.length / N).to.be.closeTo(dLog / 0.2, 0.6);
    for (let i = 0; i < up.length; i++) expect(up.p[i]).to.equal(1);
    expectSorted(up);
    const down = emu.step(uniform(N, i0), 2000);
    expect(down.length / N).to.be.closeTo(dLog / 0.25, 1);
    for (let i = 0; i < down.length; i++) expect(down.p[i]).to.equal(0);
    for (let i = 0; i < down.length; i++) expect(down.t[i]).to.be.within(1000, 2000);
  });

  it('interpolates timestamps linearly between frames (several events per pixel per interval)', () => {
    const eps = 1e-3;
    const emu = new DvsEmulator({ width: 1, height: 1, thresholdOn: 0.2, thresholdSigma: 0, logEpsilon: eps });
    const i0 = 0.2;
    const dLog = 0.9;
    const i1 = (i0 + eps) * Math.exp(dLog) - eps;
    emu.reset(Float32Array.of(i0), 10_000);
    const b = emu.step(Float32Array.of(i1), 11_000);
    const dl = Math.log(Math.fround(i1) + eps) - Math.log(Math.fround(i0) + eps);
    const want = [1, 2, 3, 4].map((k) => Math.round(10_000 + (1000 * 0.2 * k) / dl));
    expect(Array.from(b.t)).to.deep.equal(want);
    expect(Array.from(b.p)).to.deep.equal([1, 1, 1, 1]);
    // The remainder (0.1) carries over: a further +0.1 gives one more event.
    const i2 = (Math.fround(i1) + eps) * Math.exp(0.11) - eps;
    const c = emu.step(Float32Array.of(i2), 12_000);
    expect(c.length).to.equal(1);
  });

  it('a static scene gives only background noise at the configured rate', () => {
    const rate = 5; // Hz per pixel
    const emu = new DvsEmulator({ width: 64, height: 64, seed: 11, noiseRateHz: rate, thresholdSigma: 0.05 });
    const frame = new Float32Array(64 * 64);
    const r = new Rng(1);
    for (let i = 0; i < frame.length; i++) frame[i] = 0.05 + 0.9 * r.next(); // textured but static
    emu.reset(frame, 0);
    let n = 0;
    let on = 0;
    let prevT = 0;
    for (let k = 1; k <= 2000; k++) {
      const b = emu.step(frame, k * 1000);
      n += b.length;
      for (let i = 0; i < b.length; i++) {
        on += b.p[i];
        expect(b.t[i]).to.be.at.least(prevT);
        prevT = b.t[i];
      }
    }
    const expected = 64 * 64 * rate * 2; // 2 s
    // Poisson: sd = sqrt(40960) ≈ 202; allow 5 sd.
    expect(Math.abs(n - expected)).to.be.below(5 * Math.sqrt(expected));
    expect(emu.stats.signalEvents).to.equal(0);
    expect(on / n).to.be.closeTo(0.5, 0.02);
  });

  it('respects the refractory period (signal and noise)', () => {
    const refr = 400;
    const emu = new DvsEmulator({ width: 8, height: 8, seed: 5, thresholdOn: 0.1, thresholdOff: 0.1, refractoryUs: refr, noiseRateHz: 200 });
    const n = 64;
    emu.reset(uniform(n, 0.05), 0);
    const all: EventBatch[] = [];
    // A fast ramp: 2 ln units per ms → 20 crossings per pixel per frame, most of them inside the refractory period.
    let v = 0.05;
    for (let k = 1; k <= 20; k++) {
      v = k <= 10 ? v * Math.exp(2) : v / Math.exp(2);
      all.push(emu.step(uniform(n, Math.min(v, 1e9)), k * 1000));
    }
    const last = new Float64Array(n).fill(-Infinity);
    let count = 0;
    for (const b of all) {
      expectSorted(b);
      for (let i = 0; i < b.length; i++) {
        const pix = b.y[i] * 8 + b.x[i];
        expect(b.t[i] - last[pix]).to.be.at.least(refr);
        last[pix] = b.t[i];
        count++;
      }
    }
    expect(count).to.be.above(64 * 20); // still fires about once per refractory period
    expect(emu.stats.refractoryDropped).to.be.above(0);
  });

  it('is deterministic for a seed, and differs across seeds', () => {
    const run = (seed: number) =>
      emulateRender(
        (t, out) => {
          for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) out[y * 16 + x] = 0.2 + 0.6 * (Math.sin(x * 0.7 + t / 5e4) > 0 ? 1 : 0.2);
        },
        0,
        100_000,
        1000,
        { width: 16, height: 16, seed, noiseRateHz: 2, hotPixelFraction: 0.01, refractoryUs: 100 },
      );
    const a = run(9);
    const b = run(9);
    const c = run(10);
    expect(a.length).to.be.above(100);
    expect(Array.from(a.t)).to.deep.equal(Array.from(b.t));
    expect(Array.from(a.x)).to.deep.equal(Array.from(b.x));
    expect(Array.from(a.p)).to.deep.equal(Array.from(b.p));
    expect(Array.from(a.t).join()).to.not.equal(Array.from(c.t).join());
    expectSorted(a);
  });

  it('a region of interest gives the same events as the full frame when only it changes', () => {
    const mk = () => new DvsEmulator({ width: W, height: H, seed: 2 });
    const full = mk();
    const roi = mk();
    const f = uniform(N, 0.3);
    full.reset(f, 0);
    roi.reset(f, 0);
    for (let k = 1; k <= 30; k++) {
      const cx = 5 + k * 0.5;
      f.fill(0.3);
      for (let y = 10; y < 20; y++) for (let x = 0; x < W; x++) f[y * W + x] = 0.3 + 0.5 * Math.max(0, 1 - Math.abs(x - cx) / 3);
      const a = full.step(f, k * 1000);
      const b = roi.step(f, k * 1000, { x0: 0, y0: 10, x1: W, y1: 20 });
      expect(Array.from(b.t)).to.deep.equal(Array.from(a.t));
      expect(Array.from(b.x)).to.deep.equal(Array.from(a.x));
    }
    expect(roi.stats.pixelUpdates).to.equal(30 * 10 * W);
  });

  it('hot pixels fire at their rate', () => {
    const emu = new DvsEmulator({ width: 50, height: 50, seed: 4, hotPixelFraction: 0.01, hotPixelRateHz: 500 });
    expect(emu.hotPixels.length).to.equal(25);
    const f = uniform(2500, 0.5);
    emu.reset(f, 0);
    let n = 0;
    for (let k = 1; k <= 100; k++) n += emu.step(f, k * 10_000).length;
    const expected = 25 * 500 * 1; // 1 s
    expect(Math.abs(n - expected)).to.be.below(5 * Math.sqrt(expected));
  });
});
