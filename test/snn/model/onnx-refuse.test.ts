import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { importOnnx } from '../../../src/snn/model/onnx/import';
import { OnnxImportError } from '../../../src/snn/model/onnx/refuse';
import { runSpikestream } from '../../helpers/cli';
import { makeTempDir } from '../../helpers/paths';
import { editFixture, FIXTURES, manifest, type EditableModel, type EditableNode } from './onnx-fixtures';

const m = manifest();
const WITH_BN = m.models.find((x) => x.name.includes('bn'))!.onnx;
const NO_BN = m.models.find((x) => x.shift === 0)!.onnx;

const byOp = (g: EditableModel, op: string): EditableNode => g.graph.node.find((n) => n.op_type === op)!;
const consumerOf = (g: EditableModel, tensor: string): EditableNode => g.graph.node.find((n) => n.input.includes(tensor))!;

/** The first conv's QCFS chain replaced by `op` (conv → op → what the activation fed). */
function activationReplacedBy(op: string) {
  return (g: EditableModel) => {
    const conv = byOp(g, 'Conv');
    const chain: EditableNode[] = [];
    for (let n = consumerOf(g, conv.output[0]); ['Div', 'Mul', 'Add', 'Floor', 'Clip'].includes(n.op_type); n = consumerOf(g, n.output[0])) chain.push(n);
    const last = chain[chain.length - 1];
    g.graph.node = g.graph.node.filter((n) => !chain.includes(n));
    g.graph.node.splice(g.graph.node.indexOf(conv) + 1, 0, { name: `my_${op}`, op_type: op, input: [conv.output[0]], output: [last.output[0]] });
  };
}

/** Every refusal: the error, and the one line and exit code of `spikestream import`. */
const CASES: Array<{ what: string; file: string; edit: (g: EditableModel) => void; message: RegExp }> = [
  {
    what: 'MaxPool', file: NO_BN,
    edit: (g) => { byOp(g, 'AveragePool').op_type = 'MaxPool'; },
    message: /^cannot import node "[^"]+" \(MaxPool\): max pooling .* — replace nn\.MaxPool2d with nn\.AvgPool2d$/,
  },
  {
    what: 'a residual Add (a tensor feeding two nodes)', file: NO_BN,
    edit: (g) => {
      const conv = g.graph.node.filter((n) => n.op_type === 'Conv')[1];
      const pool = byOp(g, 'AveragePool');
      // skip: the pooled input of conv #2 is added to conv #2's output
      const add: EditableNode = { name: 'skip_add', op_type: 'Add', input: [conv.output[0], pool.output[0]], output: ['skip_out'] };
      consumerOf(g, conv.output[0]).input[0] = 'skip_out';
      g.graph.node.splice(g.graph.node.indexOf(conv) + 1, 0, add);
    },
    message: /^cannot import node "[^"]+" \((Add|Conv)\): tensor "[^"]+" feeds 2 nodes .*residual connection — .*remove the skip connection$/,
  },
  {
    what: 'another activation (ReLU)', file: NO_BN, edit: activationReplacedBy('Relu'),
    message: /^cannot import node "my_Relu" \(Relu\): ReLU is not a quantized \(QCFS\) activation.* — use the QCFS activation module/,
  },
  {
    what: 'another activation (Sigmoid)', file: WITH_BN, edit: activationReplacedBy('Sigmoid'),
    message: /^cannot import node "my_Sigmoid" \(Sigmoid\): .* — use the QCFS activation module/,
  },
  {
    what: 'a dynamic input size', file: NO_BN,
    edit: (g) => { g.graph.input[0].type.tensor_type.shape.dim[2] = { dim_param: 'height' }; },
    message: /^cannot import node "events" \(graph input\): dimension 2 is dynamic \("height"\) — export with a fixed input size/,
  },
  {
    what: 'a final softmax', file: WITH_BN,
    edit: (g) => {
      const out = g.graph.output[0].name;
      g.graph.node.push({ name: 'probs', op_type: 'Softmax', input: [out], output: ['probabilities'] });
      g.graph.output[0].name = 'probabilities';
    },
    message: /^cannot import node "probs" \(Softmax\): the output must be the logits — export the network without its final softmax$/,
  },
  {
    what: 'a quantizer whose λ before and after the floor differ (not QCFS)', file: NO_BN,
    edit: (g) => {
      const conv = byOp(g, 'Conv');
      const div = consumerOf(g, conv.output[0]);
      g.graph.initializer.push({ name: 'other_lambda', dims: [1], data_type: 1, float_data: [123.0] });
      div.input[1] = 'other_lambda';
    },
    message: /^cannot import node "[^"]+" \(Mul\): the input is scaled by .* before the floor, but L\/λ = .*the SNN threshold θ = λ would not reproduce it .* — use the QCFS module/,
  },
  {
    what: 'layers with different L (a valid QCFS with L = 8 after one with L = 4)', file: WITH_BN,
    edit: (g) => {
      const conv = g.graph.node.filter((n) => n.op_type === 'Conv')[1];
      const div = consumerOf(g, conv.output[0]), mul = consumerOf(g, div.output[0]);
      const floor = consumerOf(g, consumerOf(g, mul.output[0]).output[0]), divL = consumerOf(g, floor.output[0]);
      g.graph.initializer.push({ name: 'eight', dims: [], data_type: 1, float_data: [8] });
      mul.input[1] = 'eight';
      divL.input[1] = 'eight';
    },
    message: /^cannot import node "[^"]+" \(Div\): this activation has L = 8, shift 0\.5; the first has L = 4, shift 0\.5 — use one L and one shift for every QCFS layer/,
  },
  {
    what: 'a conv followed by a conv with no activation', file: NO_BN, edit: activationReplacedBy('Identity'),
    message: /^cannot import node "[^"]+" \(AveragePool\): it follows Conv node "[^"]+" with no QCFS activation between them — put a QCFS activation after every hidden Conv/,
  },
];

/** Tiny networks exported by PyTorch itself, each with one refused construct (make-onnx-fixtures.py --refusals). */
const EXPORTS: Array<{ file: string; message: RegExp }> = [
  { file: 'refuse-maxpool.onnx', message: /^cannot import node "\/2\/MaxPool" \(MaxPool\): .* — replace nn\.MaxPool2d with nn\.AvgPool2d$/ },
  { file: 'refuse-relu.onnx', message: /^cannot import node "\/1\/Relu" \(Relu\): ReLU is not a quantized .* — use the QCFS activation module/ },
  { file: 'refuse-residual.onnx', message: /^cannot import node "\/2\/Add" \(Add\): tensor "[^"]+" feeds 2 nodes .*residual connection — .*remove the skip connection$/ },
  { file: 'refuse-view.onnx', message: /^cannot import node "\/3\/Reshape" \(Reshape\): the target shape is computed at run time \(a dynamic shape\) — flatten with nn\.Flatten\(\)/ },
];

describe('ONNX import: refused constructs', () => {
  for (const e of EXPORTS) {
    it(`refuses PyTorch's own export ${e.file}: one line, exit 1`, () => {
      let message = '';
      try { importOnnx(path.join(FIXTURES, e.file)); } catch (err) { expect(err).to.be.instanceOf(OnnxImportError); message = (err as Error).message; }
      expect(message).to.match(e.message);
      const dir = makeTempDir();
      const r = runSpikestream(['import', path.join(FIXTURES, e.file), '--out', path.join(dir, 'model')]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(`spikestream: ${message}\n`);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  for (const c of CASES) {
    it(`refuses ${c.what}: one line naming the node, its op, why and what to change; the CLI exits 1`, () => {
      const bytes = editFixture(c.file, c.edit);
      let err: unknown;
      try { importOnnx(bytes); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(OnnxImportError);
      const msg = (err as Error).message;
      expect(msg).to.match(c.message);
      expect(msg).to.not.include('\n');

      const dir = makeTempDir();
      const file = path.join(dir, 'bad.onnx');
      fs.writeFileSync(file, bytes);
      const r = runSpikestream(['import', file, '--out', path.join(dir, 'model')]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.equal(`spikestream: ${msg}\n`);
      expect(fs.existsSync(path.join(dir, 'model'))).to.equal(false);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  }

  it('the fixtures themselves import (the edits above are what is refused)', () => {
    for (const f of [WITH_BN, NO_BN]) expect(() => importOnnx(path.join(FIXTURES, f))).to.not.throw();
  });
});
