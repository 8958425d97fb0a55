/**
 * Rendering: a plan's scene in linear intensity — a static layer (textured background, torso,
 * neck, head) drawn once, and the arms as soft-edged capsules repainted each frame only inside
 * the boxes they covered before and now.
 */
import type { Roi } from '../../emulator/dvs-emulator';
import { keyedSeed, Rng } from '../../prng';
import { Skeleton, smooth, wristsAt } from './motion';
import { bodyOf, clampNum, SOFT, SYNTH_HEIGHT, SYNTH_WIDTH, type Distractor, type RecordingPlan } from './params';

/** Stripes along a capsule (sleeve texture): period in px, depth as ± a share of the value. */
interface Stripes {
  period: number;
  depth: number;
}

/** Renders a plan's scene: a static layer (background + torso + head) and the moving arms. */
export class GestureScene {
  readonly width = SYNTH_WIDTH;
  readonly height = SYNTH_HEIGHT;
  /** Static layer (linear intensity, lighting applied). */
  readonly staticLayer: Float32Array;
  readonly skeleton: Skeleton;
  private readonly wrists = new Float64Array(6);
  private readonly tmp = new Float64Array(6);
  private readonly sleeve: number;
  private readonly skin: number;
  private readonly distractors: readonly Distractor[];
  /** Joints after the camera roll (what is drawn), and the distractors' positions: [x, y] each. */
  private readonly drawn = new Float64Array(16);
  private readonly spots: Float64Array;
  /** Bounding boxes of each arm and of the distractors at the previous render: [x0,y0,x1,y1] × 3. */
  private prevBox = new Float64Array(12);
  private hasPrev = false;
  /** Largest joint displacement (px) between the last two renders. */
  lastMotionPx = 0;

  constructor(readonly plan: RecordingPlan) {
    this.skeleton = new Skeleton(plan.subject);
    const lit = plan.lighting;
    const tone = (v: number) => lit.illumination * 0.3 * Math.pow(v / 0.3, lit.contrast);
    this.sleeve = tone(plan.subject.sleeve);
    this.skin = tone(plan.subject.skin);
    this.distractors = (plan.world?.distractors ?? []).map((d) => ({ ...d, value: tone(d.value) }));
    this.spots = new Float64Array(this.distractors.length * 2);
    this.staticLayer = renderStatic(plan, tone);
  }

  /**
   * Renders time t (µs) into `frame`. The first call fills the whole frame and returns
   * undefined; later calls repaint only the arms' old and new boxes and return them (the
   * region that can have changed).
   */
  render(t: number, frame: Float32Array): Roi[] | undefined {
    wristsAt(this.plan, t, this.wrists, this.tmp);
    const prevJoints = this.hasPrev ? Float64Array.from(this.drawn) : undefined;
    const prevSpots = this.hasPrev ? Float64Array.from(this.spots) : undefined;
    this.skeleton.solve(this.wrists);
    rollJoints(this.plan, this.skeleton.joints, this.drawn);
    const active = this.placeDistractors(t);
    const j = this.drawn;
    const { armR, handR } = bodyOf(this.plan.subject);
    const L = this.plan.subject.armLength;
    const ar = armR * L;
    const hr = handR * L;
    const box = new Float64Array(12);
    for (let arm = 0; arm < 2; arm++) armBox(j, arm, Math.max(ar, hr) + SOFT + 1.5, box);
    this.distractorBox(active, box);
    let rois: Roi[] | undefined;
    if (!this.hasPrev || !prevJoints || !prevSpots) {
      frame.set(this.staticLayer);
      this.lastMotionPx = 0;
    } else {
      let motion = 0;
      for (let k = 0; k < 16; k++) motion = Math.max(motion, Math.abs(j[k] - prevJoints[k]));
      for (let k = 0; k < this.spots.length; k++) motion = Math.max(motion, Math.abs(this.spots[k] - prevSpots[k]));
      this.lastMotionPx = motion;
      if (motion === 0) {
        this.prevBox = box;
        return [];
      }
      rois = [];
      const parts = this.distractors.length > 0 ? 3 : 2;
      for (let part = 0; part < parts; part++) {
        const r = unionBox(this.prevBox, box, part);
        if (r.x1 <= r.x0 || r.y1 <= r.y0) continue;
        rois.push(r);
        copyRect(this.staticLayer, frame, this.width, r);
      }
    }
    const full: Roi = { x0: 0, y0: 0, x1: this.width, y1: this.height };
    for (const k of active) {
      const d = this.distractors[k];
      drawCapsule(frame, this.width, full, this.spots[2 * k], this.spots[2 * k + 1], this.spots[2 * k], this.spots[2 * k + 1], d.radius, d.value);
    }
    const stripes = this.plan.subject.sleeveStripes;
    for (let arm = 0; arm < 2; arm++) {
      const o = arm * 8;
      const clip: Roi = { x0: box[arm * 4], y0: box[arm * 4 + 1], x1: box[arm * 4 + 2], y1: box[arm * 4 + 3] };
      drawCapsule(frame, this.width, clip, j[o], j[o + 1], j[o + 2], j[o + 3], ar * 1.08, this.sleeve, stripes);
      drawCapsule(frame, this.width, clip, j[o + 2], j[o + 3], j[o + 4], j[o + 5], ar, this.sleeve, stripes);
      drawCapsule(frame, this.width, clip, j[o + 4], j[o + 5], j[o + 6], j[o + 7], hr, this.skin);
    }
    this.prevBox = box;
    this.hasPrev = true;
    return rois;
  }

  /** Positions of the distractors at t (µs) into `spots`; returns the indices of those in view now. */
  private placeDistractors(t: number): number[] {
    const active: number[] = [];
    this.distractors.forEach((d, k) => {
      const u = clampNum((t - d.t0) / Math.max(1, d.t1 - d.t0), 0, 1);
      this.spots[2 * k] = d.x0 + (d.x1 - d.x0) * u;
      this.spots[2 * k + 1] = d.y0 + (d.y1 - d.y0) * u;
      if (t >= d.t0 && t <= d.t1) active.push(k);
    });
    return active;
  }

  /** The box around the active distractors into box[8..11] (empty when none is in view). */
  private distractorBox(active: readonly number[], box: Float64Array): void {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (const k of active) {
      const m = this.distractors[k].radius + SOFT + 1.5;
      x0 = Math.min(x0, this.spots[2 * k] - m);
      x1 = Math.max(x1, this.spots[2 * k] + m);
      y0 = Math.min(y0, this.spots[2 * k + 1] - m);
      y1 = Math.max(y1, this.spots[2 * k + 1] + m);
    }
    if (active.length === 0) return;
    box[8] = Math.max(0, Math.floor(x0));
    box[9] = Math.max(0, Math.floor(y0));
    box[10] = Math.min(this.width, Math.ceil(x1));
    box[11] = Math.min(this.height, Math.ceil(y1));
  }
}

/** One arm's bounding box (joints S E W H, margin m) into box[arm·4 …]. */
function armBox(j: Float64Array, arm: number, m: number, box: Float64Array): void {
  const o = arm * 8;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let k = 0; k < 4; k++) {
    x0 = Math.min(x0, j[o + 2 * k]);
    x1 = Math.max(x1, j[o + 2 * k]);
    y0 = Math.min(y0, j[o + 2 * k + 1]);
    y1 = Math.max(y1, j[o + 2 * k + 1]);
  }
  box[arm * 4] = Math.max(0, Math.floor(x0 - m));
  box[arm * 4 + 1] = Math.max(0, Math.floor(y0 - m));
  box[arm * 4 + 2] = Math.min(SYNTH_WIDTH, Math.ceil(x1 + m));
  box[arm * 4 + 3] = Math.min(SYNTH_HEIGHT, Math.ceil(y1 + m));
}

/** The union of part `part`'s previous and current boxes (an empty box adds nothing). */
function unionBox(prev: Float64Array, now: Float64Array, part: number): Roi {
  const o = part * 4;
  const pe = !(prev[o + 2] > prev[o] && prev[o + 3] > prev[o + 1]);
  const ne = !(now[o + 2] > now[o] && now[o + 3] > now[o + 1]);
  if (pe && ne) return { x0: 0, y0: 0, x1: 0, y1: 0 };
  if (pe) return { x0: now[o], y0: now[o + 1], x1: now[o + 2], y1: now[o + 3] };
  if (ne) return { x0: prev[o], y0: prev[o + 1], x1: prev[o + 2], y1: prev[o + 3] };
  return { x0: Math.min(prev[o], now[o]), y0: Math.min(prev[o + 1], now[o + 1]), x1: Math.max(prev[o + 2], now[o + 2]), y1: Math.max(prev[o + 3], now[o + 3]) };
}

/** The joints as drawn: rotated by the world's camera roll about the neck base (a copy when there is none). */
function rollJoints(plan: RecordingPlan, joints: Float64Array, out: Float64Array): void {
  const roll = plan.world?.rollRad ?? 0;
  if (roll === 0) {
    out.set(joints);
    return;
  }
  const c = Math.cos(roll);
  const s = Math.sin(roll);
  const ox = plan.subject.cx;
  const oy = plan.subject.neckY;
  for (let k = 0; k < 16; k += 2) {
    const dx = joints[k] - ox;
    const dy = joints[k + 1] - oy;
    out[k] = ox + dx * c - dy * s;
    out[k + 1] = oy + dx * s + dy * c;
  }
}

function copyRect(src: Float32Array, dst: Float32Array, W: number, r: Roi): void {
  for (let y = r.y0; y < r.y1; y++) {
    const row = y * W;
    dst.set(src.subarray(row + r.x0, row + r.x1), row + r.x0);
  }
}

/** Soft-edged capsule (segment A–B, radius rad) composited over `frame` inside `clip`, optionally striped across its length. */
function drawCapsule(frame: Float32Array, W: number, clip: Roi, ax: number, ay: number, bx: number, by: number, rad: number, value: number, stripes?: Stripes): void {
  const m = rad + SOFT;
  const x0 = Math.max(clip.x0, Math.floor(Math.min(ax, bx) - m));
  const x1 = Math.min(clip.x1, Math.ceil(Math.max(ax, bx) + m));
  const y0 = Math.max(clip.y0, Math.floor(Math.min(ay, by) - m));
  const y1 = Math.min(clip.y1, Math.ceil(Math.max(ay, by) + m));
  const vx = bx - ax;
  const vy = by - ay;
  const vv = vx * vx + vy * vy;
  const inv = vv > 1e-12 ? 1 / vv : 0;
  const invSoft = 1 / SOFT;
  const cycles = stripes ? Math.sqrt(vv) / stripes.period : 0;
  for (let y = y0; y < y1; y++) {
    const py = y + 0.5 - ay;
    const row = y * W;
    for (let x = x0; x < x1; x++) {
      const px = x + 0.5 - ax;
      let u = (px * vx + py * vy) * inv;
      u = u < 0 ? 0 : u > 1 ? 1 : u;
      const qx = px - u * vx;
      const qy = py - u * vy;
      const d = Math.sqrt(qx * qx + qy * qy);
      let c = 0.5 + (rad - d) * invSoft;
      if (c <= 0) continue;
      if (c > 1) c = 1;
      const i = row + x;
      const v = stripes && Math.sin(2 * Math.PI * u * cycles) < 0 ? value * (1 - stripes.depth) : value;
      frame[i] += (v - frame[i]) * c;
    }
  }
}

/** Background texture, torso, neck and head. */
function renderStatic(plan: RecordingPlan, tone: (v: number) => number): Float32Array {
  const W = SYNTH_WIDTH;
  const H = SYNTH_HEIGHT;
  const r = new Rng(keyedSeed(plan.seed, 'background', plan.user, plan.lighting.name));
  const base = new Float32Array(W * H);
  // Value noise at two scales + a few soft-edged rectangles (furniture, door frames).
  const grid = (n: number) => {
    const g = new Float32Array((n + 1) * (n + 1));
    for (let i = 0; i < g.length; i++) g[i] = r.next() * 2 - 1;
    return g;
  };
  const g1 = grid(4);
  const g2 = grid(12);
  const sample = (g: Float32Array, n: number, x: number, y: number) => {
    const fx = (x / W) * n;
    const fy = (y / H) * n;
    const ix = Math.min(n - 1, Math.floor(fx));
    const iy = Math.min(n - 1, Math.floor(fy));
    const ux = smooth(fx - ix);
    const uy = smooth(fy - iy);
    const a = g[iy * (n + 1) + ix];
    const b = g[iy * (n + 1) + ix + 1];
    const c = g[(iy + 1) * (n + 1) + ix];
    const d = g[(iy + 1) * (n + 1) + ix + 1];
    return a + (b - a) * ux + (c - a) * uy + (a - b - c + d) * ux * uy;
  };
  const bg = plan.world?.background;
  const level = bg ? bg.level : r.uniform(0.22, 0.38);
  const rects: number[][] = bg ? bg.rects : [];
  const nRect = bg ? 0 : 2 + r.int(4);
  for (let k = 0; k < nRect; k++) {
    const x0 = r.uniform(-10, 120);
    const y0 = r.uniform(-10, 120);
    rects.push([x0, y0, x0 + r.uniform(8, 50), y0 + r.uniform(8, 60), r.uniform(0.6, 1.6)]);
  }
  const noise = bg ? bg.noise : 1;
  const stripes = bg?.stripes;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // (The classic expression kept as it was: its rounding is in the bundled recordings.)
      let v = bg ? level * (1 + noise * (0.3 * sample(g1, 4, x, y) + 0.12 * sample(g2, 12, x, y))) : level * (1 + 0.3 * sample(g1, 4, x, y) + 0.12 * sample(g2, 12, x, y));
      if (stripes) v *= stripeFactor(stripes, x, y);
      for (const q of rects) {
        const cov = clampNum(Math.min(x + 0.5 - q[0], q[2] - x - 0.5, y + 0.5 - q[1], q[3] - y - 0.5) + 0.5, 0, 1);
        if (cov > 0) v *= 1 + (q[4] - 1) * cov;
      }
      base[y * W + x] = v;
    }
  }
  drawBody(base, plan);
  for (let i = 0; i < base.length; i++) base[i] = tone(Math.max(0.01, base[i]));
  return base;
}

/** Soft stripes across the background (static edges): ±depth around 1, period px, at an angle. */
function stripeFactor(st: { period: number; depth: number; angle: number }, x: number, y: number): number {
  const along = (x + 0.5) * Math.cos(st.angle) + (y + 0.5) * Math.sin(st.angle);
  return 1 + st.depth * clampNum(2.5 * Math.sin((2 * Math.PI * along) / st.period), -1, 1);
}

/** Torso, neck, head and hair drawn into `base`, turned by the world's camera roll about the neck base. */
function drawBody(base: Float32Array, plan: RecordingPlan): void {
  const W = SYNTH_WIDTH;
  const H = SYNTH_HEIGHT;
  const s = plan.subject;
  const L = s.armLength;
  const { shoulderHalf, shoulderDrop } = bodyOf(s);
  const full: Roi = { x0: 0, y0: 0, x1: W, y1: H };
  const roll = plan.world?.rollRad ?? 0;
  const c = Math.cos(roll);
  const sn = Math.sin(roll);
  // A point of the upright figure as drawn (turned about the neck base).
  const px = (x: number, y: number) => (roll === 0 ? x : s.cx + (x - s.cx) * c - (y - s.neckY) * sn);
  const py = (x: number, y: number) => (roll === 0 ? y : s.neckY + (x - s.cx) * sn + (y - s.neckY) * c);
  const capsule = (ax: number, ay: number, bx: number, by: number, rad: number, value: number) =>
    drawCapsule(base, W, full, px(ax, ay), py(ax, ay), px(bx, by), py(bx, by), rad, value);
  // Torso: shoulders capsule + a tapered box down to the bottom edge.
  capsule(s.cx - shoulderHalf * L, s.neckY + shoulderDrop * L + 0.05 * L, s.cx + shoulderHalf * L, s.neckY + shoulderDrop * L + 0.05 * L, 0.13 * L, s.shirt);
  const top = s.neckY + shoulderDrop * L;
  for (let y = roll === 0 ? Math.max(0, Math.floor(top)) : 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // The pixel in body coordinates (the roll undone); without a roll, the pixel itself.
      const bx = roll === 0 ? x + 0.5 - s.cx : (x + 0.5 - s.cx) * c + (y - s.neckY) * sn;
      const by = roll === 0 ? y : s.neckY - (x + 0.5 - s.cx) * sn + (y - s.neckY) * c;
      if (roll !== 0 && by < top - 1) continue; // upright, the rows from ⌊top⌋ down
      const half = (shoulderHalf + 0.1 - 0.1 * ((by - top) / (1.6 * L))) * L;
      const cov = clampNum(half - Math.abs(bx) + 0.5, 0, 1);
      if (cov > 0) base[y * W + x] += (s.shirt * (1 - 0.15 * ((by - top) / H)) - base[y * W + x]) * cov;
    }
  }
  // Neck and head (skin), hair on top.
  capsule(s.cx, s.neckY - 0.18 * L, s.cx, s.neckY + 0.04 * L, 0.08 * L, s.skin * 0.9);
  const hy = s.neckY - 0.38 * L;
  capsule(s.cx, hy - 0.04 * L, s.cx, hy + 0.06 * L, 0.17 * L, s.skin);
  capsule(s.cx - 0.06 * L, hy - 0.12 * L, s.cx + 0.06 * L, hy - 0.12 * L, 0.13 * L, s.hair);
}
