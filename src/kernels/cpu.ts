/**
 * CPU twins of the kernels, in plain TypeScript loops: the WebAssembly-fallback path of the hypernetwork and the
 * reference the WGSL kernels are tested against. Sums run in float64 (JS numbers), results are float32.
 */
import { KernelError } from '../errors';
import type { LinearActivation } from './linear';
import type { LoraHeadTarget } from './lora-head-write';

/** A row-major float32 matrix. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  cols: number;
}

export function matrix(data: Float32Array, rows: number, cols: number): Matrix {
  if (data.length !== rows * cols) throw new KernelError(`${data.length} values do not make a [${rows}, ${cols}] matrix`);
  return { data, rows, cols };
}

function geluTanhScalar(x: number): number {
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

/**
 * y = act(x W^T + b), W [out, in]. Four rows of x share each pass over a weight row (each weight value is read once
 * per four rows, from registers), two weight rows at a time; every output still sums bias, then k = 0.. in order, so
 * the result is the same as one dot product at a time.
 */
export function linear(x: Matrix, weight: Matrix, bias: Float32Array | null, activation: LinearActivation = 'none'): Matrix {
  if (weight.cols !== x.cols) throw new KernelError(`linear: weight [${weight.rows}, ${weight.cols}] does not take ${x.cols} inputs`);
  const X = x.data;
  const W = weight.data;
  const n = x.cols;
  const rows = x.rows;
  const cols = weight.rows;
  const y = new Float32Array(rows * cols);
  const gelu = activation === 'gelu_tanh';
  const put = (i: number, v: number) => {
    y[i] = gelu ? geluTanhScalar(v) : v;
  };
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = r * n;
    const x1 = x0 + n;
    const x2 = x1 + n;
    const x3 = x2 + n;
    let c = 0;
    for (; c + 2 <= cols; c += 2) {
      const w0 = c * n;
      const w1 = w0 + n;
      const b0 = bias ? bias[c] : 0;
      const b1 = bias ? bias[c + 1] : 0;
      let a00 = b0, a10 = b0, a20 = b0, a30 = b0;
      let a01 = b1, a11 = b1, a21 = b1, a31 = b1;
      for (let k = 0; k < n; k++) {
        const u = W[w0 + k];
        const v = W[w1 + k];
        const p0 = X[x0 + k];
        const p1 = X[x1 + k];
        const p2 = X[x2 + k];
        const p3 = X[x3 + k];
        a00 += p0 * u; a10 += p1 * u; a20 += p2 * u; a30 += p3 * u;
        a01 += p0 * v; a11 += p1 * v; a21 += p2 * v; a31 += p3 * v;
      }
      put(r * cols + c, a00); put((r + 1) * cols + c, a10); put((r + 2) * cols + c, a20); put((r + 3) * cols + c, a30);
      put(r * cols + c + 1, a01); put((r + 1) * cols + c + 1, a11); put((r + 2) * cols + c + 1, a21); put((r + 3) * cols + c + 1, a31);
    }
    for (; c < cols; c++) {
      const w0 = c * n;
      const b0 = bias ? bias[c] : 0;
      let a0 = b0, a1 = b0, a2 = b0, a3 = b0;
      for (let k = 0; k < n; k++) {
        const u = W[w0 + k];
        a0 += X[x0 + k] * u; a1 += X[x1 + k] * u; a2 += X[x2 + k] * u; a3 += X[x3 + k] * u;
      }
      put(r * cols + c, a0); put((r + 1) * cols + c, a1); put((r + 2) * cols + c, a2); put((r + 3) * cols + c, a3);
    }
  }
  for (; r < rows; r++) {
    const x0 = r * n;
    for (let c = 0; c < cols; c++) {
      const w0 = c * n;
      let acc = bias ? bias[c] : 0;
      for (let k = 0; k < n; k++) acc += X[x0 + k] * W[w0 + k];
      put(r * cols + c, acc);
    }
  }
  return matrix(y, rows, cols);
}

/** y = x / sqrt(mean(x^2) + eps) * weight, per row. */
export function rmsNorm(x: Matrix, weight: Float32Array, eps: number): Matrix {
  const y = new Float32Array(x.data.length);
  for (let r = 0; r < x.rows; r++) {
    const o = r * x.cols;
    let sumSquares = 0;
    for (let i = 0; i < x.cols; i++) sumSquares += x.data[o + i] * x.data[o + i];
    const inverseRms = 1 / Math.sqrt(sumSquares / x.cols + eps);
    for (let i = 0; i < x.cols; i++) y[o + i] = x.data[o + i] * inverseRms * weight[i];
  }
  return matrix(y, x.rows, x.cols);
}

function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** hidden [E, size] (flat), mix [E] -> sum_e softmax(mix)_e hidden_e [size]. */
export function layerMix(hidden: Float32Array, mix: Float32Array): Float32Array {
  const size = hidden.length / mix.length;
  const weights = softmax(mix);
  const y = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    let acc = 0;
    for (let e = 0; e < mix.length; e++) acc += weights[e] * hidden[e * size + i];
    y[i] = acc;
  }
  return y;
}

/** query [N, D], keyValue [T, 2D] (keys then values) -> per head softmax(q k^T / sqrt(D / heads)) v, [N, D]. */
export function attentionPool(query: Matrix, keyValue: Matrix, heads: number): Matrix {
  const d = query.cols;
  const headDim = d / heads;
  const scale = 1 / Math.sqrt(headDim);
  const out = new Float32Array(query.rows * d);
  const scores = new Float64Array(keyValue.rows);
  for (let n = 0; n < query.rows; n++) {
    for (let p = 0; p < heads; p++) {
      const q = n * d + p * headDim;
      for (let t = 0; t < keyValue.rows; t++) {
        const k = t * 2 * d + p * headDim;
        let s = 0;
        for (let i = 0; i < headDim; i++) s += query.data[q + i] * keyValue.data[k + i];
        scores[t] = s * scale;
      }
      const weights = softmax(scores);
      for (let i = 0; i < headDim; i++) {
        let acc = 0;
        for (let t = 0; t < keyValue.rows; t++) acc += weights[t] * keyValue.data[t * 2 * d + d + p * headDim + i];
        out[q + i] = acc;
      }
    }
  }
  return matrix(out, query.rows, d);
}

export function geluTanh(x: Float32Array): Float32Array {
  return x.map(geluTanhScalar);
}

export function add(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => v + b[i]);
}

/** The CPU twin of lora_head_write: writes into `dst` [layers, dstRows, dstCols] in place (one product for all layers). */
export function loraHeadWrite(pooled: Matrix, weight: Matrix, bias: Float32Array, dst: Float32Array, dstRows: number, dstCols: number, target: LoraHeadTarget): void {
  const { modules, module, headCols, rowOffset, colOffset, scale } = target;
  const layers = pooled.rows / modules;
  const d = pooled.cols;
  const rows = new Float32Array(layers * d);
  for (let l = 0; l < layers; l++) rows.set(pooled.data.subarray((l * modules + module) * d, (l * modules + module + 1) * d), l * d);
  const heads = linear(matrix(rows, layers, d), weight, bias).data;
  const size = weight.rows;
  for (let l = 0; l < layers; l++) {
    for (let f = 0; f < size; f++) {
      const i = rowOffset + Math.floor(f / headCols);
      const j = colOffset + (f % headCols);
      dst[(l * dstRows + i) * dstCols + j] = heads[l * size + f] * scale;
    }
  }
}
