/**
 * Motion: each class's wrist trajectory (in body units), blending into and out of rest around
 * the label windows, and the two-link inverse kinematics that turns wrist targets into joint
 * positions in pixels.
 */
import { bodyOf, clampNum, type GestureSegment, type GestureStyle, type SubjectParams } from './params';

/** Nominal per-class frequency (Hz) before normalisation. */
const CLASS_FREQ = [2.0, 2.2, 2.2, 0.9, 0.9, 0.9, 0.9, 1.8, 2.4, 2.6, 1.0];

const TAU = 2 * Math.PI;

/**
 * Wrist targets in body units (arm lengths, relative to the neck base; x to the image's right,
 * y down) for class `classId` at gesture time `g` seconds. Writes [rx, ry, lx, ly] and, when
 * `out` has room, the hands' turn about the wrists [rHand, lHand] (radians, 0 = along the forearm).
 * The subject's right arm is on the image's left.
 */
export function gestureWrists(classId: number, g: number, seg: GestureSegment, subj: SubjectParams, out: Float64Array): void {
  const ci = classId - 1;
  const { shoulderHalf: SHOULDER_HALF, shoulderDrop: SHOULDER_DROP } = bodyOf(subj);
  const amp = seg.amplitude * subj.amplitude * subj.classAmplitude[ci];
  const ampR = amp * (subj.dominantSide < 0 ? subj.dominance : 1 / subj.dominance);
  const ampL = amp * (subj.dominantSide > 0 ? subj.dominance : 1 / subj.dominance);
  const dy = subj.classOffsetY[ci];
  const ph = TAU * (CLASS_FREQ[ci] * g + seg.phase);
  const restRx = -SHOULDER_HALF - 0.14;
  const restRy = SHOULDER_DROP + 0.92;
  const restLx = SHOULDER_HALF + 0.14;
  const restLy = restRy;
  // Default: both at rest with a slow sway.
  const sway = subj.idleSway * Math.sin(TAU * 0.35 * g + seg.phase * 7);
  out[0] = restRx + sway;
  out[1] = restRy;
  out[2] = restLx - sway;
  out[3] = restLy;
  if (out.length > 4) out[4] = out[5] = 0;
  if (seg.style !== undefined && seg.style !== 'classic' && styledWrists(classId, ph, seg.style, subj, ampR, ampL, dy, out)) {
    addJitter(seg, g, out);
    return;
  }
  switch (classId) {
    case 1: {
      // hand clapping: hands meet in front of the chest
      const open = 0.5 * (1 - Math.cos(ph));
      out[0] = -0.045 - 0.26 * ampR * open;
      out[1] = 0.5 + dy + 0.02 * Math.sin(ph);
      out[2] = 0.045 + 0.26 * ampL * open;
      out[3] = 0.5 + dy + 0.02 * Math.sin(ph);
      break;
    }
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
      oneArmWrists(classId, ph, SHOULDER_HALF, ampR, ampL, dy, out);
      break;
    case 8: {
      // arm roll: forearms rolling around each other in front of the chest
      const rad = 0.13 * amp;
      const cy = 0.5 + dy;
      out[0] = -0.06 + rad * Math.cos(ph);
      out[1] = cy + rad * Math.sin(ph);
      out[2] = 0.06 + rad * Math.cos(ph + Math.PI);
      out[3] = cy + rad * Math.sin(ph + Math.PI);
      break;
    }
    case 9: {
      // air drums: alternating sharp down-strokes at waist height
      const stroke = (p: number) => {
        const c = Math.cos(p);
        return c * Math.abs(c); // quick turn at the bottom and top
      };
      out[0] = -0.34 + 0.03 * Math.sin(ph * 0.5);
      out[1] = 0.62 + dy + 0.16 * ampR * stroke(ph);
      out[2] = 0.34 - 0.03 * Math.sin(ph * 0.5);
      out[3] = 0.62 + dy + 0.16 * ampL * stroke(ph + Math.PI);
      break;
    }
    case 10: {
      // air guitar: strumming hand at the hip, fretting hand out on the neck
      out[0] = -0.1 + 0.03 * Math.sin(ph);
      out[1] = 0.72 + dy + 0.15 * ampR * Math.sin(ph);
      out[2] = 0.95 + 0.08 * ampL * Math.sin(TAU * 0.45 * g + seg.phase);
      out[3] = 0.2 + dy + 0.05 * ampL * Math.sin(TAU * 0.8 * g);
      break;
    }
    case 11:
      otherWrists(seg.other!, g, amp, dy, [restRx, restRy, restLx, restLy], out);
      break;
    default:
      throw new RangeError(`unknown gesture class ${classId}`);
  }
  addJitter(seg, g, out);
}

/** Classes 2–7 move one arm: waves (2, 3) above the shoulder and big arm circles (4–7); the other arm stays at rest. */
function oneArmWrists(classId: number, ph: number, SHOULDER_HALF: number, ampR: number, ampL: number, dy: number, out: Float64Array): void {
  if (classId <= 3) {
    // hand wave: forearm up, hand swinging sideways above the shoulder
    const s = classId === 2 ? -1 : 1;
    const a = classId === 2 ? ampR : ampL;
    const x = s * (SHOULDER_HALF + 0.22) + 0.2 * a * Math.sin(ph);
    const y = -0.5 + dy + 0.05 * a * Math.cos(2 * ph);
    setWrist(out, s, x, y);
    return;
  }
  // big arm circles; image y points down so increasing angle is clockwise on screen
  const s = classId <= 5 ? -1 : 1;
  const dir = classId === 4 || classId === 6 ? 1 : -1;
  const a = s < 0 ? ampR : ampL;
  const rad = 0.4 * a;
  const cxb = s * (SHOULDER_HALF + 0.42);
  const cyb = 0.02 + dy;
  const th = dir * ph;
  const x = cxb + rad * Math.cos(th);
  const y = cyb + rad * Math.sin(th);
  setWrist(out, s, x, y);
}

/**
 * Class 11 ("other"): each active arm (o[arm·21] ≠ 0) leaves its rest pose by an offset and moves
 * as a sum of three sines per axis, with the frequencies, amplitudes and phases drawn per segment.
 */
function otherWrists(o: ArrayLike<number>, g: number, amp: number, dy: number, rest: readonly [number, number, number, number], out: Float64Array): void {
  const [restRx, restRy, restLx, restLy] = rest;
  for (let arm = 0; arm < 2; arm++) {
    const base = arm * 21;
    if (o[base] === 0) continue;
    const s = arm === 0 ? -1 : 1;
    let x = (arm === 0 ? restRx : restLx) - s * o[base + 1];
    let y = (arm === 0 ? restRy : restLy) + o[base + 2] + dy;
    for (let k = 0; k < 3; k++) {
      const b = base + 3 + k * 6;
      x += amp * o[b + 1] * Math.sin(TAU * (o[b] * g + o[b + 2]));
      y += amp * o[b + 4] * Math.sin(TAU * (o[b + 3] * g + o[b + 5]));
    }
    out[arm * 2] = x;
    out[arm * 2 + 1] = y;
  }
}

/**
 * The randomized world's other ways of doing waves (classes 2, 3) and arm circles (4–7); false
 * for a class the style does not apply to (it then moves the classic way).
 */
function styledWrists(classId: number, ph: number, style: GestureStyle, subj: SubjectParams, ampR: number, ampL: number, dy: number, out: Float64Array): boolean {
  const body = bodyOf(subj);
  const wave = classId === 2 || classId === 3;
  const circle = classId >= 4 && classId <= 7;
  const s = classId === 2 || classId === 4 || classId === 5 ? -1 : 1;
  const a = s < 0 ? ampR : ampL;
  const shX = s * body.shoulderHalf;
  const shY = body.shoulderDrop;
  if (wave && (style === 'elbow' || style === 'wrist')) {
    // Elbow out and down from the shoulder, forearm up; the forearm (elbow) or the hand (wrist) swings.
    const ex = shX + s * body.upper * 0.72;
    const ey = shY + body.upper * 0.55 + dy;
    const lean = style === 'elbow' ? 0.45 * a * Math.sin(ph) : 0.04 * Math.sin(ph);
    setWrist(out, s, ex + s * body.fore * Math.sin(0.15 + lean), ey - body.fore * Math.cos(0.15 + lean));
    if (style === 'wrist' && out.length > 4) out[s < 0 ? 4 : 5] = 0.75 * a * Math.sin(ph);
    return true;
  }
  if (circle && (style === 'whole-arm' || style === 'forearm')) {
    const dir = classId === 4 || classId === 6 ? 1 : -1;
    const th = dir * ph;
    // Whole arm: a windmill about the shoulder; forearm: small circles about a point near the elbow.
    const whole = style === 'whole-arm';
    const rad = (whole ? 0.78 : 0.2) * a;
    const cx = whole ? shX + s * 0.06 : shX + s * body.upper * 0.85;
    const cy = whole ? shY + 0.04 + dy : shY + body.upper * 0.25 + dy;
    setWrist(out, s, cx + rad * Math.cos(th), cy + rad * Math.sin(th));
    return true;
  }
  return false;
}

/** Adds the instance's hand-path jitter: per wrist coordinate a slow sinusoid (f Hz, a arm lengths, phase). */
function addJitter(seg: GestureSegment, g: number, out: Float64Array): void {
  const j = seg.jitter;
  if (!j) return;
  for (let k = 0; k < 4; k++) out[k] += j[k * 3 + 1] * Math.sin(TAU * (j[k * 3] * g + j[k * 3 + 2]));
}

/** Sets one arm's wrist in [rx, ry, lx, ly]: side < 0 is the subject's right arm. */
function setWrist(out: Float64Array, side: number, x: number, y: number): void {
  const k = side < 0 ? 0 : 2;
  out[k] = x;
  out[k + 1] = y;
}

function rest(subj: SubjectParams, t: number, out: Float64Array): void {
  const { shoulderHalf: SHOULDER_HALF, shoulderDrop: SHOULDER_DROP } = bodyOf(subj);
  const sway = subj.idleSway * Math.sin(TAU * 0.35 * (t / 1e6));
  if (out.length > 4) out[4] = out[5] = 0;
  out[0] = -SHOULDER_HALF - 0.14 + sway;
  out[1] = SHOULDER_DROP + 0.92;
  out[2] = SHOULDER_HALF + 0.14 - sway;
  out[3] = SHOULDER_DROP + 0.92;
}

export function smooth(u: number): number {
  const v = u < 0 ? 0 : u > 1 ? 1 : u;
  return v * v * (3 - 2 * v);
}

/** Wrist targets (body units) at recording time t (µs): rest, or blending into / out of / through a gesture. */
export function wristsAt(plan: { subject: SubjectParams; segments: GestureSegment[] }, t: number, out: Float64Array, tmp: Float64Array): void {
  rest(plan.subject, t, out);
  for (const seg of plan.segments) {
    if (t < seg.tStart - seg.fadeIn || t >= seg.tEnd + seg.fadeOut) continue;
    const tc = t < seg.tStart ? seg.tStart : t > seg.tEnd ? seg.tEnd : t;
    const g = ((tc - seg.tStart) / 1e6) * seg.timeScale;
    gestureWrists(seg.classId, g, seg, plan.subject, tmp);
    let w = 1;
    if (t < seg.tStart) w = smooth(1 - (seg.tStart - t) / seg.fadeIn);
    else if (t > seg.tEnd) w = smooth(1 - (t - seg.tEnd) / seg.fadeOut);
    const n = Math.min(out.length, tmp.length, 6);
    for (let k = 0; k < n; k++) out[k] = out[k] + (tmp[k] - out[k]) * w;
    break;
  }
}

// Skeleton: wrist targets → joint positions in pixels (two-link IK with hysteresis)

/** Joint positions in px: per arm S(x,y) E(x,y) W(x,y) H(x,y) → 8 values, right arm then left. */
export class Skeleton {
  readonly joints = new Float64Array(16);
  private bend = [1, -1];
  constructor(readonly subj: SubjectParams) {}

  reset(): void {
    this.bend = [1, -1];
  }

  /** Solves both arms for wrist targets `w` (body units; [4], [5]: the hands' turn, radians). */
  solve(w: Float64Array): void {
    const L = this.subj.armLength;
    const { shoulderHalf: SHOULDER_HALF, shoulderDrop: SHOULDER_DROP, upper: UPPER, fore: FORE, handR: HAND_R } = bodyOf(this.subj);
    const a = UPPER * L;
    const b = FORE * L;
    for (let arm = 0; arm < 2; arm++) {
      const side = arm === 0 ? -1 : 1;
      const sx = this.subj.cx + side * SHOULDER_HALF * L;
      const sy = this.subj.neckY + SHOULDER_DROP * L;
      let dx = this.subj.cx + w[arm * 2] * L - sx;
      let dy = this.subj.neckY + w[arm * 2 + 1] * L - sy;
      let d = Math.hypot(dx, dy);
      const dMax = (a + b) * 0.995;
      const dMin = Math.abs(a - b) + 0.05 * L;
      if (d < 1e-9) {
        dx = 0;
        dy = 1;
        d = 1;
      }
      const ux = dx / d;
      const uy = dy / d;
      const dd = clampNum(d, dMin, dMax);
      const cosA = clampNum((a * a + dd * dd - b * b) / (2 * a * dd), -1, 1);
      const sinA = Math.sqrt(1 - cosA * cosA);
      // Candidates: rotate u by ±alpha (image coords).
      const e1x = sx + a * (ux * cosA - uy * sinA);
      const e1y = sy + a * (ux * sinA + uy * cosA);
      const e2x = sx + a * (ux * cosA + uy * sinA);
      const e2y = sy + a * (-ux * sinA + uy * cosA);
      // Prefer elbows low and outside; switch only with a clear margin (no flicker).
      const score1 = e1y - sy + 0.6 * side * (e1x - sx);
      const score2 = e2y - sy + 0.6 * side * (e2x - sx);
      let bend = this.bend[arm];
      if (bend === 1 && score2 > score1 + 0.35 * a) bend = -1;
      else if (bend === -1 && score1 > score2 + 0.35 * a) bend = 1;
      this.bend[arm] = bend;
      const ex = bend === 1 ? e1x : e2x;
      const ey = bend === 1 ? e1y : e2y;
      const wx = sx + ux * dd;
      const wy = sy + uy * dd;
      // Hand centre a little beyond the wrist along the forearm.
      let fx = (wx - ex) / b;
      let fy = (wy - ey) / b;
      const turn = w.length > 4 ? w[4 + arm] : 0;
      if (turn !== 0) {
        const c = Math.cos(turn);
        const sn = Math.sin(turn);
        [fx, fy] = [fx * c - fy * sn, fx * sn + fy * c];
      }
      const j = arm * 8;
      this.joints[j] = sx;
      this.joints[j + 1] = sy;
      this.joints[j + 2] = ex;
      this.joints[j + 3] = ey;
      this.joints[j + 4] = wx;
      this.joints[j + 5] = wy;
      this.joints[j + 6] = wx + fx * HAND_R * L * 0.8;
      this.joints[j + 7] = wy + fy * HAND_R * L * 0.8;
    }
  }
}
