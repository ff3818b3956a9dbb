/** The compile-time form of the fused linear, shared by its decode (fused-linear.ts) and matrix (fused-matmul.ts) kernels. */
import { GELU_TANH_WGSL } from '../../wgsl';
import { STEP_WGSL, type RowSource } from './common';

/** How a weight matrix W [N, K] (PyTorch's [out, in]) is stored. */
export type WeightFormat = 'f32' | 'q8' | 'q4' | 'q4z';

/**
 * store: y = r; accumulate: y += r (the residual add); gated: y = act(gate) * r (the MLP's up projection);
 * activate: y = act(r) (the hypernetwork's fc1).
 */
export type Epilogue = 'store' | 'accumulate' | 'gated' | 'activate';

/** The compile-time form shared by the decode (fusedLinearProgram) and prefill (fusedMatmulProgram) kernels. */
export interface LinearKind {
  format: WeightFormat;
  bias: boolean;
  /** Add (x A) B of the bound adapter slots: x A comes precomputed in `xa` [rows, R] (loraDownProgram). */
  lora: boolean;
  epilogue: Epilogue;
  activation: 'silu' | 'gelu_tanh';
  /** Rows from counters[0] (the default, the decoder's) or from the `rows` uniform alone (fusedMatmulProgram only). */
  rowSource?: RowSource;
}

export interface LinearForm extends LinearKind {
  /** Outputs each workgroup computes (LINEAR_COLS, or LINEAR_COLS_WIDE for very wide outputs). */
  colsPerGroup: number;
}

/** Dequantize one u32 word of codes into its 4 (8-bit) or 8 (4-bit) weights: WGSL helpers per format. */
function dequantWgsl(format: WeightFormat): string {
  if (format === 'q8') {
    return /* wgsl */ `
const CODES_PER_WORD = 4u;
fn weightAt(word: u32, i: u32, scale: f32, zero: f32) -> f32 {
  return (f32((word >> (8u * i)) & 0xffu) - zero) * scale;
}
fn zeroPoint(n: u32, block: u32) -> f32 { return 128.0; }`;
  }
  const zero =
    format === 'q4z'
      ? /* wgsl */ `
fn zeroPoint(n: u32, block: u32) -> f32 {
  // Zero points: 4 bits per block, rows padded to whole bytes.
  let byteIndex = n * ((u.blocks + 1u) / 2u) + block / 2u;
  return f32((zeros[byteIndex / 4u] >> (8u * (byteIndex % 4u) + 4u * (block % 2u))) & 0xfu);
}`
      : /* wgsl */ `
fn zeroPoint(n: u32, block: u32) -> f32 { return 8.0; }`;
  return /* wgsl */ `
const CODES_PER_WORD = 8u;
fn weightAt(word: u32, i: u32, scale: f32, zero: f32) -> f32 {
  return (f32((word >> (4u * i)) & 0xfu) - zero) * scale;
}
${zero}`;
}

/** What the two forms of the fused linear share: bindings, helper WGSL, the LoRA term and the epilogue at (row, col). */
export function linearParts(f: LinearKind) {
  const quantized = f.format !== 'f32';
  const step = (f.rowSource ?? 'step') === 'step';
  const activated = f.epilogue === 'gated' || f.epilogue === 'activate';
  const weights = quantized ? ['codes', 'scales', ...(f.format === 'q4z' ? ['zeros'] : [])] : ['weight'];
  const inputs = [
    'x',
    ...weights,
    ...(f.bias ? ['bias'] : []),
    ...(f.lora ? ['xa', 'loraB'] : []),
    ...(f.epilogue === 'gated' ? ['gate'] : []),
    ...(step ? ['counters'] : []),
  ];
  const helpers = [
    step ? STEP_WGSL : '',
    quantized ? dequantWgsl(f.format) : '',
    activated && f.activation === 'gelu_tanh' ? GELU_TANH_WGSL : '',
    'fn silu(v: f32) -> f32 { return v / (1.0 + exp(-v)); }',
  ].join('\n');
  const act = f.activation === 'silu' ? 'silu' : 'gelu_tanh';
  /** WGSL adding bias and LoRA to `v`, then storing it at (row, col). */
  const epilogue = (row: string, col: string) => {
    const at = `${row} * u.cols + ${col}`;
    return [
      f.bias ? `v += bias[${col}];` : '',
      f.lora ? `for (var j = 0u; j < u.rank; j++) { v += xa[${row} * u.rank + j] * loraB[(u.layer * u.rank + j) * u.cols + ${col}]; }` : '',
      { store: `y[${at}] = v;`, accumulate: `y[${at}] += v;`, gated: `y[${at}] = ${act}(gate[${at}]) * v;`, activate: `y[${at}] = ${act}(v);` }[f.epilogue],
    ].join('\n      ');
  };
  const key = `${f.format}:${f.bias ? 'bias' : 'nobias'}:${f.lora ? 'lora' : 'nolora'}:${f.epilogue}:${f.activation}${step ? '' : ':uniform-rows'}`;
  return { quantized, step, inputs, helpers, epilogue, key, types: { codes: 'u32', zeros: 'u32', counters: 'u32' } as const };
}
