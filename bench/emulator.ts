/**
 * DVS emulator benchmark (pure JS, single thread):
 *   node .build/emu/bench/emulator.js     (or: npm run bench:emulator)
 * 1. Full-frame emulation: 128×128, 1 kHz frames of a moving, textured high-contrast pattern
 *    (frames pre-rendered, so only the emulator is timed), with noise and refractory period.
 * 2. End to end: one synthetic-gesture recording (render + emulate, adaptive frame rate).
 * Prints the median of several runs, then one JSON line {name, unit, value, backend, machine}
 * (value: emulated pixel updates per second; events per second ride along).
 */
import { DvsEmulator } from '../src/emulator/dvs-emulator';
import { Rng } from '../src/prng';
import { emulateRecording, planRecording } from '../src/datasets/synth-gestures';
import { machine, median, printFigures } from './common';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const W = 128;
const H = 128;
const FRAMES = Number(process.env.BENCH_FRAMES ?? 500);

function makeFrames(): Float32Array[] {
  const r = new Rng(1);
  const tex = new Float32Array(W * 2 * H);
  for (let i = 0; i < tex.length; i++) tex[i] = r.next();
  const frames: Float32Array[] = [];
  for (let k = 0; k <= FRAMES; k++) {
    const f = new Float32Array(W * H);
    const shift = k * 0.15; // px per frame: 150 px/s at 1 kHz
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const u = x + shift;
        const bar = 0.5 + 0.5 * Math.sin((u / 9) * Math.PI * 2);
        f[y * W + x] = 0.05 + 0.8 * bar * bar + 0.1 * tex[y * 2 * W + (Math.floor(u) % (2 * W))];
      }
    }
    frames.push(f);
  }
  return frames;
}

function main(): void {
  const frames = makeFrames();
  const pxRates: number[] = [];
  const evRates: number[] = [];
  let events = 0;
  for (let run = 0; run < RUNS; run++) {
    const emu = new DvsEmulator({ width: W, height: H, seed: run + 1, thresholdOn: 0.2, thresholdOff: 0.2, refractoryUs: 200, noiseRateHz: 0.2 });
    emu.reset(frames[0], 0);
    events = 0;
    const t0 = process.hrtime.bigint();
    for (let k = 1; k <= FRAMES; k++) events += emu.step(frames[k], k * 1000).length;
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    pxRates.push((FRAMES * W * H) / s);
    evRates.push(events / s);
  }
  const px = median(pxRates);
  const ev = median(evRates);
  process.stdout.write(`emulator 128×128 full frame, ${FRAMES} frames at 1 kHz, ${events} events/run, ${RUNS} runs (median)\n`);
  process.stdout.write(`  ${(px / 1e6).toFixed(1)} M pixel updates/s, ${(ev / 1e6).toFixed(2)} M events/s (${(px / (W * H * 1000)).toFixed(2)}× real time at 1 kHz full frames)\n`);

  const plan = planRecording({ seed: 1, user: 1, lighting: 'led' });
  const e2e: number[] = [];
  const e2eEv: number[] = [];
  let st = { frames: 0, events: 0, pixelUpdates: 0 };
  for (let run = 0; run < Math.max(1, Math.ceil(RUNS / 2)); run++) {
    const t0 = process.hrtime.bigint();
    st = emulateRecording(plan, () => {});
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    e2e.push(plan.tEnd / 1e6 / s);
    e2eEv.push(st.events / s);
  }
  process.stdout.write(
    `synthetic gestures end to end (render + emulate): ${(plan.tEnd / 1e6).toFixed(1)} s recording, ${plan.segments.length} gestures, ${st.frames} frames, ${st.events} events\n` +
      `  ${median(e2e).toFixed(1)}× real time, ${(median(e2eEv) / 1e6).toFixed(2)} M events/s\n`,
  );
  printFigures('emulator', [
    { name: 'emulator pixel updates (128×128, 1 kHz)', unit: 'pixel updates/s', value: Math.round(px), backend: 'js', machine: machine() },
    { name: 'emulator events (128×128, 1 kHz)', unit: 'events/s', value: Math.round(ev), backend: 'js', machine: machine() },
    { name: 'synthetic gestures end to end', unit: '× real time', value: +median(e2e).toFixed(1), backend: 'js', machine: machine() },
    { name: 'synthetic gestures end to end events', unit: 'events/s', value: Math.round(median(e2eEv)), backend: 'js', machine: machine() },
  ]);
}

main();
