/**
 * One perturbation at a time of a recording's world, for the robustness report
 * (`evaluate --robustness`, `dataset synth-gestures --perturb NAME`): the same subjects doing the
 * same gestures, with one thing changed. Everything else stays as planned.
 */
import { flipPolarity } from '../../events/augment/transforms';
import type { EventBatch } from '../../events/event-batch';
import { keyedSeed, Rng } from '../../prng';
import type { RecordingPlan, WorldParams } from './params';

export interface Perturbation {
  readonly name: string;
  readonly description: string;
  /** The changed plan (a copy). */
  readonly plan?: (p: RecordingPlan) => RecordingPlan;
  /** The changed events (after the emulator). */
  readonly events?: (b: EventBatch) => EventBatch;
}

function withWorld(p: RecordingPlan, w: WorldParams): RecordingPlan {
  return { ...p, world: { ...p.world, ...w } };
}

const speed = (f: number): Perturbation => ({
  name: `speed-${f}`,
  description: `every gesture ${f}× as fast (same label windows)`,
  plan: (p) => ({ ...p, segments: p.segments.map((s) => ({ ...s, timeScale: s.timeScale * f })) }),
});

const noise = (hz: number): Perturbation => ({
  name: `noise-${hz}hz`,
  description: `shot noise ${hz} Hz per pixel (classic: 0.05–0.15)`,
  plan: (p) => ({ ...p, emulator: { ...p.emulator, noiseRateHz: hz } }),
});

const offset = (dx: number): Perturbation => ({
  name: `offset-${dx > 0 ? 'right' : 'left'}-${Math.abs(dx)}px`,
  description: `the person ${Math.abs(dx)} px further ${dx > 0 ? 'right' : 'left'} in the image`,
  plan: (p) => ({ ...p, subject: { ...p.subject, cx: p.subject.cx + dx } }),
});

const scale = (f: number): Perturbation => ({
  name: `scale-${f}`,
  description: `the person ${f}× as large (nearer or further)`,
  plan: (p) => ({ ...p, subject: { ...p.subject, armLength: p.subject.armLength * f } }),
});

/** Every perturbation of the robustness report, in its order ('none' first: the reference). */
export const SYNTH_PERTURBATIONS: readonly Perturbation[] = [
  { name: 'none', description: 'the held-out recordings as generated' },
  { name: 'polarity-swap', description: 'ON and OFF events swapped (the opposite contrast)', events: flipPolarity },
  {
    name: 'dark-limbs',
    description: 'dark sleeves and hands (¼ of their brightness) and shirt (½) in front of a bright wall (0.7)',
    plan: (p) => withWorld({ ...p, subject: { ...p.subject, sleeve: p.subject.sleeve * 0.25, skin: p.subject.skin * 0.25, shirt: p.subject.shirt * 0.5 } }, {
      background: { level: 0.7, noise: 1, rects: [] },
    }),
  },
  {
    name: 'textured-background',
    description: 'stripes (period 9 px, ±35 %) and 10 rectangles (× 0.3–3) behind the person',
    plan: (p) => {
      const r = new Rng(keyedSeed(p.seed, 'perturb-texture', p.user, p.lighting.name));
      const rects: number[][] = [];
      for (let k = 0; k < 10; k++) {
        const x0 = r.uniform(-10, 120);
        const y0 = r.uniform(-10, 120);
        rects.push([x0, y0, x0 + r.uniform(6, 40), y0 + r.uniform(6, 50), Math.exp(r.uniform(Math.log(0.3), Math.log(3)))]);
      }
      return withWorld(p, { background: { level: 0.3, noise: 1.5, stripes: { period: 9, depth: 0.35, angle: 0.6 }, rects } });
    },
  },
  speed(0.7),
  speed(1.4),
  noise(0.5),
  noise(2),
  offset(-15),
  offset(15),
  scale(0.85),
  scale(1.15),
  {
    name: 'flicker-100hz',
    description: 'the light flickers at 100 Hz (±4 % intensity)',
    plan: (p) => withWorld(p, { flicker: { hz: 100, depth: 0.04 } }),
  },
];

export function perturbationNamed(name: string): Perturbation {
  const p = SYNTH_PERTURBATIONS.find((q) => q.name === name);
  if (!p) throw new RangeError(`unknown perturbation '${name}' (known: ${SYNTH_PERTURBATIONS.map((q) => q.name).join(', ')})`);
  return p;
}
