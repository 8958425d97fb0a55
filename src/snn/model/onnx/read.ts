/**
 * Reads an ONNX model (protobuf) into a small, plain graph: nodes with their attributes, constant
 * tensors (initializers and Constant nodes) as numbers, and the graph's inputs with their shapes.
 * Decoding is protobufjs with the official onnx.proto (onnx-schema.ts); this file only turns the
 * decoded messages into the few shapes the importer needs.
 */
import * as protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-schema';

/** A constant tensor; `values` holds every element as a number (float32 values are exact in doubles). */
export interface OnnxConstant { name: string; dims: number[]; values: Float64Array }

export type OnnxAttribute = number | number[] | string | OnnxConstant;

export interface OnnxNode {
  /** The node's name, or `<op>#<index>` when the exporter gave none. */
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, OnnxAttribute>;
}

/** One graph input: its dimensions, a number when fixed, the symbolic name when dynamic. */
export interface OnnxInput { name: string; dims: Array<number | string> }

export interface OnnxGraph {
  nodes: OnnxNode[];
  /** Initializers and the outputs of Constant nodes, by tensor name. */
  constants: Map<string, OnnxConstant>;
  /** Graph inputs that are not initializers (the data inputs). */
  inputs: OnnxInput[];
  outputs: string[];
  opset: number;
  producer: string;
}

export class OnnxFormatError extends Error {
  constructor(message: string) { super(`not a readable ONNX model: ${message}`); this.name = 'OnnxFormatError'; }
}

// TensorProto.DataType values (onnx.proto) that a QCFS network's constants use.
const FLOAT = 1, INT32 = 6, INT64 = 7, DOUBLE = 11, FLOAT16 = 10;

let modelType: protobuf.Type | undefined;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto');
  return modelType;
}

// The decoded message as protobufjs's toObject gives it (longs as numbers, bytes as Uint8Array).
interface TensorMsg {
  name?: string; dims?: number[]; data_type?: number; raw_data?: Uint8Array;
  float_data?: number[]; int32_data?: number[]; int64_data?: number[]; double_data?: number[]; data_location?: number;
}
interface AttrMsg { name: string; type?: number; f?: number; i?: number; s?: Uint8Array; t?: TensorMsg; floats?: number[]; ints?: number[] }
interface NodeMsg { name?: string; op_type: string; input?: string[]; output?: string[]; attribute?: AttrMsg[] }
interface DimMsg { dim_value?: number; dim_param?: string }
interface ValueInfoMsg { name: string; type?: { tensor_type?: { shape?: { dim?: DimMsg[] } } } }
interface GraphMsg { node?: NodeMsg[]; initializer?: TensorMsg[]; input?: ValueInfoMsg[]; output?: ValueInfoMsg[] }
interface ModelMsg { graph?: GraphMsg; opset_import?: Array<{ domain?: string; version?: number }>; producer_name?: string; producer_version?: string }

function tensorValues(t: TensorMsg): Float64Array {
  const name = t.name ?? '(unnamed)';
  if (t.data_location === 1) throw new OnnxFormatError(`tensor ${name} keeps its data in an external file: export with the weights inside the .onnx file`);
  const count = (t.dims ?? []).reduce((a, b) => a * b, 1);
  const type = t.data_type ?? 0;
  const raw = t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
  let values: Float64Array;
  if (raw) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const width = type === FLOAT || type === INT32 ? 4 : type === INT64 || type === DOUBLE ? 8 : 0;
    if (width === 0) throw new OnnxFormatError(`tensor ${name} has data type ${type}${type === FLOAT16 ? ' (float16)' : ''}: export in float32`);
    if (raw.length !== count * width) throw new OnnxFormatError(`tensor ${name} holds ${raw.length} bytes for ${count} values of ${width} bytes`);
    values = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const at = i * width;
      values[i] = type === FLOAT ? view.getFloat32(at, true) : type === INT32 ? view.getInt32(at, true)
        : type === DOUBLE ? view.getFloat64(at, true) : Number(view.getBigInt64(at, true));
    }
  } else {
    const list = type === FLOAT ? t.float_data : type === INT32 ? t.int32_data : type === INT64 ? t.int64_data : type === DOUBLE ? t.double_data : undefined;
    if (list === undefined) throw new OnnxFormatError(`tensor ${name} has data type ${type}${type === FLOAT16 ? ' (float16)' : ''}: export in float32`);
    values = Float64Array.from(list);
    if (values.length !== count) throw new OnnxFormatError(`tensor ${name} holds ${values.length} values for dims [${t.dims ?? []}]`);
  }
  return values;
}

function constant(t: TensorMsg, name = t.name ?? ''): OnnxConstant {
  return { name, dims: (t.dims ?? []).map(Number), values: tensorValues(t) };
}

function attribute(a: AttrMsg): OnnxAttribute {
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return Number(a.i ?? 0);
    case 3: return Buffer.from(a.s ?? new Uint8Array()).toString('utf8');
    case 4: return constant(a.t ?? {}, a.name);
    case 6: return (a.floats ?? []).map(Number);
    case 7: return (a.ints ?? []).map(Number);
    default: return [];
  }
}

/** The value a Constant node defines (its `value`, `value_float(s)` or `value_int(s)` attribute). */
function constantNodeValue(n: OnnxNode): OnnxConstant | undefined {
  const out = n.outputs[0];
  const v = n.attrs.get('value');
  if (typeof v === 'object' && !Array.isArray(v)) return { ...v, name: out };
  for (const key of ['value_float', 'value_int', 'value_floats', 'value_ints']) {
    const a = n.attrs.get(key);
    if (typeof a === 'number') return { name: out, dims: [], values: Float64Array.of(a) };
    if (Array.isArray(a)) return { name: out, dims: [a.length], values: Float64Array.from(a) };
  }
  return undefined;
}

/** Decodes ONNX bytes; throws OnnxFormatError when they are not an ONNX model with a graph. */
export function readOnnx(bytes: Uint8Array): OnnxGraph {
  let msg: ModelMsg;
  try {
    const type = modelProto();
    msg = type.toObject(type.decode(bytes), { longs: Number, bytes: Uint8Array, arrays: true }) as ModelMsg;
  } catch (e) {
    throw new OnnxFormatError((e as Error).message);
  }
  const g = msg.graph;
  if (!g || !g.node || g.node.length === 0) throw new OnnxFormatError('the file has no graph (is it an .onnx model?)');
  const constants = new Map<string, OnnxConstant>();
  for (const t of g.initializer ?? []) constants.set(t.name ?? '', constant(t));
  const nodes: OnnxNode[] = [];
  g.node.forEach((n, i) => {
    const node: OnnxNode = {
      name: n.name || `${n.op_type}#${i}`, op: n.op_type, inputs: n.input ?? [], outputs: n.output ?? [],
      attrs: new Map((n.attribute ?? []).map((a) => [a.name, attribute(a)])),
    };
    const c = node.op === 'Constant' ? constantNodeValue(node) : undefined;
    if (c) constants.set(c.name, c);
    else nodes.push(node);
  });
  const inputs = (g.input ?? []).filter((v) => !constants.has(v.name)).map((v) => ({
    name: v.name,
    dims: (v.type?.tensor_type?.shape?.dim ?? []).map((d): number | string => d.dim_param ? d.dim_param : d.dim_value !== undefined ? Number(d.dim_value) : '?'),
  }));
  const opset = (msg.opset_import ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  return {
    nodes, constants, inputs, outputs: (g.output ?? []).map((o) => o.name), opset: Number(opset),
    producer: `${msg.producer_name ?? ''} ${msg.producer_version ?? ''}`.trim(),
  };
}
