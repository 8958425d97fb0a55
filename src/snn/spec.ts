/**
 * Model spec: the JSON that describes a quantized ANN / its SNN.
 *
 * ```json
 * { "input": { "height": 32, "width": 32, "channels": 2, "scale": 1 },
 *   "layers": [ { "type": "conv", "kernel": 3, "channels": 16 }, { "type": "avgpool", "size": 2 },
 *               { "type": "dense", "units": 128 } ],
 *   "bits": 2,
 *   "classes": ["left", "right"] }
 * ```
 * Every `conv` and `dense` layer listed is a hidden layer followed by a QCFS activation (2^bits − 1
 * levels, trainable λ). A full-precision output dense layer with `classes.length` units is appended
 * implicitly. `conv` defaults: stride 1, padding "same". `avgpool` is non-overlapping (stride = size,
 * "valid": trailing rows/columns that do not fill a window are dropped). The first `dense` flattens
 * its input in NHWC order. `input.scale` multiplies input frames (event counts) before layer 1.
 */

export interface ConvLayerSpec { type: 'conv'; kernel: number; channels: number; stride?: number; padding?: 'same' | 'valid' }
export interface AvgPoolLayerSpec { type: 'avgpool'; size: number }
export interface DenseLayerSpec { type: 'dense'; units: number }
export type LayerSpec = ConvLayerSpec | AvgPoolLayerSpec | DenseLayerSpec;

export interface ModelSpec {
  input: { height: number; width: number; channels: 2; scale?: number };
  layers: LayerSpec[];
  /** Activation bits (default 2 → L = 3 quantization levels). */
  bits?: number;
  /** Class names; the output layer has one unit per class. */
  classes: string[];
}

/** A spec with every default filled in. */
export interface ResolvedSpec {
  input: { height: number; width: number; channels: 2; scale: number };
  layers: Array<Required<ConvLayerSpec> | AvgPoolLayerSpec | DenseLayerSpec>;
  bits: number;
  classes: string[];
}

export class SpecError extends Error {
  constructor(message: string) { super(`invalid model spec: ${message}`); this.name = 'SpecError'; }
}

/** Shape [h, w, c] of an activation (dense layers: [1, 1, units]). */
export type Shape3 = [number, number, number];

export interface LayerGeometry {
  index: number;
  layer: ResolvedSpec['layers'][number] | { type: 'output'; units: number };
  inShape: Shape3;
  outShape: Shape3;
  /** conv only: padding before the first row / column (TF "same" convention: the smaller half first). */
  padTop?: number;
  padLeft?: number;
}

function isPosInt(v: unknown, max = 1 << 20): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 && v <= max;
}

/** Validates a parsed JSON spec and fills defaults; throws SpecError naming the offending field. */
export function validateSpec(raw: unknown): ResolvedSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SpecError('expected a JSON object');
  const s = raw as Record<string, unknown>;
  const inp = s.input as Record<string, unknown> | undefined;
  if (typeof inp !== 'object' || inp === null) throw new SpecError('"input" must be an object {height, width, channels: 2}');
  if (!isPosInt(inp.height, 4096)) throw new SpecError(`input.height must be a positive integer ≤ 4096 (got ${JSON.stringify(inp.height)})`);
  if (!isPosInt(inp.width, 4096)) throw new SpecError(`input.width must be a positive integer ≤ 4096 (got ${JSON.stringify(inp.width)})`);
  if (inp.channels !== 2) throw new SpecError(`input.channels must be 2 (OFF, ON polarity) (got ${JSON.stringify(inp.channels)})`);
  const scale = inp.scale ?? 1;
  if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) throw new SpecError('input.scale must be a positive number');
  const bits = s.bits ?? 2;
  if (!isPosInt(bits, 8)) throw new SpecError(`bits must be an integer in [1, 8] (got ${JSON.stringify(bits)})`);
  if (!Array.isArray(s.classes) || s.classes.length < 2) throw new SpecError('"classes" must be an array of at least 2 class names');
  s.classes.forEach((c, i) => { if (typeof c !== 'string' || !c) throw new SpecError(`classes[${i}] must be a non-empty string`); });
  if (new Set(s.classes).size !== s.classes.length) throw new SpecError('class names must be unique');
  if (!Array.isArray(s.layers) || s.layers.length === 0) throw new SpecError('"layers" must be a non-empty array');
  const layers: ResolvedSpec['layers'] = [];
  let h = inp.height as number, w = inp.width as number, c = 2, flat = false;
  s.layers.forEach((l: unknown, i: number) => {
    const at = `layers[${i}]`;
    if (typeof l !== 'object' || l === null) throw new SpecError(`${at} must be an object`);
    const L = l as Record<string, unknown>;
    if (L.type === 'conv') {
      if (flat) throw new SpecError(`${at}: conv after dense is not supported`);
      if (!isPosInt(L.kernel, 15) || L.kernel % 2 === 0) throw new SpecError(`${at}.kernel must be an odd integer in [1, 15] (got ${JSON.stringify(L.kernel)})`);
      if (!isPosInt(L.channels, 4096)) throw new SpecError(`${at}.channels must be a positive integer (got ${JSON.stringify(L.channels)})`);
      const stride = L.stride ?? 1;
      if (!isPosInt(stride, 8)) throw new SpecError(`${at}.stride must be an integer in [1, 8] (got ${JSON.stringify(L.stride)})`);
      const padding = L.padding ?? 'same';
      if (padding !== 'same' && padding !== 'valid') throw new SpecError(`${at}.padding must be "same" or "valid"`);
      const oh = padding === 'same' ? Math.ceil(h / stride) : Math.ceil((h - L.kernel + 1) / stride);
      const ow = padding === 'same' ? Math.ceil(w / stride) : Math.ceil((w - L.kernel + 1) / stride);
      if (oh < 1 || ow < 1) throw new SpecError(`${at}: kernel ${L.kernel} does not fit the ${h}×${w} input`);
      h = oh; w = ow; c = L.channels;
      layers.push({ type: 'conv', kernel: L.kernel, channels: L.channels, stride, padding });
    } else if (L.type === 'avgpool') {
      if (flat) throw new SpecError(`${at}: avgpool after dense is not supported`);
      if (!isPosInt(L.size, 64)) throw new SpecError(`${at}.size must be a positive integer (got ${JSON.stringify(L.size)})`);
      if (L.size > h || L.size > w) throw new SpecError(`${at}: pool size ${L.size} exceeds the ${h}×${w} input`);
      h = Math.floor(h / L.size); w = Math.floor(w / L.size);
      layers.push({ type: 'avgpool', size: L.size });
    } else if (L.type === 'dense') {
      if (!isPosInt(L.units, 1 << 16)) throw new SpecError(`${at}.units must be a positive integer (got ${JSON.stringify(L.units)})`);
      flat = true; h = 1; w = 1; c = L.units;
      layers.push({ type: 'dense', units: L.units });
    } else {
      throw new SpecError(`${at}.type must be "conv", "avgpool" or "dense" (got ${JSON.stringify(L.type)})`);
    }
  });
  void c;
  if (!layers.some((l) => l.type !== 'avgpool')) throw new SpecError('at least one conv or dense layer is needed');
  return { input: { height: inp.height as number, width: inp.width as number, channels: 2, scale }, layers, bits, classes: [...(s.classes as string[])] };
}

/** Per-layer shapes, including the implicit output layer (last entry). */
export function layerGeometry(spec: ResolvedSpec): LayerGeometry[] {
  const out: LayerGeometry[] = [];
  let shape: Shape3 = [spec.input.height, spec.input.width, 2];
  spec.layers.forEach((layer, index) => {
    const [h, w, c] = shape;
    if (layer.type === 'conv') {
      const k = layer.kernel, s = layer.stride;
      let oh: number, ow: number, padTop = 0, padLeft = 0;
      if (layer.padding === 'same') {
        oh = Math.ceil(h / s); ow = Math.ceil(w / s);
        padTop = Math.floor(Math.max(0, (oh - 1) * s + k - h) / 2);
        padLeft = Math.floor(Math.max(0, (ow - 1) * s + k - w) / 2);
      } else {
        oh = Math.ceil((h - k + 1) / s); ow = Math.ceil((w - k + 1) / s);
      }
      out.push({ index, layer, inShape: shape, outShape: [oh, ow, layer.channels], padTop, padLeft });
      shape = [oh, ow, layer.channels];
    } else if (layer.type === 'avgpool') {
      const o: Shape3 = [Math.floor(h / layer.size), Math.floor(w / layer.size), c];
      out.push({ index, layer, inShape: shape, outShape: o });
      shape = o;
    } else {
      const o: Shape3 = [1, 1, layer.units];
      out.push({ index, layer, inShape: shape, outShape: o });
      shape = o;
    }
  });
  out.push({ index: spec.layers.length, layer: { type: 'output', units: spec.classes.length }, inShape: shape, outShape: [1, 1, spec.classes.length] });
  return out;
}

/** Number of quantization levels L = 2^bits − 1. */
export function levels(spec: { bits?: number }): number {
  return 2 ** (spec.bits ?? 2) - 1;
}

/**
 * Default spec for DVS input (32×32 or 64×64 after downsampling):
 * conv3×3·16 → pool2 → conv3×3·32 → pool2 → conv3×3·64 → pool2 → dense 128 → output.
 * From 64 px on, the first conv has stride 2 so the cost stays near the 32×32 network's.
 */
export function defaultSpec(height: number, width: number, classes: string[]): ResolvedSpec {
  const big = Math.min(height, width) >= 64;
  return validateSpec({
    input: { height, width, channels: 2 },
    layers: [
      { type: 'conv', kernel: 3, channels: 16, stride: big ? 2 : 1 },
      { type: 'avgpool', size: 2 },
      { type: 'conv', kernel: 3, channels: 32 },
      { type: 'avgpool', size: 2 },
      { type: 'conv', kernel: 3, channels: 64 },
      { type: 'avgpool', size: 2 },
      { type: 'dense', units: 128 },
    ],
    bits: 2,
    classes,
  });
}
