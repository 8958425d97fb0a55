import { expect } from 'chai';
import { concatBatches, type EventBatch } from '../../src/events/event-batch';
import {
  emulateRecording,
  GestureScene,
  perturbationNamed,
  planRecording,
  SYNTH_PERTURBATIONS,
  type RecordingPlan,
} from '../../src/datasets/synth-gestures';

function collect(plan: RecordingPlan, tMax: number): EventBatch {
  const parts: EventBatch[] = [];
  emulateRecording({ ...plan, tEnd: Math.min(plan.tEnd, tMax) }, (b) => parts.push(b));
  return concatBatches(parts);
}

describe('datasets/synth-gestures: the randomized world', function () {
  this.timeout(120_000);
  const plans = Array.from({ length: 24 }, (_, u) => planRecording({ seed: 4, user: u + 1, lighting: 'led', world: 'randomized' }));

  it('is seeded: the same seed, user and lighting give the same plan; the classic plan has no world', () => {
    expect(planRecording({ seed: 4, user: 3, lighting: 'led', world: 'randomized' })).to.deep.equal(plans[2]);
    expect(planRecording({ seed: 4, user: 3, lighting: 'led' }).world).to.equal(undefined);
    expect(planRecording({ seed: 4, user: 3, lighting: 'led' }).subject.body).to.equal(undefined);
  });

  it('draws limbs darker and brighter than the background, per subject and per part', () => {
    let darkerSleeves = 0;
    let brighterSleeves = 0;
    let mixed = 0;
    for (const p of plans) {
      const level = p.world!.background!.level;
      const sleeveBrighter = p.subject.sleeve > level;
      if (sleeveBrighter) brighterSleeves++;
      else darkerSleeves++;
      if (sleeveBrighter !== p.subject.skin > level) mixed++;
      expect(Math.abs(Math.log(p.subject.sleeve / level))).to.be.above(Math.log(1.1));
    }
    expect(darkerSleeves).to.be.at.least(5);
    expect(brighterSleeves).to.be.at.least(5);
    expect(mixed).to.be.at.least(3);
  });

  it('varies bodies, gesture styles, speeds, lighting and sensors within the documented ranges', () => {
    const styles = new Set(plans.flatMap((p) => p.segments.map((s) => s.style)));
    for (const s of ['classic', 'whole-arm', 'forearm', 'elbow', 'wrist']) expect(styles.has(s as never), s).to.equal(true);
    for (const p of plans) {
      expect(p.subject.armLength).to.be.within(32, 52);
      expect(Math.abs(p.world!.rollRad!)).to.be.at.most((8 * Math.PI) / 180);
      expect(p.emulator.thresholdOn!).to.be.within(0.15, 0.3);
      expect(p.emulator.noiseRateHz!).to.be.within(0.02, 0.6);
      for (const s of p.segments) expect(s.jitter!.length).to.equal(12);
    }
    expect(plans.some((p) => p.world!.flicker)).to.equal(true);
    expect(plans.some((p) => p.world!.drift)).to.equal(true);
    expect(plans.some((p) => (p.world!.distractors ?? []).length > 0)).to.equal(true);
    expect(plans.some((p) => p.world!.background!.stripes)).to.equal(true);
  });

  it('emulates a flickering, drifting world in time order, with the flicker visible as events on still pixels', () => {
    const p = plans.find((q) => q.world!.flicker)!;
    const still = { ...p, world: { ...p.world!, flicker: { hz: 100, depth: 0.06 }, distractors: [] }, segments: [] };
    const noFlicker = { ...still, world: { ...still.world, flicker: undefined, drift: undefined } };
    const a = collect(still, 400_000);
    const b = collect(noFlicker, 400_000);
    for (let i = 1; i < a.length; i++) expect(a.t[i]).to.be.at.least(a.t[i - 1]);
    expect(a.length).to.be.above(1.4 * b.length);
  });

  it('renders distractors in the pauses only, inside the region it reports as changed', () => {
    const p = plans.find((q) => (q.world!.distractors ?? []).length > 0)!;
    const d = p.world!.distractors![0];
    const scene = new GestureScene({ ...p, segments: [] });
    const frame = new Float32Array(128 * 128);
    scene.render(d.t0 - 1000, frame);
    const before = Float32Array.from(frame);
    const rois = scene.render((d.t0 + d.t1) / 2, frame)!;
    let changedOutside = 0;
    let changed = 0;
    for (let y = 0; y < 128; y++) {
      for (let x = 0; x < 128; x++) {
        if (frame[y * 128 + x] === before[y * 128 + x]) continue;
        changed++;
        if (!rois.some((r) => x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1)) changedOutside++;
      }
    }
    expect(changed).to.be.above(10);
    expect(changedOutside).to.equal(0);
  });
});

describe('datasets/synth-gestures: perturbations', () => {
  const base = planRecording({ seed: 1, user: 24, lighting: 'led' });

  it('changes one thing each and leaves the plan it was given alone', () => {
    const copy = JSON.stringify(base);
    const dark = perturbationNamed('dark-limbs').plan!(base);
    expect(dark.world!.background!.level).to.be.above(dark.subject.sleeve * 2);
    expect(dark.subject.skin).to.be.below(dark.world!.background!.level);
    expect(perturbationNamed('speed-1.4').plan!(base).segments[0].timeScale).to.be.closeTo(base.segments[0].timeScale * 1.4, 1e-12);
    expect(perturbationNamed('offset-left-15px').plan!(base).subject.cx).to.equal(base.subject.cx - 15);
    expect(perturbationNamed('scale-0.85').plan!(base).subject.armLength).to.be.closeTo(base.subject.armLength * 0.85, 1e-12);
    expect(perturbationNamed('noise-2hz').plan!(base).emulator.noiseRateHz).to.equal(2);
    expect(perturbationNamed('flicker-100hz').plan!(base).world!.flicker!.hz).to.equal(100);
    expect(perturbationNamed('polarity-swap').events).to.be.a('function');
    expect(JSON.stringify(base)).to.equal(copy);
    expect(SYNTH_PERTURBATIONS[0].name).to.equal('none');
    expect(() => perturbationNamed('upside-down')).to.throw(RangeError, /unknown perturbation 'upside-down'/);
  });
});
