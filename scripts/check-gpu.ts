/**
 * GPU check: `node .build/snn/scripts/check-gpu.js` (or `npm run check:gpu`).
 * Where @tensorflow/tfjs-node-gpu loads: prints the device and times one training step (default
 * spec, 32×32, batch 32) and one SNN step through TF.js ops. Where it does not load: says why and
 * exits 0.
 */
import * as tf from '@tensorflow/tfjs';

async function main(): Promise<void> {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('@tensorflow/tfjs-node-gpu');
  } catch (e) {
    const msg = String(e instanceof Error ? e.message : e).split('\n')[0];
    process.stdout.write(`check-gpu: @tensorflow/tfjs-node-gpu is not loadable here (${msg}).\n` +
      'check-gpu: it is an optional dependency whose install downloads libtensorflow (CUDA); nothing to check — OK.\n');
    return;
  }
  const { initBackend } = await import('../src/snn/backend');
  const backend = await initBackend('tensorflow');
  const { defaultSpec } = await import('../src/snn/spec');
  const { makeToyBars } = await import('../src/snn/toy');
  const { trainAnn } = await import('../src/snn/train');
  const { QuantizedAnn } = await import('../src/snn/ann');
  const gpus = (tf.backend() as unknown as { binding?: { isUsingGpuDevice?: () => boolean } }).binding?.isUsingGpuDevice?.();
  process.stdout.write(`check-gpu: backend ${backend}; GPU device in use: ${gpus === undefined ? 'unknown' : gpus}\n`);
  const ds = makeToyBars({ n: 64, T: 8, height: 32, width: 32, seed: 1 });
  const spec = defaultSpec(32, 32, ds.classes!);
  await trainAnn(ds, { spec, epochs: 1, batchSize: 32, seed: 1 }); // warm-up
  const t0 = Date.now();
  const r = await trainAnn(ds, { spec, epochs: 1, batchSize: 32, seed: 1 });
  process.stdout.write(`check-gpu: one training step (batch 32, 32×32) ≈ ${((Date.now() - t0) / 2).toFixed(1)} ms (2 steps + init)\n`);
  r.ann.dispose();
  // One SNN layer step via TF.js (conv + threshold) at batch 1 — how the native backend would run the SNN.
  const ann = QuantizedAnn.create(spec, 1);
  const x = tf.randomUniform([1, 32, 32, 2]);
  ann.forward(x as tf.Tensor4D).dispose();
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) tf.tidy(() => ann.forward(x as tf.Tensor4D).dataSync());
  process.stdout.write(`check-gpu: one network evaluation (≈ one SNN step's tensor work, batch 1) ${(Number(process.hrtime.bigint() - t1) / 20e6).toFixed(2)} ms\n`);
}

main().catch((e) => { process.stderr.write(`check-gpu: failed: ${e instanceof Error ? e.message : e}\n`); process.exit(1); });
