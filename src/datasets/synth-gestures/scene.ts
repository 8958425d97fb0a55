/**
 * Rendering: a plan's scene in linear intensity — a static layer (textured background, torso,
 * neck, head) drawn once, and the arms as soft-edged capsules repainted each frame only inside
 * the boxes they covered before and now.
 */
import type { Roi } from '../../emulator/dvs-emulator';
import { keyedSeed, Rng } from '../../prng';
import { Skeleton, smooth, wristsAt } from './motion';
import { ARM_R, clampNum, HAND_R, SHOULDER_DROP, SHOULDER_HALF, SOFT, SYNTH_HEIGHT, SYNTH_WIDTH, type RecordingPlan } from './params';

/** Renders a plan's scene: a static layer (background + torso + head) and the moving arms. */
export class GestureScene {
  readonly width = SYNTH_WIDTH;
  readonly height = SYNTH_HEIGHT;
  /** Static layer (linear intensity, lighting applied). */
  readonly staticLayer: Float32Array;
  readonly skeleton: Skeleton;
  private readonly wrists = new Float64Array(4);
  private readonly tmp = new Float64Array(4);
  private readonly sleeve: number;
  private readonly skin: number;
  /** Bounding boxes of each arm at the previous render: [x0,y0,x1,y1] × 2. */
  private prevBox = new Float64Array([0, 0, 0, 0, 0, 0, 0, 0]);
  private hasPrev = false;
  /** Largest joint displacement (px) between the last two renders. */
  lastMotionPx = 0;

  constructor(readonly plan: RecordingPlan) {
    this.skeleton = new Skeleton(plan.subject);
    const lit = plan.lighting;
    const tone = (v: number) => lit.illumination * 0.3 * Math.pow(v / 0.3, lit.contrast);
    this.sleeve = tone(plan.subject.sleeve);
    this.skin = tone(plan.subject.skin);
    this.staticLayer = renderStatic(plan, tone);
  }

  /**
   * Renders time t (µs) into `frame`. The first call fills the whole frame and returns
   * undefined; later calls repaint only the arms' old and new boxes and return them (the
   * region that can have changed).
   */
  render(t: number, frame: Float32Array): Roi[] | undefined {
    wristsAt(this.plan, t, this.wrists, this.tmp);
    const prevJoints = this.hasPrev ? Float64Array.from(this.skeleton.joints) : undefined;
    this.skeleton.solve(this.wrists);
    const j = this.skeleton.joints;
    const L = this.plan.subject.armLength;
    const ar = ARM_R * L;
    const hr = HAND_R * L;
    const box = new Float64Array(8);
    for (let arm = 0; arm < 2; arm++) {
      const o = arm * 8;
      const m = Math.max(ar, hr) + SOFT + 1.5;
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
      box[arm * 4 + 2] = Math.min(this.width, Math.ceil(x1 + m));
      box[arm * 4 + 3] = Math.min(this.height, Math.ceil(y1 + m));
    }
    let rois: Roi[] | undefined;
    if (!this.hasPrev || !prevJoints) {
      frame.set(this.staticLayer);
      this.lastMotionPx = 0;
    } else {
      let motion = 0;
      for (let k = 0; k < 16; k++) motion = Math.max(motion, Math.abs(j[k] - prevJoints[k]));
      this.lastMotionPx = motion;
      if (motion === 0) {
        this.prevBox = box;
        return [];
      }
      rois = [];
      for (let arm = 0; arm < 2; arm++) {
        const p = this.prevBox;
        const r: Roi = {
          x0: Math.min(p[arm * 4], box[arm * 4]),
          y0: Math.min(p[arm * 4 + 1], box[arm * 4 + 1]),
          x1: Math.max(p[arm * 4 + 2], box[arm * 4 + 2]),
          y1: Math.max(p[arm * 4 + 3], box[arm * 4 + 3]),
        };
        rois.push(r);
        copyRect(this.staticLayer, frame, this.width, r);
      }
    }
    for (let arm = 0; arm < 2; arm++) {
      const o = arm * 8;
      const clip: Roi = { x0: box[arm * 4], y0: box[arm * 4 + 1], x1: box[arm * 4 + 2], y1: box[arm * 4 + 3] };
      drawCapsule(frame, this.width, clip, j[o], j[o + 1], j[o + 2], j[o + 3], ar * 1.08, this.sleeve);
      drawCapsule(frame, this.width, clip, j[o + 2], j[o + 3], j[o + 4], j[o + 5], ar, this.sleeve);
      drawCapsule(frame, this.width, clip, j[o + 4], j[o + 5], j[o + 6], j[o + 7], hr, this.skin);
    }
    this.prevBox = box;
    this.hasPrev = true;
    return rois;
  }
}

function copyRect(src: Float32Array, dst: Float32Array, W: number, r: Roi): void {
  for (let y = r.y0; y < r.y1; y++) {
    const row = y * W;
    dst.set(src.subarray(row + r.x0, row + r.x1), row + r.x0);
  }
}

/** Soft-edged capsule (segment A–B, radius rad) composited over `frame` inside `clip`. */
function drawCapsule(frame: Float32Array, W: number, clip: Roi, ax: number, ay: number, bx: number, by: number, rad: number, value: number): void {
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
      frame[i] += (value - frame[i]) * c;
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
  const level = r.uniform(0.22, 0.38);
  const rects: number[][] = [];
  const nRect = 2 + r.int(4);
  for (let k = 0; k < nRect; k++) {
    const x0 = r.uniform(-10, 120);
    const y0 = r.uniform(-10, 120);
    rects.push([x0, y0, x0 + r.uniform(8, 50), y0 + r.uniform(8, 60), r.uniform(0.6, 1.6)]);
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let v = level * (1 + 0.3 * sample(g1, 4, x, y) + 0.12 * sample(g2, 12, x, y));
      for (const q of rects) {
        const cov = clampNum(Math.min(x + 0.5 - q[0], q[2] - x - 0.5, y + 0.5 - q[1], q[3] - y - 0.5) + 0.5, 0, 1);
        if (cov > 0) v *= 1 + (q[4] - 1) * cov;
      }
      base[y * W + x] = v;
    }
  }
  const s = plan.subject;
  const L = s.armLength;
  const full: Roi = { x0: 0, y0: 0, x1: W, y1: H };
  // Torso: shoulders capsule + a tapered box down to the bottom edge.
  drawCapsule(base, W, full, s.cx - SHOULDER_HALF * L, s.neckY + SHOULDER_DROP * L + 0.05 * L, s.cx + SHOULDER_HALF * L, s.neckY + SHOULDER_DROP * L + 0.05 * L, 0.13 * L, s.shirt);
  const top = s.neckY + SHOULDER_DROP * L;
  for (let y = Math.max(0, Math.floor(top)); y < H; y++) {
    const half = (SHOULDER_HALF + 0.1 - 0.1 * ((y - top) / (1.6 * L))) * L;
    for (let x = 0; x < W; x++) {
      const cov = clampNum(half - Math.abs(x + 0.5 - s.cx) + 0.5, 0, 1);
      if (cov > 0) base[y * W + x] += (s.shirt * (1 - 0.15 * ((y - top) / H)) - base[y * W + x]) * cov;
    }
  }
  // Neck and head (skin), hair on top.
  drawCapsule(base, W, full, s.cx, s.neckY - 0.18 * L, s.cx, s.neckY + 0.04 * L, 0.08 * L, s.skin * 0.9);
  const hy = s.neckY - 0.38 * L;
  drawCapsule(base, W, full, s.cx, hy - 0.04 * L, s.cx, hy + 0.06 * L, 0.17 * L, s.skin);
  drawCapsule(base, W, full, s.cx - 0.06 * L, hy - 0.12 * L, s.cx + 0.06 * L, hy - 0.12 * L, 0.13 * L, s.hair);
  for (let i = 0; i < base.length; i++) base[i] = tone(Math.max(0.01, base[i]));
  return base;
}
