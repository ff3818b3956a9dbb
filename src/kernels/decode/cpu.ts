/**
 * CPU twins of the decoder kernels (programs/), written from the formats' definitions with float64 sums: the
 * references the e2e kernel tests compare each WGSL kernel with. Row-major arrays, shapes as in programs/.
 */
import { KernelError } from '../../errors';
import type { Epilogue, NormMode, RopeMode, WeightFormat } from './programs';

const BLOCK = 32;

/** W [N, K] from MatMulNBits blocks: codes [N, K/32, 32*bits/8] low bits first, scales [N, K/32], zero points
 * 4-bit packed [N, ceil(K/32/2)] (absent: 2^(bits-1)). */
export function dequantize(format: WeightFormat, codes: Uint8Array, scales: Float32Array, zeros: Uint8Array | null, n: number, k: number): Float32Array {
  if (format === 'f32') throw new KernelError('f32 weights need no dequantization');
  const bits = format === 'q8' ? 8 : 4;
  const blocks = k / BLOCK;
  const zeroRow = Math.ceil(blocks / 2);
  const w = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const flat = r * k + c;
      const code = bits === 8 ? codes[flat] : (codes[flat >> 1] >> (4 * (flat & 1))) & 0xf;
      const b = Math.floor(c / BLOCK);
      let zero = bits === 8 ? 128 : 8;
      if (format === 'q4z') zero = (zeros![r * zeroRow + (b >> 1)] >> (4 * (b & 1))) & 0xf;
      w[flat] = (code - zero) * scales[r * blocks + b];
    }
  }
  return w;
}

const silu = (v: number) => v / (1 + Math.exp(-v));
const geluTanh = (v: number) => 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));

export interface LinearArgs {
  x: Float32Array;
  rows: number;
  depth: number;
  cols: number;
  weight: Float32Array;
  bias: Float32Array | null;
  /** x A [rows, rank] and B [layers, rank, cols] of the LoRA, or null. */
  lora: { xa: Float32Array; b: Float32Array; layer: number; rank: number } | null;
  epilogue: Epilogue;
  activation: 'silu' | 'gelu_tanh';
  gate: Float32Array | null;
  /** y before the kernel (accumulate adds to it). */
  y: Float32Array;
}

/** y[t, n] = epilogue(sum_k x[t, k] W[n, k] + bias[n] + sum_r xa[t, r] B[layer, r, n]). */
export function fusedLinear(a: LinearArgs): Float32Array {
  const y = Float32Array.from(a.y);
  for (let t = 0; t < a.rows; t++) {
    for (let n = 0; n < a.cols; n++) {
      let v = 0;
      for (let k = 0; k < a.depth; k++) v += a.x[t * a.depth + k] * a.weight[n * a.depth + k];
      if (a.bias) v += a.bias[n];
      if (a.lora) for (let j = 0; j < a.lora.rank; j++) v += a.lora.xa[t * a.lora.rank + j] * a.lora.b[(a.lora.layer * a.lora.rank + j) * a.cols + n];
      const i = t * a.cols + n;
      if (a.epilogue === 'store') y[i] = v;
      else if (a.epilogue === 'accumulate') y[i] += v;
      else if (a.epilogue === 'activate') y[i] = (a.activation === 'silu' ? silu : geluTanh)(v);
      else y[i] = (a.activation === 'silu' ? silu : geluTanh)(a.gate![i]) * v;
    }
  }
  return y;
}

/** xa [rows, rank] = x [rows, K] A[layer] with A [layers, K, rank]. */
export function loraDown(x: Float32Array, rows: number, depth: number, a: Float32Array, layer: number, rank: number): Float32Array {
  const xa = new Float32Array(rows * rank);
  for (let t = 0; t < rows; t++) {
    for (let j = 0; j < rank; j++) {
      let v = 0;
      for (let k = 0; k < depth; k++) v += x[t * depth + k] * a[(layer * depth + k) * rank + j];
      xa[t * rank + j] = v;
    }
  }
  return xa;
}

function rms(v: Float32Array, start: number, dim: number, eps: number): number {
  let s = 0;
  for (let i = 0; i < dim; i++) s += v[start + i] ** 2;
  return 1 / Math.sqrt(s / dim + eps);
}

/** rows: y[t] = norm(x[t]); last: y[0] = norm(x[rows - 1]); add: y[t] += norm(x[t]). Weight applied as (w + offset). */
export function rmsNormRows(mode: NormMode, x: Float32Array, rows: number, dim: number, weight: Float32Array, eps: number, offset: number, y: Float32Array): Float32Array {
  const out = Float32Array.from(y);
  const ts = mode === 'last' ? [rows - 1] : Array.from({ length: rows }, (_, t) => t);
  for (const t of ts) {
    const inv = rms(x, t * dim, dim, eps);
    const dst = mode === 'last' ? 0 : t * dim;
    for (let i = 0; i < dim; i++) {
      const v = x[t * dim + i] * inv * (weight[i] + offset);
      out[dst + i] = mode === 'add' ? out[dst + i] + v : v;
    }
  }
  return out;
}

/** x[t] = table[ids[t]] * scale. */
export function embed(table: Float32Array, hidden: number, ids: number[], scale: number): Float32Array {
  const x = new Float32Array(ids.length * hidden);
  ids.forEach((id, t) => {
    for (let h = 0; h < hidden; h++) x[t * hidden + h] = table[id * hidden + h] * scale;
  });
  return x;
}

export interface RopeArgs {
  mode: RopeMode;
  /** [rows, heads, headDim] */
  src: Float32Array;
  rows: number;
  heads: number;
  headDim: number;
  past: number;
  normWeight: Float32Array | null;
  eps: number;
  offset: number;
  cos: Float32Array;
  sin: Float32Array;
  /** q: the q buffer to overwrite; k/v: the cache [layers, heads, maxContext, headDim]. */
  dst: Float32Array;
  layer: number;
  maxContext: number;
}

/** QK-norm (optional), then half-split rotary embedding at position past + t; k and v land in the cache. */
export function rope(a: RopeArgs): Float32Array {
  const out = Float32Array.from(a.dst);
  const half = a.headDim / 2;
  for (let t = 0; t < a.rows; t++) {
    const pos = a.past + t;
    for (let h = 0; h < a.heads; h++) {
      const base = (t * a.heads + h) * a.headDim;
      const v = Array.from(a.src.subarray(base, base + a.headDim));
      if (a.normWeight && a.mode !== 'v') {
        const inv = rms(a.src, base, a.headDim, a.eps);
        for (let i = 0; i < a.headDim; i++) v[i] = v[i] * inv * (a.normWeight[i] + a.offset);
      }
      const dst = a.mode === 'q' ? base : ((a.layer * a.heads + h) * a.maxContext + pos) * a.headDim;
      for (let i = 0; i < (a.mode === 'v' ? a.headDim : half); i++) {
        if (a.mode === 'v') {
          out[dst + i] = v[i];
          continue;
        }
        const c = a.cos[pos * half + i];
        const s = a.sin[pos * half + i];
        out[dst + i] = v[i] * c - v[i + half] * s;
        out[dst + i + half] = v[i + half] * c + v[i] * s;
      }
    }
  }
  return out;
}

export interface AttentionArgs {
  q: Float32Array;
  keys: Float32Array;
  values: Float32Array;
  rows: number;
  past: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  layer: number;
  maxContext: number;
  window: number;
  scale: number;
}

/** Causal grouped-query attention of rows at positions past.. over the cache (window > 0: keys > pos - window). */
export function attention(a: AttentionArgs): Float32Array {
  const out = new Float32Array(a.rows * a.heads * a.headDim);
  for (let t = 0; t < a.rows; t++) {
    const pos = a.past + t;
    const first = a.window > 0 ? Math.max(0, pos + 1 - a.window) : 0;
    for (let h = 0; h < a.heads; h++) {
      const kvh = Math.floor(h / (a.heads / a.kvHeads));
      const cache = (a.layer * a.kvHeads + kvh) * a.maxContext;
      const qb = (t * a.heads + h) * a.headDim;
      const scores: number[] = [];
      for (let j = first; j <= pos; j++) {
        let s = 0;
        for (let d = 0; d < a.headDim; d++) s += a.q[qb + d] * a.keys[(cache + j) * a.headDim + d];
        scores.push(s * a.scale);
      }
      const m = Math.max(...scores);
      const p = scores.map((s) => Math.exp(s - m));
      const sum = p.reduce((x, y) => x + y, 0);
      for (let d = 0; d < a.headDim; d++) {
        let acc = 0;
        p.forEach((pj, i) => (acc += pj * a.values[(cache + first + i) * a.headDim + d]));
        out[qb + d] = acc / sum;
      }
    }
  }
  return out;
}

/** The first index of the largest value. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}
