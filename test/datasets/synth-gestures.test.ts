import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { concatBatches, type EventBatch } from '../../src/events/event-batch';
import { loadGestureDataset, readSample, GESTURE_CLASSES } from '../../src/datasets/dvs-gesture';
import { emulateRecording, planRecording, SYNTH_CLASS_IDS, type RecordingPlan } from '../../src/datasets/synth-gestures';
import { generateSynthGestures } from '../../src/cli/dataset-synth';

function collect(plan: RecordingPlan, tMax = Infinity): EventBatch {
  const parts: EventBatch[] = [];
  emulateRecording({ ...plan, tEnd: Math.min(plan.tEnd, tMax) }, (b) => parts.push(b));
  return concatBatches(parts);
}

describe('datasets/synth-gestures', function () {
  this.timeout(120_000);
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-synth-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('plans every class once (plus repeats), ≥ 1.5 s each, in order and without overlap', () => {
    const plan = planRecording({ seed: 5, user: 3, lighting: 'led' });
    const ids = plan.segments.map((s) => s.classId);
    for (const c of SYNTH_CLASS_IDS) expect(ids).to.include(c);
    expect(ids.length).to.equal(13);
    let prevEnd = 0;
    for (const s of plan.segments) {
      expect(s.tEnd - s.tStart).to.be.at.least(1.5e6);
      expect(s.tStart - s.fadeIn).to.be.above(prevEnd);
      prevEnd = s.tEnd + s.fadeOut;
    }
    expect(plan.tEnd).to.be.above(prevEnd);
    expect(planRecording({ seed: 5, user: 3, lighting: 'led' })).to.deep.equal(plan);
  });

  it('emulation is deterministic and time-ordered, with events concentrated in the gestures', () => {
    const plan = planRecording({ seed: 9, user: 1, lighting: 'fluorescent', minSeconds: 1.5, maxSeconds: 1.5, repeats: 0 });
    const seg = plan.segments[0];
    const a = collect(plan, seg.tEnd + 200_000);
    const b = collect(plan, seg.tEnd + 200_000);
    expect(a.length).to.equal(b.length);
    expect(Buffer.from(a.t.buffer).equals(Buffer.from(b.t.buffer))).to.equal(true);
    expect(Buffer.from(a.x.buffer).equals(Buffer.from(b.x.buffer))).to.equal(true);
    let inside = 0;
    let before = 0;
    for (let i = 0; i < a.length; i++) {
      if (i > 0) expect(a.t[i]).to.be.at.least(a.t[i - 1]);
      if (a.t[i] >= seg.tStart && a.t[i] < seg.tEnd) inside++;
      if (a.t[i] < seg.tStart - seg.fadeIn) before++;
    }
    const rateIn = inside / ((seg.tEnd - seg.tStart) / 1e6);
    const rateRest = before / ((seg.tStart - seg.fadeIn) / 1e6);
    expect(rateIn).to.be.above(3000);
    // At rest: background noise, hot pixels and a little sway.
    const e = plan.emulator;
    const noise = 128 * 128 * (e.noiseRateHz! + e.hotPixelFraction! * e.hotPixelRateHz!);
    expect(rateRest).to.be.below(1.5 * noise);
    expect(rateIn).to.be.above(4 * rateRest);
  });

  it('writes a DVS128 Gesture folder that the real loader reads unchanged', async () => {
    const out = path.join(tmp, 'ds');
    const progress: number[] = [];
    const r = generateSynthGestures(
      { out, subjects: 2, firstUser: 23, lightings: ['led'], seed: 3, minSeconds: 1.5, maxSeconds: 1.6, repeats: 0 },
      (p) => progress.push(p.samplesDone),
    );
    expect(r.files.map((f) => path.basename(f.file))).to.deep.equal(['user23_led.aedat', 'user24_led.aedat']);
    expect(r.samples).to.equal(22);
    expect(progress[progress.length - 1]).to.equal(22);
    expect(fs.readFileSync(path.join(out, 'trials_to_train.txt'), 'utf8')).to.equal('user23_led.aedat\n');
    expect(fs.readFileSync(path.join(out, 'trials_to_test.txt'), 'utf8')).to.equal('user24_led.aedat\n');
    const train = await loadGestureDataset(out, { split: 'train' });
    const test = await loadGestureDataset(out, { split: 'test' });
    expect(train.samples.length).to.equal(11);
    expect(test.samples.length).to.equal(11);
    expect(new Set(test.samples.map((s) => s.label)).size).to.equal(11);
    // Every window read through the loader equals the in-memory emulation of that window.
    const plan = planRecording({ seed: 3, user: 24, lighting: 'led', minSeconds: 1.5, maxSeconds: 1.6, repeats: 0 });
    const all = collect(plan);
    let total = 0;
    for (const s of test.samples) {
      const got = concatBatches(await collectAsync(readSample(s)));
      const seg = plan.segments.find((g) => g.tStart === s.tStart)!;
      expect(s.className).to.equal(GESTURE_CLASSES[seg.classId - 1]);
      let lo = 0;
      while (lo < all.length && all.t[lo] < s.tStart) lo++;
      let hi = lo;
      while (hi < all.length && all.t[hi] < s.tEnd) hi++;
      expect(got.length).to.equal(hi - lo);
      for (let i = 0; i < got.length; i += 97) {
        expect([got.x[i], got.y[i], got.p[i], got.t[i]]).to.deep.equal([all.x[lo + i], all.y[lo + i], all.p[lo + i], all.t[lo + i]]);
      }
      total += got.length;
    }
    expect(total).to.be.above(11 * 1.5 * 3000);
  });

  it('writeSynthRecording returns without a progress callback (it used to loop for ever)', () => {
    // A synchronous endless loop cannot be timed out in-process: the call runs in a child with a limit.
    const out = path.join(tmp, 'no-callback');
    fs.mkdirSync(out);
    const mod = path.join(__dirname, '../../src/datasets/synth-gestures');
    const code = [
      `const m = require(${JSON.stringify(mod)});`,
      "const p = m.planRecording({ seed: 2, user: 1, lighting: 'led', minSeconds: 1.5, maxSeconds: 1.5, repeats: 0 });",
      'const short = { ...p, segments: p.segments.slice(0, 2), tEnd: p.segments[1].tEnd };',
      `process.stdout.write(JSON.stringify(m.writeSynthRecording(short, ${JSON.stringify(out)})));`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['-e', code], { timeout: 60_000, encoding: 'utf8' });
    expect(r.signal, 'writeSynthRecording did not return within 60 s').to.equal(null);
    expect(r.status, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout) as { file: string; samples: number; events: number };
    expect(summary.samples).to.equal(2);
    expect(summary.events).to.be.above(0);
    expect(fs.existsSync(summary.file)).to.equal(true);
  });

  it('total ON/OFF counts do not reveal the class; the motion does', () => {
    // 6 users × 11 classes, mixed lightings; leave-one-user-out nearest-class-mean classifiers.
    const lightings = ['fluorescent', 'led', 'natural'];
    interface S {
      cls: number;
      user: number;
      on: number;
      off: number;
      hist: Float64Array;
      bins: Float64Array;
    }
    const samples: S[] = [];
    const BIN = 50_000;
    for (let u = 1; u <= 6; u++) {
      const plan = planRecording({ seed: 1, user: u, lighting: lightings[u % 3], minSeconds: 1.5, maxSeconds: 1.7, repeats: 0 });
      const segs = plan.segments;
      const acc: S[] = segs.map((s) => ({ cls: s.classId, user: u, on: 0, off: 0, hist: new Float64Array(64), bins: new Float64Array(3 * Math.ceil((s.tEnd - s.tStart) / BIN)) }));
      let k = 0;
      emulateRecording(plan, (b) => {
        for (let i = 0; i < b.length; i++) {
          const t = b.t[i];
          while (k < segs.length && t >= segs[k].tEnd) k++;
          if (k >= segs.length || t < segs[k].tStart) continue;
          const a = acc[k];
          if (b.p[i]) a.on++;
          else a.off++;
          a.hist[(b.y[i] >> 4) * 8 + (b.x[i] >> 4)]++;
          const bi = 3 * Math.floor((t - segs[k].tStart) / BIN);
          a.bins[bi]++;
          a.bins[bi + 1] += b.x[i];
          a.bins[bi + 2] += b.y[i];
        }
      });
      samples.push(...acc);
    }
    const countFeat = (a: S) => [a.on, a.off];
    // Motion: normalised 8×8 spatial histogram + the centroid trajectory's rotation sense and spread.
    const motionFeat = (a: S) => {
      const n = a.on + a.off;
      const c: number[][] = [];
      for (let i = 0; i < a.bins.length; i += 3) if (a.bins[i] > 20) c.push([a.bins[i + 1] / a.bins[i], a.bins[i + 2] / a.bins[i]]);
      const mx = c.reduce((s, v) => s + v[0], 0) / c.length;
      const my = c.reduce((s, v) => s + v[1], 0) / c.length;
      let L = 0;
      let Z = 1e-9;
      let sx = 0;
      let sy = 0;
      for (let i = 0; i + 1 < c.length; i++) {
        const rx = c[i][0] - mx;
        const ry = c[i][1] - my;
        const dx = c[i + 1][0] - c[i][0];
        const dy = c[i + 1][1] - c[i][1];
        L += rx * dy - ry * dx;
        Z += Math.hypot(rx, ry) * Math.hypot(dx, dy);
      }
      for (const v of c) {
        sx += (v[0] - mx) ** 2;
        sy += (v[1] - my) ** 2;
      }
      return [...Array.from(a.hist, (v) => (8 * v) / n), (2 * L) / Z, Math.sqrt(sx / c.length) / 10, Math.sqrt(sy / c.length) / 10];
    };
    const accuracy = (feat: (a: S) => number[]) => {
      const F = samples.map(feat);
      const d = F[0].length;
      const mu = new Array(d).fill(0);
      const sd = new Array(d).fill(0);
      for (const f of F) f.forEach((v, j) => (mu[j] += v / F.length));
      for (const f of F) f.forEach((v, j) => (sd[j] += (v - mu[j]) ** 2 / F.length));
      const G = F.map((f) => f.map((v, j) => (v - mu[j]) / (Math.sqrt(sd[j]) || 1)));
      let ok = 0;
      for (let i = 0; i < samples.length; i++) {
        const sum = new Map<number, number[]>();
        const cnt = new Map<number, number>();
        for (let j = 0; j < samples.length; j++) {
          if (samples[j].user === samples[i].user) continue;
          const c = samples[j].cls;
          const m = sum.get(c) ?? new Array(d).fill(0);
          G[j].forEach((v, q) => (m[q] += v));
          sum.set(c, m);
          cnt.set(c, (cnt.get(c) ?? 0) + 1);
        }
        let best = -1;
        let bd = Infinity;
        for (const [c, m] of sum) {
          let dd = 0;
          for (let q = 0; q < d; q++) dd += (G[i][q] - m[q] / cnt.get(c)!) ** 2;
          if (dd < bd) {
            bd = dd;
            best = c;
          }
        }
        if (best === samples[i].cls) ok++;
      }
      return ok / samples.length;
    };
    expect(samples.length).to.equal(66);
    const countAcc = accuracy(countFeat);
    const motionAcc = accuracy(motionFeat);
    expect(countAcc, `count-based accuracy ${countAcc}`).to.be.below(2 / 11);
    expect(motionAcc, `motion-based accuracy ${motionAcc}`).to.be.above(0.45);
    expect(motionAcc).to.be.above(3 * countAcc);
  });

  it('regenerates the bundled recording byte for byte (recordings/README.md)', () => {
    const out = path.join(tmp, 'bundled');
    // spikestream dataset synth-gestures --out recordings/gestures --subjects 1 --first-user 30
    //   --lightings natural --seed 2024 --min-seconds 1.5 --max-seconds 1.5 --repeats 0
    generateSynthGestures({ out, subjects: 1, firstUser: 30, lightings: ['natural'], seed: 2024, minSeconds: 1.5, maxSeconds: 1.5, repeats: 0 });
    const bundled = path.join(process.cwd(), 'recordings', 'gestures');
    for (const f of ['user30_natural.aedat', 'user30_natural_labels.csv', 'trials_to_train.txt', 'trials_to_test.txt']) {
      const a = fs.readFileSync(path.join(out, f));
      const b = fs.readFileSync(path.join(bundled, f));
      expect(a.equals(b), `${f} differs from the bundled copy`).to.equal(true);
    }
  });
});

async function collectAsync(it: AsyncIterable<EventBatch>): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}
