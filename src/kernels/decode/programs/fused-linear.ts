/** fused_linear: the decode form of the fused (quantized) linear, a few outputs of one row per workgroup. */
import { grid, KernelError, type KernelProgram } from '../../gpu';
import { WORKGROUP_SIZE } from '../../wgsl';
import { flatMain, QUANT_BLOCK } from './common';
import { linearParts, type LinearForm } from './linear-form';

type LinearUniform = 'capacity' | 'fixedRows' | 'depth' | 'cols' | 'blocks' | 'layer' | 'rank';

/**
 * y[t, n] = sum_k x[t, k] W[n, k] (+ bias[n]) + sum_r xa[t, r] B[layer, r, n], W dequantized in registers.
 * Each workgroup owns LINEAR_COLS outputs of one row; its threads stride over K (neighbouring threads read
 * neighbouring words), then one thread per output sums the partial dot products and applies the epilogue.
 * Decode: one row (the LM head: fixedRows 1, the last row normed before it); prefill uses fusedMatmulProgram.
 */
export function fusedLinearProgram(f: LinearForm): KernelProgram<LinearUniform> {
  const { quantized, step, inputs, helpers, epilogue, key, types } = linearParts(f);
  if (!step) throw new KernelError('fused_linear: rows come from the step counters (an invariant of its callers)');
  const dot = quantized
    ? /* wgsl */ `
  // One u32 word per iteration: CODES_PER_WORD weights of row n, at k = word * CODES_PER_WORD.
  let wordsPerRow = u.depth / CODES_PER_WORD;
  let wordsPerBlock = ${QUANT_BLOCK}u / CODES_PER_WORD;
  for (var w = lid; w < wordsPerRow; w += WORKGROUP_SIZE) {
    let block = w / wordsPerBlock;
    for (var c = 0u; c < LINEAR_COLS; c++) {
      let n = min(colBase + c, u.cols - 1u);
      let word = codes[n * wordsPerRow + w];
      let scale = scales[n * u.blocks + block];
      let zero = zeroPoint(n, block);
      for (var i = 0u; i < CODES_PER_WORD; i++) {
        let wv = weightAt(word, i, scale, zero);
        let k = w * CODES_PER_WORD + i;
        acc[c] += wv * x[row * u.depth + k];
      }
    }
  }`
    : /* wgsl */ `
  for (var k = lid; k < u.depth; k += WORKGROUP_SIZE) {
    for (var c = 0u; c < LINEAR_COLS; c++) {
      let n = min(colBase + c, u.cols - 1u);
      let wv = weight[n * u.depth + k];
      acc[c] += wv * x[row * u.depth + k];
    }
  }`;
  return {
    name: 'fused_linear',
    key: `fused_linear:${key}:${f.colsPerGroup}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs,
    outputs: ['y'],
    types,
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'fixedRows', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'blocks', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'rank', type: 'u32' },
    ],
    main: () => /* wgsl */ `
const LINEAR_COLS = ${f.colsPerGroup}u;
${helpers}
var<workgroup> partialSums: array<f32, LINEAR_COLS * WORKGROUP_SIZE>;
${flatMain(/* wgsl */ `
  let colGroups = (u.cols + LINEAR_COLS - 1u) / LINEAR_COLS;
  let colBase = (group % colGroups) * LINEAR_COLS;
  let t = group / colGroups;
  var rows = stepRows();
  if (u.fixedRows > 0u) { rows = u.fixedRows; }
  // A row past the chunk reads row 0 again (always there) and is not stored.
  let row = select(0u, t, t < rows);
  var acc: array<f32, LINEAR_COLS>;
  ${dot}
  for (var c = 0u; c < LINEAR_COLS; c++) {
    partialSums[c * WORKGROUP_SIZE + lid] = acc[c];
  }
  workgroupBarrier();
  if (lid < LINEAR_COLS) {
    let n = colBase + lid;
    if (t < rows && n < u.cols) {
      var v = 0.0;
      for (var i = 0u; i < WORKGROUP_SIZE; i++) {
        v += partialSums[lid * WORKGROUP_SIZE + i];
      }
      ${epilogue('t', 'n')}
    }
  }`)}`,
    dispatch: (u) => grid(Math.ceil(u.cols / f.colsPerGroup) * u.capacity),
  };
}
