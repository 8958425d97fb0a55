/**
 * GPU check: `npm run check:gpu`.
 * Where @tensorflow/tfjs-node-gpu loads: prints the device, times one training step (default spec,
 * 32×32, batch 32) and times the tensor runner (the SNN step as batched TF.js ops, `--runner
 * tensor`) on the bundled model and the bundled recording's frames at batch 1, 32 and 256 beside
 * the event-driven SnnRunner on the CPU, checks that both agree (O_T within 1e-4) and that the
 * tensor runner leaks no tensor. Ends with one JSON line. Where it does not load: says why, exits 0.
 * `--backend wasm|cpu` runs the same timings on that TF.js backend instead (a dry run where there is no GPU).
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';

const ROOT = path.resolve(__dirname, '..', '..');

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--backend');
  const dryRun = at >= 0 ? process.argv[at + 1] : undefined;
  if (!dryRun) try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node-gpu');
  } catch (e) {
    const msg = String(e instanceof Error ? e.message : e).split('\n')[0];
    process.stdout.write(`check-gpu: @tensorflow/tfjs-node-gpu is not loadable here (${msg}).\n` +
      'check-gpu: it is an optional dependency whose install downloads libtensorflow (CUDA); the tensor runner is not timed on a GPU here — OK.\n');
    process.stdout.write(JSON.stringify({ bench: 'gpu', figures: [], skipped: msg }) + '\n');
    return;
  }
  const { initBackend } = await import('../src/snn/backend');
  const backend = await initBackend(dryRun ?? 'tensorflow');
  const { defaultSpec } = await import('../src/snn/spec');
  const { makeToyBars } = await import('../src/snn/toy');
  const { trainAnn } = await import('../src/snn/train');
  const { SnnRunner } = await import('../src/snn/runner');
  const { TensorRunner } = await import('../src/snn/tensor-runner');
  const { compareRunners } = await import('../src/snn/step-runner');
  const { frameOf } = await import('../src/snn/dataset');
  const { loadClassifierModel } = await import('../src/snn/model/classifier-model');
  const { openDataset } = await import('../streams/sources/open-dataset');
  const { collectFrameDataset } = await import('../streams/sinks/to-frame-dataset');
  const gpus = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding?.isUsingGpuDevice?.();
  process.stdout.write(`check-gpu: backend ${backend}; GPU device in use: ${gpus === undefined ? 'unknown' : gpus}\n`);
  const figures: { name: string; unit: string; value: number; backend: string }[] = [];
  const put = (name: string, unit: string, value: number, be: string) => {
    figures.push({ name, unit, value: Number(value.toPrecision(4)), backend: be });
    process.stdout.write(`check-gpu: ${name}: ${Number(value.toPrecision(4))} ${unit} [${be}]\n`);
  };

  const ds = makeToyBars({ n: 64, T: 8, height: 32, width: 32, seed: 1 });
  const spec = defaultSpec(32, 32, ds.classes!);
  (await trainAnn(ds, { spec, epochs: 1, batchSize: 32, seed: 1 })).ann.dispose(); // warm-up
  const t0 = Date.now();
  const r = await trainAnn(ds, { spec, epochs: 1, batchSize: 32, seed: 1 });
  put('train_step_32x32_batch32', 'ms (2 steps + init, halved)', (Date.now() - t0) / 2, backend);
  r.ann.dispose();

  const model = loadClassifierModel(path.join(ROOT, 'models', 'gesture'));
  const frames = await collectFrameDataset(await openDataset(path.join(ROOT, 'recordings', 'gestures'), { split: 'all' }), { binUs: model.binUs, T: model.maxSteps, downsample: model.downsample });
  const frame = (b: number, k: number) => frameOf(frames, (b * 7 + Math.floor(k / frames.T)) % frames.n, (k + b) % frames.T);
  const before = tf.memory().numTensors;
  for (const [name, make] of [['tensor runner', (n: number) => new TensorRunner(model.net, n)], ['SnnRunner (CPU)', (n: number) => new SnnRunner(model.net, n)]] as const) {
    const be = name === 'tensor runner' ? `TensorRunner on ${backend}` : 'SnnRunner (WebAssembly SIMD, CPU)';
    // A dry run on wasm/cpu stops at batch 32 (a batch-256 tensor step takes seconds there).
    for (const batch of dryRun ? [1, 32] : [1, 32, 256]) {
      const runner = make(batch);
      const slots = Array.from({ length: batch }, () => runner.admit());
      const step = (k: number) => runner.step(slots.map((slot, b) => ({ slot, frame: frame(b, k) })));
      const warm = dryRun ? 5 : 30, timed = dryRun ? 20 : batch === 1 ? 300 : 40;
      for (let k = 0; k < warm; k++) step(k);
      const times: number[] = [];
      for (let k = 0; k < timed; k++) {
        const s = process.hrtime.bigint();
        step(k);
        times.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      const ms = medianOf(times);
      if (batch === 1) put(`snn_step_latency_bundled_batch1_median`, 'ms', ms, be);
      else put(`snn_throughput_bundled_batch${batch}`, 'sample-steps/s', (1000 * batch) / ms, be);
      if (runner instanceof TensorRunner) runner.dispose();
    }
  }
  // Agreement and leaks: every bundled sample, T steps, both runners.
  const tensor = new TensorRunner(model.net, frames.n);
  const { worst } = compareRunners(new SnnRunner(model.net, frames.n), tensor, frames);
  tensor.dispose();
  put('tensor_vs_typed_max_relative_dO', 'relative', worst, backend);
  const leaked = tf.memory().numTensors - before;
  process.stdout.write(`check-gpu: tensor runner vs SnnRunner: O_t within ${worst.toExponential(2)} (bound 1e-4) ${worst < 1e-4 ? 'OK' : 'FAILED'}; tensors left behind: ${leaked} ${leaked === 0 ? 'OK' : 'FAILED'}\n`);
  process.stdout.write(JSON.stringify({ bench: 'gpu', figures }) + '\n');
  if (worst >= 1e-4 || leaked !== 0) process.exitCode = 1;
}

main().catch((e) => { process.stderr.write(`check-gpu: failed: ${e instanceof Error ? e.message : e}\n`); process.exit(1); });
