/**
 * TF.js backend selection for the SNN engine and our own wasm kernels.
 *
 * Order (unless overridden by the argument or env SPIKESTREAM_BACKEND):
 *   1. `tensorflow` — native libtensorflow from @tensorflow/tfjs-node-gpu, else @tensorflow/tfjs-node
 *      (both optional; loaded with a guarded require);
 *   2. `wasm` — @tensorflow/tfjs-backend-wasm (SIMD build when the runtime supports it);
 *   3. `cpu` — the pure-JS backend.
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel (training a conv net fails) and a slow
 * `Conv2DBackpropInput`; `registerWasmConvGradKernels()` installs ours, composed of existing wasm ops,
 * and wraps `BatchMatMul` (transposed products, i.e. every matMul gradient, take the fast path) and
 * `AvgPoolGrad` (non-overlapping windows as a nearest-neighbour upsampling).
 */
import * as tf from '@tensorflow/tfjs';
import * as path from 'path';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface InitBackendOptions {
  /** Where the chosen backend is reported (default: one line on stderr, once per process). */
  log?: (message: string) => void;
  /**
   * Loads a native TF.js binding and returns its package name; throws when none is loadable.
   * Injected by tests; the default tries @tensorflow/tfjs-node-gpu then @tensorflow/tfjs-node.
   */
  loadNative?: () => string;
}

let logged = false;
let nativePackage: string | null = null;
let wasmKernelsRegistered = false;

/** Default native loader: guarded dynamic requires (the packages are optional). */
export function loadNativeBinding(): string {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(pkg);
      return pkg;
    } catch (e) {
      errors.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  throw new Error(`no native TensorFlow binding loadable (${errors.join('; ')})`);
}

function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split('\n')[0];
}

function normalise(name: string): BackendName {
  const n = name.trim().toLowerCase();
  if (n === 'tensorflow' || n === 'node' || n === 'tfjs-node' || n === 'gpu') return 'tensorflow';
  if (n === 'wasm' || n === 'cpu') return n;
  throw new Error(`unknown backend "${name}" (expected one of ${BACKEND_ORDER.join(', ')})`);
}

async function tryBackend(name: BackendName, opts: InitBackendOptions): Promise<string> {
  if (name === 'tensorflow') {
    if (!tf.findBackendFactory('tensorflow')) {
      nativePackage = (opts.loadNative ?? loadNativeBinding)();
    }
    if (!tf.findBackendFactory('tensorflow')) throw new Error('native binding loaded but registered no "tensorflow" backend');
    if (!(await tf.setBackend('tensorflow'))) throw new Error('tf.setBackend("tensorflow") failed');
    return `tensorflow (${nativePackage ?? 'native'})`;
  }
  if (name === 'wasm') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    wasm.setWasmPaths(dist + path.sep);
    registerWasmConvGradKernels();
    if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    return `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread)`;
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('tf.setBackend("cpu") failed');
  return 'cpu';
}

/**
 * Selects and initialises the TF.js backend; returns its name ('tensorflow' | 'wasm' | 'cpu').
 * `preferred` (or env SPIKESTREAM_BACKEND) forces one backend and throws if it cannot start;
 * without it, the first that starts in BACKEND_ORDER wins.
 */
export async function initBackend(preferred?: string, opts: InitBackendOptions = {}): Promise<string> {
  const log = opts.log ?? ((m: string) => { if (!logged) { logged = true; process.stderr.write(m + '\n'); } });
  const forced = preferred ?? (process.env.SPIKESTREAM_BACKEND || undefined);
  const candidates = forced ? [normalise(forced)] : BACKEND_ORDER;
  const failures: string[] = [];
  for (const name of candidates) {
    try {
      const desc = await tryBackend(name, opts);
      await tf.ready();
      // One short line: a backend that is simply not installed is named, not explained.
      const why = failures.length ? ` (skipped: ${failures.map((f) => (/Cannot find module/.test(f) ? `${f.split(':')[0]} not installed` : f)).join('; ')})` : '';
      log(`spikestream: TF.js backend ${desc}${forced ? ' [forced]' : ''}${why}`);
      return name;
    } catch (e) {
      failures.push(`${name}: ${firstLine(e)}`);
    }
  }
  throw new Error(`could not start TF.js backend: ${failures.join('; ')}`);
}

// ---------------------------------------------------------------------------------------------
// wasm conv gradient kernels

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

/**
 * Wraps a kernel input as a Tensor so that tf ops can be composed on it. The wrapper shares the
 * input's data, so the backend's reference count is raised first: disposing the wrapper (at the
 * end of the kernel's tidy) must not free the caller's tensor.
 */
function asTensor<R extends tf.Rank>(info: tf.TensorInfo | undefined, backend: tf.KernelBackend): tf.Tensor<R> {
  if (!info) throw new Error('spikestream wasm kernel: missing input');
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info, backend) as tf.Tensor<R>;
}

function checkNHWC(dataFormat: string | undefined): void {
  if (dataFormat && dataFormat !== 'NHWC') throw new Error(`spikestream wasm conv grad kernels support NHWC only (got ${dataFormat})`);
}

/**
 * dW[ky,kx,ci,co] = Σ_{b,oy,ox} Xpad[b, oy·sh+ky, ox·sw+kx, ci] · dY[b,oy,ox,co].
 * im2col in TRANSPOSED form, so that all kernel offsets' products come from ONE plain matMul
 * patchesᵀ [kh·kw·cin, B·Ho·Wo] × dY [B·Ho·Wo, cout]:
 *   - X is first made channel-first [cin, B, H, W] (and padded there): each offset's (strided)
 *     slice then copies runs of Wo floats, where an NHWC slice copies runs of only cin floats — for
 *     the first layer (cin = 2) that NHWC slicing was ~20× slower;
 *   - the slices are concatenated along axis 0, which is already the filter's (ky,kx,ci) order;
 *   - the matMul needs no transpose flag: the wasm BatchMatMul is ~10× slower with transposeA.
 */
export function conv2dBackpropFilterImpl(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number],
  strides: [number, number] | number, pad: Pad, dimRoundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: B, inChannels: cin, outChannels: cout, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw,
      filterHeight: kh, filterWidth: kw } = info;
    const { top, left } = info.padInfo;
    // Pad enough to cover every row/column any offset reads (extra rows at the end are never read).
    const needH = (ho - 1) * sh + kh, needW = (wo - 1) * sw + kw;
    const bottom = Math.max(0, needH - top - x.shape[1]), right = Math.max(0, needW - left - x.shape[2]);
    const xc: tf.Tensor4D = cin === 1 ? x.reshape([1, B, x.shape[1], x.shape[2]]) : tf.transpose(x, [3, 0, 1, 2]);
    const xp = top || bottom || left || right ? tf.pad(xc, [[0, 0], [0, 0], [top, bottom], [left, right]]) : xc;
    const cols: tf.Tensor4D[] = [];
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        if (sh === 1 && sw === 1) cols.push(tf.slice(xp, [0, 0, ky, kx], [cin, B, ho, wo]));
        else cols.push(tf.stridedSlice(xp, [0, 0, ky, kx], [cin, B, ky + (ho - 1) * sh + 1, kx + (wo - 1) * sw + 1], [1, 1, sh, sw]) as tf.Tensor4D);
      }
    }
    const patchesT = (cols.length === 1 ? cols[0] : tf.concat(cols, 0)).reshape([kh * kw * cin, B * ho * wo]) as tf.Tensor2D;
    const dy2 = dy.reshape([B * ho * wo, cout]) as tf.Tensor2D;
    return tf.matMul(patchesT, dy2).reshape([kh, kw, cin, cout]) as tf.Tensor4D;
  });
}

/**
 * dX of a conv: a forward (valid, stride-1) conv2d of dY — dilated by the stride when stride > 1
 * (s−1 zeros between rows/columns) and padded by (k−1−pad) — with the spatially flipped,
 * in/out-transposed filter.
 */
export function conv2dBackpropInputImpl(dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: [number, number, number, number],
  strides: [number, number] | number, pad: Pad, dimRoundingMode?: 'floor' | 'round' | 'ceil'): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
    const { batchSize: B, outChannels: cout, outHeight: ho, outWidth: wo, strideHeight: sh, strideWidth: sw,
      filterHeight: kh, filterWidth: kw, inHeight: H, inWidth: W } = info;
    const { top, left } = info.padInfo;
    let g: tf.Tensor4D = dy;
    if (sh > 1 || sw > 1) {
      // [B,Ho,Wo,C] → [B,Ho,1,Wo,1,C] → pad to [B,Ho,sh,Wo,sw,C] → [B,Ho·sh,Wo·sw,C] → crop to (Ho−1)·sh+1.
      const r = dy.reshape([B, ho, 1, wo, 1, cout]);
      const p = tf.pad(r, [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
      g = tf.slice(p.reshape([B, ho * sh, wo * sw, cout]) as tf.Tensor4D, [0, 0, 0, 0], [B, (ho - 1) * sh + 1, (wo - 1) * sw + 1, cout]);
    }
    const gh = g.shape[1], gw = g.shape[2];
    // Padded dY must be H + kh − 1 tall so the valid conv yields H rows.
    const pt = kh - 1 - top, pl = kw - 1 - left;
    const pb = H + kh - 1 - gh - pt, pr = W + kw - 1 - gw - pl;
    const padT = Math.max(0, pt), padB = Math.max(0, pb), padL = Math.max(0, pl), padR = Math.max(0, pr);
    if (padT || padB || padL || padR) g = tf.pad(g, [[0, 0], [padT, padB], [padL, padR], [0, 0]]);
    if (pt < 0 || pb < 0 || pl < 0 || pr < 0) {
      g = tf.slice(g, [0, padT - pt, padL - pl, 0], [B, H + kh - 1, W + kw - 1, cout]);
    }
    const wt = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(g, wt, 1, 'valid');
  });
}

/** Replaces the wasm backend's `kernelName` with `wrap(its own kernel)`, keeping its setup and dispose; nothing when the backend has none. */
function wrapWasmKernel(kernelName: string, wrap: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ kernelName, backendName: 'wasm', setupFunc: original.setupFunc, disposeFunc: original.disposeFunc, kernelFunc: wrap(original.kernelFunc) });
}

/** Installs our Conv2DBackpropFilter / Conv2DBackpropInput / BatchMatMul / AvgPoolGrad kernels for the 'wasm' backend (idempotent). */
export function registerWasmConvGradKernels(): void {
  if (wasmKernelsRegistered) return;
  const install = (kernelName: string, kernelFunc: tf.KernelFunc) => {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  };
  install('Conv2DBackpropFilter', ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    checkNHWC(a.dataFormat);
    return tf.tidy(() => conv2dBackpropFilterImpl(asTensor<tf.Rank.R4>(inputs.x, backend as tf.KernelBackend), asTensor<tf.Rank.R4>(inputs.dy, backend as tf.KernelBackend),
      a.filterShape, a.strides, a.pad, a.dimRoundingMode));
  });
  // BatchMatMul: tfjs-backend-wasm 4.22 runs a plain (non-transposed, batch-1) product through
  // XNNPACK but any transposeA/transposeB through a naive loop, ~10× slower. Every matMul gradient
  // (dA = dY·Bᵀ, dB = Aᵀ·dY) asks for a transpose, so for batch-1 products we transpose the operand
  // explicitly (a cheap copy) and run the fast plain product. Same sums, same result up to rounding.
  wrapWasmKernel('BatchMatMul', (plain) => (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const batch1 = (s: number[]) => s.slice(0, -2).every((d) => d === 1);
    if ((!transposeA && !transposeB) || !batch1(a.shape) || !batch1(b.shape)) return plain(args);
    const backend = args.backend as tf.KernelBackend;
    return tf.tidy(() => {
      const a2 = asTensor<tf.Rank.R2>(a, backend).reshape([a.shape[a.shape.length - 2], a.shape[a.shape.length - 1]]) as tf.Tensor2D;
      const b2 = asTensor<tf.Rank.R2>(b, backend).reshape([b.shape[b.shape.length - 2], b.shape[b.shape.length - 1]]) as tf.Tensor2D;
      const out = tf.matMul(transposeA ? tf.transpose(a2) : a2, transposeB ? tf.transpose(b2) : b2);
      // BatchMatMul's output keeps the broadcast batch dims (all 1 here).
      const lead = a.shape.length >= b.shape.length ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
      return lead.length ? out.reshape([...lead, ...out.shape]) : out;
    });
  });
  // AvgPoolGrad for non-overlapping windows (window = stride, 'valid' — the only pooling our specs
  // use): every input cell of a window gets dy/(fh·fw), i.e. a nearest-neighbour upsampling of dy,
  // which the wasm ResizeNearestNeighbor does ~3× faster than the wasm AvgPoolGrad. Half-pixel
  // centres make the source index floor((y + ½)/s) = ⌊y/s⌋ robust to rounding for any integer s.
  // Rows/columns that "valid" pooling dropped get zero gradient. Other pools use the original.
  wrapWasmKernel('AvgPoolGrad', (general) => (args) => {
    const { dy, input } = args.inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const a = args.attrs as unknown as tf.AvgPoolGradAttrs;
    const pair = (v: number | [number, number]) => (typeof v === 'number' ? [v, v] : v);
    const [fh, fw] = pair(a.filterSize), [sh, sw] = pair(a.strides);
    if (fh !== sh || fw !== sw || !(a.pad === 'valid' || a.pad === 0) || input.shape.length !== 4) return general(args);
    const backend = args.backend as tf.KernelBackend;
    return tf.tidy(() => {
      const [, H, W] = input.shape, [, ho, wo] = dy.shape;
      const up = tf.image.resizeNearestNeighbor(tf.mul(asTensor<tf.Rank.R4>(dy, backend), 1 / (fh * fw)) as tf.Tensor4D,
        [ho * fh, wo * fw], false, true);
      return H > ho * fh || W > wo * fw ? tf.pad(up, [[0, 0], [0, H - ho * fh], [0, W - wo * fw], [0, 0]]) : up;
    });
  });
  install('Conv2DBackpropInput', ({ inputs, attrs, backend }) => {
    const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    checkNHWC(a.dataFormat);
    return tf.tidy(() => conv2dBackpropInputImpl(asTensor<tf.Rank.R4>(inputs.dy, backend as tf.KernelBackend), asTensor<tf.Rank.R4>(inputs.filter, backend as tf.KernelBackend),
      a.inputShape, a.strides, a.pad, a.dimRoundingMode));
  });
  wasmKernelsRegistered = true;
}
