/*
 * The event-driven SNN step of SnnRunner as a WebAssembly SIMD kernel (see runner.ts for the
 * neuron model). Built by scripts/build-kernels.sh into step-wasm.ts; the runner loads that.
 *
 * Exactness: every membrane and output value goes through the same IEEE double operations, in the
 * same order per neuron, as the plain-JS runner it replaced: v ← v + b, then v ← v + s·w for each
 * input event in list order, then the threshold test and the subtraction. SIMD lanes are
 * neighbouring neurons (channels), never two terms of one neuron's sum, and wasm has no fused
 * multiply-add, so the results are bitwise those of the scalar code. The bias of step t+1 is added
 * right after the threshold pass of step t (and at reset): the same two operations in the same
 * order, one pass over the membranes fewer.
 *
 * Memory (imported, laid out by runner.ts): the network descriptor, weights, per-slot state and
 * scratch lists. Pointers are byte offsets into that memory.
 */
#include <wasm_simd128.h>
#include <stdint.h>

enum { CONV = 0, POOL = 1, DENSE = 2, OUTPUT = 3 };

typedef struct {
  int32_t kind, inH, inW, inC, outH, outW, outC, k, stride, padTop, padLeft, size;
  int32_t weights, bias, mem, net;  /* float*, float*, double* (slot 0), int32* (slot 0; QFFS only) */
  int32_t neurons, spiking, bias64, pad1; /* bias64: double* (the bias as doubles; conv/dense) */
  double threshold;
} Layer;

typedef struct {
  int32_t nLayers, layers, qffs, L, frameSize, nSpiking, classes, pad0;
  int32_t idxA, idxB, valA, valB, poolAcc, poolMark, out, counts; /* counts: double[slots][nSpiking][2] (spikes, negative) */
  int32_t frame, pad1;
  double inputScale;
} Net;

#define P(T, off) ((T)(uintptr_t)(off))

/* mem[0..m) += v·w[0..m), two neurons per lane pair. */
static inline void axpy(double *restrict mem, const float *restrict w, double v, int m) {
  v128_t vv = wasm_f64x2_splat(v);
  int c = 0;
  for (; c + 4 <= m; c += 4) {
    v128_t w4 = wasm_v128_load(w + c);
    v128_t lo = wasm_f64x2_promote_low_f32x4(w4);
    v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(w4, w4, 2, 3, 0, 1));
    wasm_v128_store(mem + c, wasm_f64x2_add(wasm_v128_load(mem + c), wasm_f64x2_mul(vv, lo)));
    wasm_v128_store(mem + c + 2, wasm_f64x2_add(wasm_v128_load(mem + c + 2), wasm_f64x2_mul(vv, hi)));
  }
  for (; c < m; c++) mem[c] += v * (double)w[c];
}

static void conv_integrate(const Layer *l, double *restrict mem, const int32_t *restrict idx, const double *restrict val, int n) {
  const int inW = l->inW, inC = l->inC, outH = l->outH, outW = l->outW, outC = l->outC, k = l->k, stride = l->stride;
  const float *w = P(const float *, l->weights);
  for (int e = 0; e < n; e++) {
    const double v = val[e];
    const int id = idx[e], ci = id % inC, pix = id / inC, ix = pix % inW, iy = pix / inW;
    if (stride == 1) {
      /* output rows/cols touched by input (iy, ix) are a contiguous range */
      const int ty = iy + l->padTop, tx = ix + l->padLeft;
      const int oy0 = ty - k + 1 > 0 ? ty - k + 1 : 0, oy1 = ty < outH - 1 ? ty : outH - 1;
      const int ox0 = tx - k + 1 > 0 ? tx - k + 1 : 0, ox1 = tx < outW - 1 ? tx : outW - 1;
      for (int oy = oy0; oy <= oy1; oy++) {
        const int ky = ty - oy;
        for (int ox = ox0; ox <= ox1; ox++)
          axpy(mem + (oy * outW + ox) * outC, w + ((ky * k + (tx - ox)) * inC + ci) * outC, v, outC);
      }
      continue;
    }
    for (int ky = 0; ky < k; ky++) {
      const int ty = iy + l->padTop - ky;
      if (ty < 0) break;
      if (ty % stride != 0) continue;
      const int oy = ty / stride;
      if (oy >= outH) continue;
      for (int kx = 0; kx < k; kx++) {
        const int tx = ix + l->padLeft - kx;
        if (tx < 0) break;
        if (tx % stride != 0) continue;
        const int ox = tx / stride;
        if (ox >= outW) continue;
        axpy(mem + (oy * outW + ox) * outC, w + ((ky * k + kx) * inC + ci) * outC, v, outC);
      }
    }
  }
}

static void dense_integrate(const Layer *l, double *restrict mem, const int32_t *restrict idx, const double *restrict val, int n) {
  const int m = l->outC;
  const float *w = P(const float *, l->weights);
  for (int e = 0; e < n; e++) axpy(mem, w + idx[e] * m, val[e], m);
}

static int negatives;
static volatile double sink;

/*
 * Reads one value per 64-byte line of a slot's membranes ahead of the scattered integration: a
 * sequential read the hardware prefetches, after which the scattered updates hit the cache. At
 * large batches a slot's state is cold (evicted by the other slots) and this halves the step.
 */
static void warm(const double *mem, int N) {
  double s = 0;
  for (int i = 0; i < N; i += 8) s += mem[i];
  sink = s;
}

/*
 * Threshold pass, then the next step's bias: v ← v − θ where v ≥ θ (QCFS: reset by subtraction),
 * then v ← v + b. Writes the spikes (index, +θ) in ascending index order and returns their number.
 * Four neurons at a time: when none of them fires (most of them) they take the SIMD path.
 * `bias` is the layer's bias as doubles (exact conversions of the float32 weights).
 */
static int fire_qcfs(const Layer *l, double *restrict mem, int32_t *restrict oIdx, double *restrict oVal) {
  const int N = l->neurons, C = l->outC;
  const double th = l->threshold;
  const double *b = P(const double *, l->bias64);
  const v128_t thv = wasm_f64x2_splat(th);
  int n = 0, i = 0;
  while (i < N) {
    int c = 0;
    for (; c + 4 <= C; c += 4, i += 4) {
      const v128_t v0 = wasm_v128_load(mem + i), v1 = wasm_v128_load(mem + i + 2);
      if (!wasm_v128_any_true(wasm_v128_or(wasm_f64x2_ge(v0, thv), wasm_f64x2_ge(v1, thv)))) {
        wasm_v128_store(mem + i, wasm_f64x2_add(v0, wasm_v128_load(b + c)));
        wasm_v128_store(mem + i + 2, wasm_f64x2_add(v1, wasm_v128_load(b + c + 2)));
        continue;
      }
      for (int q = 0; q < 4; q++) {
        double x = mem[i + q];
        if (x >= th) { x -= th; oIdx[n] = i + q; oVal[n] = th; n++; }
        mem[i + q] = x + b[c + q];
      }
    }
    for (; c < C; c++, i++) {
      double x = mem[i];
      if (x >= th) { x -= th; oIdx[n] = i; oVal[n] = th; n++; }
      mem[i] = x + b[c];
    }
  }
  negatives = 0;
  return n;
}

/* The QFFS rule for neuron i, then its next bias; appends its spike (if any) at n and returns the new count. */
static inline int qffs_one(double *restrict mem, int32_t *restrict net, int i, double th, int cap, double b, int32_t *restrict oIdx, double *restrict oVal, int n, int *neg) {
  double x = mem[i];
  if (x >= th) {
    if (net[i] < cap) { x -= th; net[i]++; oIdx[n] = i; oVal[n] = th; n++; }
  } else if (x < 0 && net[i] > 0) {
    x += th; net[i]--; oIdx[n] = i; oVal[n] = -th; n++; (*neg)++;
  }
  mem[i] = x + b;
  return n;
}

/* QFFS: positive spikes while the net count is below L, negative ones while v < 0 and net > 0. */
static int fire_qffs(const Layer *l, double *restrict mem, int32_t *restrict net, int cap, int32_t *restrict oIdx, double *restrict oVal) {
  const int N = l->neurons, C = l->outC;
  const double th = l->threshold;
  const double *b = P(const double *, l->bias64);
  const v128_t thv = wasm_f64x2_splat(th), zero = wasm_f64x2_splat(0);
  int n = 0, neg = 0, i = 0;
  while (i < N) {
    int c = 0;
    for (; c + 2 <= C; c += 2, i += 2) {
      const v128_t v = wasm_v128_load(mem + i);
      if (!wasm_v128_any_true(wasm_v128_or(wasm_f64x2_ge(v, thv), wasm_f64x2_lt(v, zero)))) {
        wasm_v128_store(mem + i, wasm_f64x2_add(v, wasm_v128_load(b + c)));
        continue;
      }
      n = qffs_one(mem, net, i, th, cap, b[c], oIdx, oVal, n, &neg);
      n = qffs_one(mem, net, i + 1, th, cap, b[c + 1], oIdx, oVal, n, &neg);
    }
    for (; c < C; c++, i++) n = qffs_one(mem, net, i, th, cap, b[c], oIdx, oVal, n, &neg);
  }
  negatives = neg;
  return n;
}

/* Non-overlapping average pooling of a sparse map (outputs in order of first touch); returns the non-zero outputs. */
static int pool(const Layer *l, const Net *net, const int32_t *restrict idx, const double *restrict val, int n, int32_t *restrict oIdx, double *restrict oVal) {
  double *acc = P(double *, net->poolAcc);
  uint8_t *mark = P(uint8_t *, net->poolMark);
  const int inW = l->inW, C = l->inC, size = l->size, outH = l->outH, outW = l->outW;
  int m = 0;
  for (int e = 0; e < n; e++) {
    const int id = idx[e], ci = id % C, pix = id / C, ix = pix % inW, iy = pix / inW;
    const int oy = iy / size, ox = ix / size;
    if (oy >= outH || ox >= outW) continue;
    const int o = (oy * outW + ox) * C + ci;
    if (!mark[o]) { mark[o] = 1; oIdx[m++] = o; }
    acc[o] += val[e];
  }
  const double inv = 1.0 / (double)(size * size);
  int kept = 0;
  for (int e = 0; e < m; e++) {
    const int o = oIdx[e];
    const double v = acc[o];
    acc[o] = 0; mark[o] = 0;
    if (v != 0) { oIdx[kept] = o; oVal[kept] = v * inv; kept++; }
  }
  return kept;
}

/* Resets one slot: membranes θ/2 + b (the first step's bias added ahead), net counts and O_t zero. */
void reset_slot(const Net *net, int slot) {
  const Layer *layers = P(const Layer *, net->layers);
  for (int li = 0; li < net->nLayers; li++) {
    const Layer *l = layers + li;
    if (l->kind != CONV && l->kind != DENSE) continue;
    const int N = l->neurons, C = l->outC;
    double *mem = P(double *, l->mem) + (int64_t)slot * N;
    const double *b = P(const double *, l->bias64);
    const double half = l->threshold / 2;
    const v128_t hv = wasm_f64x2_splat(half);
    for (int i = 0; i < N;) {
      int c = 0;
      for (; c + 2 <= C; c += 2, i += 2) wasm_v128_store(mem + i, wasm_f64x2_add(hv, wasm_v128_load(b + c)));
      for (; c < C; c++, i++) mem[i] = half + b[c];
    }
    if (net->qffs) { int32_t *c = P(int32_t *, l->net) + (int64_t)slot * N; for (int i = 0; i < N; i++) c[i] = 0; }
  }
  double *out = P(double *, net->out) + slot * net->classes;
  for (int q = 0; q < net->classes; q++) out[q] = 0;
  double *counts = P(double *, net->counts) + slot * net->nSpiking * 2;
  for (int j = 0; j < 2 * net->nSpiking; j++) counts[j] = 0;
}

/* One step of one slot on the frame at net->frame (H×W×2 event counts). */
void step_slot(const Net *net, int slot) {
  const float *frame = P(const float *, net->frame);
  int32_t *idx = P(int32_t *, net->idxA), *oIdx = P(int32_t *, net->idxB);
  double *val = P(double *, net->valA), *oVal = P(double *, net->valB);
  const double scale = net->inputScale;
  int n = 0, i = 0;
  for (; i + 4 <= net->frameSize; i += 4) {
    if (!wasm_v128_any_true(wasm_f32x4_ne(wasm_v128_load(frame + i), wasm_f32x4_splat(0)))) continue;
    for (int q = i; q < i + 4; q++) {
      const float f = frame[q];
      if (f != 0) { idx[n] = q; val[n] = (double)f * scale; n++; }
    }
  }
  for (; i < net->frameSize; i++) {
    const float f = frame[i];
    if (f != 0) { idx[n] = i; val[n] = (double)f * scale; n++; }
  }
  const Layer *layers = P(const Layer *, net->layers);
  double *counts = P(double *, net->counts) + slot * net->nSpiking * 2;
  for (int li = 0; li < net->nLayers; li++) {
    const Layer *l = layers + li;
    if (l->kind == POOL) {
      n = pool(l, net, idx, val, n, oIdx, oVal);
    } else if (l->kind == OUTPUT) {
      const int C = l->outC;
      double *o = P(double *, net->out) + slot * C;
      const float *b = P(const float *, l->bias), *w = P(const float *, l->weights);
      for (int q = 0; q < C; q++) o[q] += (double)b[q];
      for (int e = 0; e < n; e++) axpy(o, w + idx[e] * C, val[e], C);
      return;
    } else {
      double *mem = P(double *, l->mem) + (int64_t)slot * l->neurons;
      if (n > 0) warm(mem, l->neurons);
      if (l->kind == CONV) conv_integrate(l, mem, idx, val, n);
      else dense_integrate(l, mem, idx, val, n);
      n = net->qffs ? fire_qffs(l, mem, P(int32_t *, l->net) + (int64_t)slot * l->neurons, net->L, oIdx, oVal) : fire_qcfs(l, mem, oIdx, oVal);
      counts[2 * l->spiking] += n;
      counts[2 * l->spiking + 1] += negatives;
    }
    int32_t *ti = idx; idx = oIdx; oIdx = ti;
    double *tv = val; val = oVal; oVal = tv;
  }
}
