/**
 * bench:snn's ONNX anchor: our protobuf encoder's bytes, and the SNN step graph read back with a
 * small independent wire-format reader (ops in order, initializers with the right sizes, the
 * membranes as inputs and outputs). Running it needs onnxruntime-node, which stays out of the root
 * package; bench:snn checks the graph's O_T against our runner on every run (onnx_agreement_*).
 */
import { expect } from 'chai';
import * as path from 'path';
import { bytes, float, int } from '../../bench/onnx/protobuf';
import { snnStepGraph } from '../../bench/onnx/snn-graph';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { repoRoot } from '../helpers/paths';

interface Wire { field: number; wire: number; value: bigint | Uint8Array }

/** Decodes one message's fields (varint, fixed32, length-delimited). */
function fields(b: Uint8Array): Wire[] {
  const out: Wire[] = [];
  let i = 0;
  const varint = (): bigint => {
    let v = 0n, shift = 0n;
    for (;;) {
      const c = b[i++];
      v |= BigInt(c & 0x7f) << shift;
      shift += 7n;
      if (!(c & 0x80)) return v;
    }
  };
  while (i < b.length) {
    const key = Number(varint()), field = key >> 3, wire = key & 7;
    if (wire === 0) out.push({ field, wire, value: varint() });
    else if (wire === 5) { out.push({ field, wire, value: b.subarray(i, i + 4) }); i += 4; }
    else if (wire === 2) { const n = Number(varint()); out.push({ field, wire, value: b.subarray(i, i + n) }); i += n; }
    else throw new Error(`wire type ${wire}`);
  }
  expect(i).to.equal(b.length);
  return out;
}
const sub = (w: Wire[], f: number) => w.filter((x) => x.field === f).map((x) => x.value as Uint8Array);
const text = (u: Uint8Array) => new TextDecoder().decode(u);

describe('bench/onnx: the ONNX graph of an SNN step', () => {
  it('encodes protobuf fields as the wire format says', () => {
    expect(Array.from(int(1, 150))).to.deep.equal([0x08, 0x96, 0x01]);
    expect(Array.from(int(3, -1))).to.have.length(11); // int64 −1: ten varint bytes after the key
    expect(Array.from(float(2, 1))).to.deep.equal([0x15, 0, 0, 0x80, 0x3f]);
    expect(Array.from(bytes(2, 'ab'))).to.deep.equal([0x12, 2, 0x61, 0x62]);
    expect(Array.from(bytes(7, [int(1, 1)]))).to.deep.equal([0x3a, 2, 0x08, 1]);
  });

  it('writes the bundled model as opset-13 ops with its weights, membranes in and out', () => {
    const net = loadClassifierModel(path.join(repoRoot, 'models', 'gesture')).net;
    const g = snnStepGraph(net);
    const model = fields(g.bytes);
    expect(Number(model.find((f) => f.field === 1)!.value)).to.equal(8); // IR version
    const opset = fields(sub(model, 8)[0]);
    expect(Number(opset.find((f) => f.field === 2)!.value)).to.equal(13);
    const graph = fields(sub(model, 7)[0]);
    const ops = sub(graph, 1).map((n) => text(sub(fields(n), 4)[0]));
    const per = ['Add', 'GreaterOrEqual', 'Cast', 'Mul', 'Sub'];
    expect(ops).to.deep.equal([
      'Transpose', 'Mul',
      'Conv', ...per, 'AveragePool', 'Conv', ...per, 'AveragePool', 'Conv', ...per, 'AveragePool',
      'Transpose', 'Flatten', 'MatMul', 'Add', ...per,
      'MatMul', 'Add', 'Add',
    ]);
    const inits = sub(graph, 5).map(fields);
    const w0 = inits.find((t) => text(sub(t, 8)[0]) === 'w0')!;
    expect(w0.filter((f) => f.field === 1).map((f) => Number(f.value))).to.deep.equal([16, 2, 3, 3]);
    expect(sub(w0, 9)[0].length).to.equal(16 * 2 * 9 * 4);
    const names = (f: number) => sub(graph, f).map((v) => text(sub(fields(v), 1)[0]));
    expect(names(11)).to.deep.equal(['x', 'v0', 'v1', 'v2', 'v3', 'o']);
    expect(names(12)).to.deep.equal(['v0_next', 'v1_next', 'v2_next', 'v3_next', 'o_next']);
    expect(g.stateShapes).to.deep.equal([[16, 32, 32], [32, 16, 16], [64, 8, 8], [128]]);
  });

  it('refuses QFFS networks (the anchor is the QCFS step)', () => {
    const net = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'), { mode: 'qffs' }).net;
    expect(() => snnStepGraph(net)).to.throw(/QCFS/);
  });
});
