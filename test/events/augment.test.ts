import { expect } from 'chai';
import { batchFromArrays, type EventBatch } from '../../src/events/event-batch';
import {
  augmentRecording,
  augmentStats,
  DEFAULT_AUGMENT,
  dropEvent,
  dropEventByArea,
  dropEventByTime,
  flipLR,
  flipPolarity,
  formatAugmentSpec,
  NO_AUGMENT,
  parseAugmentSpec,
  spatialAffine,
  spatialJitter,
  timeSkew,
  uniformNoise,
} from '../../src/events/augment';
import { GESTURE_MIRROR } from '../../src/datasets/dvs-gesture';
import { Rng } from '../../src/prng';
import { FrameCursor } from '../../streams/core/frame-cursor';

const G = { width: 128, height: 128 };

/** n events at pseudo-random pixels, times 0…n−1 ms, alternating polarity. */
function events(n: number, seed = 1): EventBatch {
  const r = new Rng(seed);
  const x: number[] = [];
  const y: number[] = [];
  const p: number[] = [];
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    x.push(r.int(128));
    y.push(r.int(128));
    p.push(i % 2);
    t.push(i * 1000);
  }
  return batchFromArrays({ x, y, p, t });
}

function sortedInTime(b: EventBatch): boolean {
  for (let i = 1; i < b.length; i++) if (b.t[i] < b.t[i - 1]) return false;
  return true;
}

/** The T frames (32×32×2 at downsample 4) a model would get from `b`. */
function bin(b: EventBatch, T = 4): Float32Array[] {
  const cursor = new FrameCursor({ geometry: G, tStart: 0, tEnd: Infinity, binUs: 250_000, downsample: 4, maxSteps: T });
  cursor.feed(b);
  cursor.end();
  const out: Float32Array[] = [];
  for (let f = cursor.next(); f; f = cursor.next()) out.push(Float32Array.from(f.data));
  return out;
}

describe('events/augment: transforms (Tonic names)', () => {
  it('flipPolarity swaps ON and OFF, leaves the input alone, and twice is the identity; in frames it swaps the two channels', () => {
    const b = events(1000);
    const f = flipPolarity(b);
    for (let i = 0; i < b.length; i++) expect(f.p[i]).to.equal(1 - b.p[i]);
    expect(b.p[1]).to.equal(1);
    expect(Array.from(flipPolarity(f).p)).to.deep.equal(Array.from(b.p));
    const [fa] = bin(b);
    const [fb] = bin(f);
    for (let i = 0; i < fa.length; i += 2) {
      expect(fb[i]).to.equal(fa[i + 1]);
      expect(fb[i + 1]).to.equal(fa[i]);
    }
  });

  it('flipLR mirrors x about the centre: the binned frames are mirrored columns', () => {
    const b = events(2000);
    const m = flipLR(b, G);
    for (let i = 0; i < b.length; i++) expect(m.x[i]).to.equal(127 - b.x[i]);
    const [fa] = bin(b);
    const [fm] = bin(m);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 2; c++) expect(fm[(y * 32 + 31 - x) * 2 + c]).to.equal(fa[(y * 32 + x) * 2 + c]);
  });

  it('spatialAffine shifts, scales and rotates about the centre, dropping and counting what leaves the sensor', () => {
    const b = batchFromArrays({ x: [0, 10, 120, 64], y: [0, 10, 5, 64], p: [1, 0, 1, 0], t: [0, 1, 2, 3] });
    const stats = augmentStats();
    const s = spatialAffine(b, G, { dx: 10, dy: -3, scale: 1, angleRad: 0 }, stats);
    expect(Array.from(s.x)).to.deep.equal([20, 74]);
    expect(Array.from(s.y)).to.deep.equal([7, 61]);
    expect(Array.from(s.t)).to.deep.equal([1, 3]);
    expect(stats.offSensor).to.equal(2); // (0,0) → (10,−3) and (120,5) → (130,2)
    const r = spatialAffine(batchFromArrays({ x: [73.5 + 0.5], y: [63.5], p: [1], t: [0] }), G, { dx: 0, dy: 0, scale: 1, angleRad: Math.PI / 2 });
    expect([r.x[0], r.y[0]]).to.deep.equal([64, 74]); // (+10.5, 0) from the centre → (0, +10.5)
    const z = spatialAffine(batchFromArrays({ x: [83.5 + 0.5], y: [63.5], p: [1], t: [0] }), G, { dx: 0, dy: 0, scale: 0.5, angleRad: 0 });
    expect(z.x[0]).to.equal(74); // 63.5 + 20.5·0.5 = 73.75 → 74
  });

  it('spatialJitter is seeded, keeps times in order and moves events by about σ', () => {
    const b = events(5000);
    const a1 = spatialJitter(b, G, 1.5, new Rng(3));
    const a2 = spatialJitter(b, G, 1.5, new Rng(3));
    expect(Array.from(a1.x)).to.deep.equal(Array.from(a2.x));
    expect(sortedInTime(a1)).to.equal(true);
    expect(a1.length).to.be.at.most(b.length);
  });

  it('timeSkew scales time about an origin (and keeps order)', () => {
    const b = events(10);
    const s = timeSkew(b, 1.5, 2000, 100);
    expect(s.t[2]).to.equal(2100);
    expect(s.t[4]).to.equal(2000 + 2000 * 1.5 + 100);
    expect(() => timeSkew(b, 0)).to.throw(RangeError, /coefficient/);
  });

  it('dropEvent, dropEventByTime and dropEventByArea remove what they say and count it', () => {
    const b = events(20_000);
    const stats = augmentStats();
    const d = dropEvent(b, 0.25, new Rng(1), stats);
    expect(d.length / b.length).to.be.closeTo(0.75, 0.02);
    expect(stats.dropped).to.equal(b.length - d.length);
    const t = dropEventByTime(b, 0.1, new Rng(2), 0, 20_000_000);
    expect(b.length - t.length).to.be.closeTo(2000, 1);
    let gap = 0;
    for (let i = 1; i < t.length; i++) gap = Math.max(gap, t.t[i] - t.t[i - 1]);
    expect(gap).to.be.closeTo(2_000_000, 2000);
    const a = dropEventByArea(b, G, 0.25, new Rng(4));
    expect((b.length - a.length) / b.length).to.be.closeTo(0.25, 0.03);
  });

  it('uniformNoise adds count events inside the span, merged in time order', () => {
    const b = events(1000);
    const stats = augmentStats();
    const n = uniformNoise(b, G, 500, new Rng(5), 0, 1_000_000, stats);
    expect(n.length).to.equal(1500);
    expect(stats.added).to.equal(500);
    expect(sortedInTime(n)).to.equal(true);
    for (let i = 0; i < n.length; i++) expect(n.x[i] < 128 && n.y[i] < 128 && n.t[i] >= 0 && n.t[i] < 1_000_000).to.equal(true);
  });
});

describe('events/augment: recordings and specs', () => {
  const rec = {
    streamId: 'u1',
    geometry: G,
    windows: [
      { tStart: 1_000_000, tEnd: 3_000_000, label: 3 },
      { tStart: 4_000_000, tEnd: 6_000_000, label: 1 },
      { tStart: 7_000_000, tEnd: 8_000_000, label: 0 },
    ],
    events: events(8000),
  };

  it('mirrors labels with a left-right flip (left ↔ right arm, clockwise ↔ counter-clockwise) and moves windows with the time skew', () => {
    const spec = { ...NO_AUGMENT, flipLR: 1, timeSkew: 1.3 };
    const { recording, draw } = augmentRecording(rec, spec, new Rng(9), { mirrorLabels: GESTURE_MIRROR });
    expect(draw.flippedLR).to.equal(true);
    expect(recording.windows.map((w) => w.label)).to.deep.equal([6, 2, 0]);
    expect(recording.windows[1].tStart).to.equal(Math.round(4_000_000 * draw.skew));
    expect(recording.events.t[100]).to.equal(Math.round(rec.events.t[100] * draw.skew));
    expect(recording.streamId).to.equal('u1');
    for (let c = 0; c < 11; c++) expect(GESTURE_MIRROR[GESTURE_MIRROR[c]]).to.equal(c);
  });

  it('is deterministic for a seed, keeps events in time order and on the sensor, and needs mirrorLabels for flip-lr', () => {
    const a = augmentRecording(rec, DEFAULT_AUGMENT, new Rng(11), { mirrorLabels: GESTURE_MIRROR });
    const b = augmentRecording(rec, DEFAULT_AUGMENT, new Rng(11), { mirrorLabels: GESTURE_MIRROR });
    expect(a.draw).to.deep.equal(b.draw);
    expect(Array.from(a.recording.events.x)).to.deep.equal(Array.from(b.recording.events.x));
    expect(sortedInTime(a.recording.events)).to.equal(true);
    expect(() => augmentRecording(rec, DEFAULT_AUGMENT, new Rng(1))).to.throw(RangeError, /mirrorLabels/);
  });

  it('parses specs by name (default, none, overrides) and rejects unknown names and bad values', () => {
    expect(parseAugmentSpec('default')).to.deep.equal(DEFAULT_AUGMENT);
    expect(parseAugmentSpec('none')).to.deep.equal(NO_AUGMENT);
    expect(parseAugmentSpec('default,flip-polarity=0.2').flipPolarity).to.equal(0.2);
    expect(parseAugmentSpec('spatial-shift=4')).to.deep.equal({ ...NO_AUGMENT, spatialShift: 4 });
    expect(parseAugmentSpec(formatAugmentSpec(DEFAULT_AUGMENT))).to.deep.equal(DEFAULT_AUGMENT);
    expect(() => parseAugmentSpec('flip-colour=1')).to.throw(RangeError, /flip-colour/);
    expect(() => parseAugmentSpec('drop-event=2')).to.throw(RangeError, /drop-event must be in \[0, 1\]/);
    expect(() => parseAugmentSpec('time-skew=0.5')).to.throw(RangeError, /time-skew/);
  });
});
