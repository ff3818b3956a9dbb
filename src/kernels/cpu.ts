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

/** y = act(x W^T + b), W [out, in]. */
export function linear(x: Matrix, weight: Matrix, bias: Float32Array | null, activation: LinearActivation = 'none'): Matrix {
  if (weight.cols !== x.cols) throw new KernelError(`linear: weight [${weight.rows}, ${weight.cols}] does not take ${x.cols} inputs`);
  const y = new Float32Array(x.rows * weight.rows);
  for (let r = 0; r < x.rows; r++) {
    const xo = r * x.cols;
    for (let c = 0; c < weight.rows; c++) {
      const wo = c * weight.cols;
      let acc = bias ? bias[c] : 0;
      for (let k = 0; k < x.cols; k++) acc += x.data[xo + k] * weight.data[wo + k];
      y[r * weight.rows + c] = activation === 'gelu_tanh' ? geluTanhScalar(acc) : acc;
    }
  }
  return matrix(y, x.rows, weight.rows);
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

/** The CPU twin of lora_head_write: writes into `dst` [layers, dstRows, dstCols] in place. */
export function loraHeadWrite(pooled: Matrix, weight: Matrix, bias: Float32Array, dst: Float32Array, dstRows: number, dstCols: number, target: LoraHeadTarget): void {
  const { modules, module, headCols, rowOffset, colOffset, scale } = target;
  const layers = pooled.rows / modules;
  for (let l = 0; l < layers; l++) {
    const row = pooled.data.subarray((l * modules + module) * pooled.cols, (l * modules + module + 1) * pooled.cols);
    const head = linear(matrix(row, 1, pooled.cols), weight, bias).data;
    for (let f = 0; f < head.length; f++) {
      const i = rowOffset + Math.floor(f / headCols);
      const j = colOffset + (f % headCols);
      dst[(l * dstRows + i) * dstCols + j] = head[f] * scale;
    }
  }
}
