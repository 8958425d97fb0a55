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
 * Every `conv` and `dense` layer listed is a hidden layer followed by a QCFS activation
 * a = (λ/L)·clip(floor(x·L/λ + φ), 0, L) with trainable λ per layer, L = `levels` quantization levels
 * (default 2^bits − 1) and shift φ = `shift` (default ½; 0 for a plain floor). A full-precision output
 * dense layer with `classes.length` units is appended implicitly. `conv` defaults: stride 1, padding
 * "same" (TF's convention: the smaller half first); explicit `{top, left, bottom, right}` padding is
 * what an imported PyTorch model carries. `avgpool` is non-overlapping (stride = size,
 * "valid": trailing rows/columns that do not fill a window are dropped). The first `dense` flattens
 * its input in NHWC order. `input.scale` multiplies input frames (event counts) before layer 1.
 */

/** Zero padding in pixels on each side (PyTorch's `padding=p` is p on every side). */
export interface ConvPadding { top: number; left: number; bottom: number; right: number }
export interface ConvLayerSpec { type: 'conv'; kernel: number; channels: number; stride?: number; padding?: 'same' | 'valid' | ConvPadding }
export interface AvgPoolLayerSpec { type: 'avgpool'; size: number }
export interface DenseLayerSpec { type: 'dense'; units: number }
export type LayerSpec = ConvLayerSpec | AvgPoolLayerSpec | DenseLayerSpec;

export interface ModelSpec {
  input: { height: number; width: number; channels: 2; scale?: number };
  layers: LayerSpec[];
  /** Activation bits (default 2 → L = 3 quantization levels). */
  bits?: number;
  /** Quantization levels L of every QCFS activation (any integer ≥ 1); overrides `bits`. */
  levels?: number;
  /** The QCFS shift φ in [0, 1): ½ (default) rounds to the nearest level, 0 floors. */
  shift?: number;
  /** Class names; the output layer has one unit per class. */
  classes: string[];
}

/** A spec with every default filled in. */
export interface ResolvedSpec {
  input: { height: number; width: number; channels: 2; scale: number };
  layers: Array<Required<ConvLayerSpec> | AvgPoolLayerSpec | DenseLayerSpec>;
  /** Bits that hold L levels (⌈log2(L + 1)⌉; exactly `bits` when L = 2^bits − 1). */
  bits: number;
  levels: number;
  shift: number;
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
  const quant = resolveQuantization(s);
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
      const conv = resolveConv(L, at, h, w);
      h = conv.outH; w = conv.outW; c = conv.layer.channels;
      layers.push(conv.layer);
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
  return { input: { height: inp.height as number, width: inp.width as number, channels: 2, scale }, layers, ...quant, classes: [...(s.classes as string[])] };
}

function resolveQuantization(s: Record<string, unknown>): { bits: number; levels: number; shift: number } {
  const shift = s.shift ?? 0.5;
  if (typeof shift !== 'number' || !(shift >= 0 && shift < 1)) throw new SpecError(`shift must be a number in [0, 1) (got ${JSON.stringify(s.shift)})`);
  if (s.levels !== undefined) {
    if (!isPosInt(s.levels, 1023)) throw new SpecError(`levels must be an integer in [1, 1023] (got ${JSON.stringify(s.levels)})`);
    return { bits: Math.ceil(Math.log2(s.levels + 1)), levels: s.levels, shift };
  }
  const bits = s.bits ?? 2;
  if (!isPosInt(bits, 8)) throw new SpecError(`bits must be an integer in [1, 8] (got ${JSON.stringify(bits)})`);
  return { bits, levels: 2 ** bits - 1, shift };
}

function isPadding(p: unknown): p is ConvPadding {
  if (typeof p !== 'object' || p === null) return false;
  const o = p as Record<string, unknown>;
  return (['top', 'left', 'bottom', 'right'] as const).every((k) => Number.isInteger(o[k]) && (o[k] as number) >= 0 && (o[k] as number) <= 64);
}

/** Output size of a conv along one axis (padding: before + after). */
function convOut(size: number, k: number, stride: number, padding: 'same' | 'valid' | ConvPadding, axis: 'h' | 'w'): number {
  if (padding === 'same') return Math.ceil(size / stride);
  if (padding === 'valid') return Math.ceil((size - k + 1) / stride);
  const pad = axis === 'h' ? padding.top + padding.bottom : padding.left + padding.right;
  return Math.floor((size + pad - k) / stride) + 1;
}

function resolveConv(L: Record<string, unknown>, at: string, h: number, w: number): { layer: Required<ConvLayerSpec>; outH: number; outW: number } {
  const padding = L.padding ?? 'same';
  if (padding !== 'same' && padding !== 'valid' && !isPadding(padding))
    throw new SpecError(`${at}.padding must be "same", "valid" or {top, left, bottom, right} (integers in [0, 64]) (got ${JSON.stringify(L.padding)})`);
  const explicit = typeof padding === 'object';
  // 'same' centres the kernel, which needs an odd size; explicit padding takes any size.
  if (!isPosInt(L.kernel, 15) || (!explicit && L.kernel % 2 === 0))
    throw new SpecError(`${at}.kernel must be ${explicit ? 'an' : 'an odd'} integer in [1, 15] (got ${JSON.stringify(L.kernel)})`);
  if (!isPosInt(L.channels, 4096)) throw new SpecError(`${at}.channels must be a positive integer (got ${JSON.stringify(L.channels)})`);
  const stride = L.stride ?? 1;
  if (!isPosInt(stride, 8)) throw new SpecError(`${at}.stride must be an integer in [1, 8] (got ${JSON.stringify(L.stride)})`);
  const outH = convOut(h, L.kernel, stride, padding, 'h'), outW = convOut(w, L.kernel, stride, padding, 'w');
  if (outH < 1 || outW < 1) throw new SpecError(`${at}: kernel ${L.kernel} does not fit the ${h}×${w} input`);
  const pad = explicit ? { top: padding.top, left: padding.left, bottom: padding.bottom, right: padding.right } : padding;
  return { layer: { type: 'conv', kernel: L.kernel, channels: L.channels, stride, padding: pad }, outH, outW };
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
      oh = convOut(h, k, s, layer.padding, 'h'); ow = convOut(w, k, s, layer.padding, 'w');
      if (layer.padding === 'same') {
        padTop = Math.floor(Math.max(0, (oh - 1) * s + k - h) / 2);
        padLeft = Math.floor(Math.max(0, (ow - 1) * s + k - w) / 2);
      } else if (layer.padding !== 'valid') {
        padTop = layer.padding.top; padLeft = layer.padding.left;
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

/** Number of quantization levels L: `levels` when given, else 2^bits − 1. */
export function levels(spec: { bits?: number; levels?: number }): number {
  return spec.levels ?? 2 ** (spec.bits ?? 2) - 1;
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
