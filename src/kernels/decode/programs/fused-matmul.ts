/**
 * fused_matmul: the fused (quantized) linear on the tiled matrix product. It serves the decoder's prefill (rows from
 * the step counters) and the hypernetwork's linear layers (rowSource 'uniform': every row of the `rows` uniform).
 */
import { gemmDispatch, type KernelProgram } from '../../gpu';
import { GEMM_WGSL, WORKGROUP_SIZE } from '../../wgsl';
import { QUANT_BLOCK } from './common';
import { linearParts, type LinearKind } from './linear-form';

type MatmulUniform = 'rows' | 'cols' | 'depth' | 'blocks' | 'layer' | 'rank';

/**
 * The same sum and epilogue as fusedLinearProgram over all rows, on 32x32 output tiles staged through workgroup
 * memory, each weight dequantized as its tile is loaded. With step rows, `rows` is the chunk's capacity and rows
 * past counters[0] are computed on stale values and not stored.
 */
export function fusedMatmulProgram(f: LinearKind): KernelProgram<MatmulUniform> {
  const { quantized, step, inputs, helpers, epilogue, key, types } = linearParts(f);
  const loadW = quantized
    ? /* wgsl */ `
  let at = col * u.depth + k;
  let word = codes[at / CODES_PER_WORD];
  let block = k / ${QUANT_BLOCK}u;
  return weightAt(word, at % CODES_PER_WORD, scales[col * u.blocks + block], zeroPoint(col, block));`
    : 'return weight[col * u.depth + k];';
  const skipPastChunk = /* wgsl */ `
  if (row >= stepRows()) {
    return;
  }`;
  return {
    name: 'fused_matmul',
    key: `fused_matmul:${key}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs,
    outputs: ['y'],
    types,
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'blocks', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'rank', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${helpers}
fn loadX(row: u32, k: u32) -> f32 {
  return x[row * u.depth + k];
}
fn loadW(col: u32, k: u32) -> f32 {
  ${loadW}
}
fn storeY(row: u32, col: u32, acc: f32) {${step ? skipPastChunk : ''}
  var v = acc;
  ${epilogue('row', 'col')}
}
${GEMM_WGSL}`,
    dispatch: (u) => gemmDispatch(u.rows, u.cols),
  };
}
