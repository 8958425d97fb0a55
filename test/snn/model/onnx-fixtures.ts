/**
 * The PyTorch fixtures (test/fixtures/onnx, made by scripts/make-onnx-fixtures.py): ONNX files, the
 * fixed inputs (uint16 sums of the first k frames, N×C×H×W) and PyTorch's logits on them.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { ONNX_PROTO } from '../../../src/snn/model/onnx/onnx-schema';
import { repoRoot } from '../../helpers/paths';

export const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'onnx');

export interface FixtureModel { name: string; onnx: string; logits: string; levels: number; shift: number; testAccuracy: number; bundledAccuracy?: number }
export interface FixtureManifest {
  torch: string;
  inputs: { file: string; n: number; shape: [number, number, number]; k: number[]; labels: number[] };
  classes: string[];
  models: FixtureModel[];
}

export function manifest(): FixtureManifest {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, 'manifest.json'), 'utf8')) as FixtureManifest;
}

/** The inputs as PyTorch took them: float32(sum) / k, N×C×H×W. */
export function fixtureInputs(m: FixtureManifest): Float32Array {
  const raw = fs.readFileSync(path.join(FIXTURES, m.inputs.file));
  const sums = new Uint16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  const size = m.inputs.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(sums.length);
  for (let i = 0; i < sums.length; i++) out[i] = sums[i] / m.inputs.k[Math.floor(i / size)];
  return out;
}

export function fixtureLogits(model: FixtureModel): Float32Array {
  const raw = fs.readFileSync(path.join(FIXTURES, model.logits));
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

export function argmaxRows(values: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < values.length / cols; r++) {
    let best = 0;
    for (let c = 1; c < cols; c++) if (values[r * cols + c] > values[r * cols + best]) best = c;
    out.push(best);
  }
  return out;
}

// Editing a real export (decode, change, encode with protobufjs and the official schema) gives the
// refusal tests graphs as PyTorch writes them, with one construct changed.
const modelType = protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');

export interface EditableNode { name: string; op_type: string; input: string[]; output: string[]; attribute?: Array<Record<string, unknown>> }
export interface EditableModel { graph: { node: EditableNode[]; input: Array<{ name: string; type: { tensor_type: { shape: { dim: Array<Record<string, unknown>> } } } }>; initializer: Array<Record<string, unknown>>; output: Array<{ name: string }> } }

export function editFixture(file: string, edit: (m: EditableModel) => void): Uint8Array {
  const obj = modelType.toObject(modelType.decode(fs.readFileSync(path.join(FIXTURES, file))), { arrays: true }) as EditableModel;
  edit(obj);
  return modelType.encode(modelType.fromObject(obj)).finish();
}
