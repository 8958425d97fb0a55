/**
 * SNN engine benchmark: `node .build/snn/bench/snn.js` (or `npm run bench:snn`).
 *
 * For the default spec at 32×32 and 64×64 input (toy "bars" DVS-like frames, 11 classes):
 *   - training samples/s at batch 32 (TF.js; second of two epochs, i.e. warmed up),
 *   - SNN step latency at batch 1 (median over 400 steps, typed-array event-driven runner),
 *   - SNN throughput in sample-steps/s at batch 8 and 32 (one step() call per batch step).
 * The SNN is the one converted from the briefly trained ANN (QCFS), fed the toy frames.
 * Prints each figure with its backend, then one JSON line with all figures.
 * Env: SPIKESTREAM_BACKEND (default wasm for training; the SNN runner does not use TF.js).
 */
import * as os from 'os';
import { initBackend } from '../src/snn/backend';
import { defaultSpec } from '../src/snn/spec';
import { makeToyBars } from '../src/snn/toy';
import { trainAnn } from '../src/snn/train';
import { convertWeights } from '../src/snn/convert';
import { SnnRunner } from '../src/snn/runner';
import { frameOf } from '../src/snn/dataset';

interface Figure { name: string; unit: string; value: number; backend: string; machine: string }

async function main(): Promise<void> {
  const backend = await initBackend(process.env.SPIKESTREAM_BACKEND ?? 'wasm');
  const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'} (${os.cpus().length} cores)`;
  const figures: Figure[] = [];
  const put = (name: string, unit: string, value: number, be: string) => {
    const f = { name, unit, value: Number(value.toPrecision(4)), backend: be, machine };
    figures.push(f);
    process.stdout.write(`${name}: ${f.value} ${unit} [${be}]\n`);
  };
  const classes = Array.from({ length: 11 }, (_, i) => `c${i}`);
  for (const hw of [32, 64]) {
    const T = 16;
    const ds = makeToyBars({ n: hw === 32 ? 320 : 160, T, height: hw, width: hw, seed: 1 });
    ds.classes = classes;
    const spec = defaultSpec(hw, hw, classes);
    const res = await trainAnn(ds, { spec, epochs: 2, batchSize: 32, seed: 1 });
    put(`train_samples_per_s_${hw}x${hw}_batch32`, 'samples/s', res.log[1].samplesPerSec, backend);
    const net = convertWeights(res.ann.spec, res.ann.getWeights(), 'qcfs');
    res.ann.dispose();
    const snnBackend = 'typed-array (JS, event-driven)';
    // batch 1 latency
    {
      const r = new SnnRunner(net, 1);
      let slot = r.admit();
      const times: number[] = [];
      let spn = 0, samples = 0;
      for (let i = 0; i < 450; i++) {
        const s = Math.floor(i / T) % ds.n, t = i % T;
        if (t === 0 && i > 0) { spn += r.read(slot).spikesPerNeuron; samples++; r.release(slot); slot = r.admit(); }
        const t0 = process.hrtime.bigint();
        r.step([{ slot, frame: frameOf(ds, s, t) }]);
        const dt = Number(process.hrtime.bigint() - t0) / 1e6;
        if (i >= 50) times.push(dt);
      }
      times.sort((a, b) => a - b);
      put(`snn_step_latency_${hw}x${hw}_batch1_median`, 'ms', times[Math.floor(times.length / 2)], snnBackend);
      put(`snn_spikes_per_neuron_${hw}x${hw}_T${T}`, 'spikes/neuron', spn / samples, snnBackend);
    }
    for (const batch of [8, 32]) {
      const r = new SnnRunner(net, batch);
      const slots = Array.from({ length: batch }, () => r.admit());
      const steps = 60;
      for (let w = 0; w < 5; w++) r.step(slots.map((slot, j) => ({ slot, frame: frameOf(ds, j % ds.n, w % T) })));
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < steps; i++) r.step(slots.map((slot, j) => ({ slot, frame: frameOf(ds, (j * 7) % ds.n, (i + j) % T) })));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      put(`snn_throughput_${hw}x${hw}_batch${batch}`, 'sample-steps/s', (steps * batch) / s, snnBackend);
    }
  }
  process.stdout.write(JSON.stringify(figures) + '\n');
}

main().catch((e) => { process.stderr.write(String(e && (e as Error).stack || e) + '\n'); process.exit(1); });
