/**
 * The input each live decision was made on, as PyTorch takes it: for every labelled, confident decision
 * of `spikestream start --json` (NDJSON), the mean of the `steps` frames binned from its sample's start,
 * N×2×H×W float32 — so the imported network's own PyTorch/ONNX export can be scored on the same windows
 * the live stream answered on (scripts/make-onnx-fixtures.py --score-windows).
 *
 *   node dist/scripts/decision-windows.js DECISIONS.ndjson RECORDING MODEL_DIR OUT.f32
 *   → OUT.f32 and OUT.json ({ n, shape, labels, predicted }: the true labels and the SNN's answers)
 */
import * as fs from 'fs';
import { binEvents } from '../streams/core/binner';
import type { EventBatch } from '../src/events/event-batch';
import { eventFileGeometry, readEventFile } from 'aedat-parser-ts/node';
import { loadModel } from '../src/snn/model/model-file';

interface DecisionLine { type: string; confident?: boolean; trueLabel?: number; label: number; steps: number; sampleStartUs: number }

async function main(): Promise<void> {
  const [decisionsFile, recording, modelDir, out] = process.argv.slice(2);
  if (!out) throw new Error('usage: decision-windows DECISIONS.ndjson RECORDING MODEL_DIR OUT.f32');
  const binning = loadModel(modelDir).meta.binning!;
  const geometry = (await eventFileGeometry(recording))!;
  const batches: EventBatch[] = [];
  for await (const b of readEventFile(recording)) batches.push(b);
  const answers = fs.readFileSync(decisionsFile, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as DecisionLine)
    .filter((d) => d.type === 'decision' && d.confident && d.trueLabel !== undefined);
  const H = Math.ceil(geometry.height / (binning.downsample ?? 1)), W = Math.ceil(geometry.width / (binning.downsample ?? 1));
  const inputs: Float32Array[] = [];
  for (const d of answers) {
    const frames = binEvents(batches, { geometry, tStart: d.sampleStartUs, binUs: binning.binUs, downsample: binning.downsample, maxSteps: d.steps });
    const chw = new Float32Array(2 * H * W);
    for (const f of frames) for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 2; c++) chw[(c * H + y) * W + x] += f.data[(y * W + x) * 2 + c];
    for (let i = 0; i < chw.length; i++) chw[i] = Math.fround(chw[i] / frames.length);
    if (frames.length !== d.steps) throw new Error(`decision at ${d.sampleStartUs} µs: ${frames.length} frames for ${d.steps} steps`);
    inputs.push(chw);
  }
  const all = new Float32Array(inputs.reduce((a, x) => a + x.length, 0));
  inputs.forEach((x, i) => all.set(x, i * x.length));
  fs.writeFileSync(out, new Uint8Array(all.buffer));
  fs.writeFileSync(out.replace(/\.f32$/, '') + '.json', JSON.stringify({ n: answers.length, shape: [2, H, W], labels: answers.map((d) => d.trueLabel), predicted: answers.map((d) => d.label) }) + '\n');
  console.log(`${answers.length} labelled answers → ${out}`);
}

main().catch((e: Error) => { console.error(e.message); process.exit(1); });
