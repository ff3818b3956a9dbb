/** rope: QK-norm and rotary embedding of the new rows, and their write into the KV cache. */
import { grid, type KernelProgram } from '../../gpu';
import { WORKGROUP_SIZE, WORKGROUP_SUM_WGSL } from '../../wgsl';
import { flatMain, MAX_HEAD_DIM, ROW_HEAD_WGSL, STEP_WGSL } from './common';

export type RopeMode = 'q' | 'k' | 'v';
type RopeUniform = 'capacity' | 'heads' | 'headDim' | 'layer' | 'maxContext' | 'eps' | 'offset';

/**
 * Per (row, head): optional QK-norm, then rotary embedding (halfDim-split layout, cos/sin tables [positions, headDim/2]).
 * q: in place in `q`; k: normed and rotated into the key cache; v: copied into the value cache.
 * Caches are [layers, kvHeads, maxContext, headDim].
 */
export function ropeProgram(mode: RopeMode, qkNorm: boolean): KernelProgram<RopeUniform> {
  const norm = qkNorm && mode !== 'v';
  const inputs = [...(mode === 'q' ? [] : ['src']), ...(norm ? ['normWeight'] : []), ...(mode === 'v' ? [] : ['cosTable', 'sinTable']), 'counters'];
  const output = mode === 'q' ? 'q' : 'cache';
  const source = mode === 'q' ? 'q' : 'src';
  return {
    name: 'rope',
    key: `rope:${mode}:${norm ? 'norm' : 'nonorm'}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs,
    outputs: [output],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'heads', type: 'u32' },
      { name: 'headDim', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'maxContext', type: 'u32' },
      { name: 'eps', type: 'f32' },
      { name: 'offset', type: 'f32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
var<workgroup> headVec: array<f32, ${MAX_HEAD_DIM}>;
${flatMain(/* wgsl */ `
${ROW_HEAD_WGSL}
  let base = (row * u.heads + head) * u.headDim;
  var sumSquares = 0.0;
  for (var i = lid; i < u.headDim; i += WORKGROUP_SIZE) {
    let v = ${source}[base + i];
    headVec[i] = v;
    sumSquares += v * v;
  }
  ${norm ? 'let inverseRms = 1.0 / sqrt(workgroupSum(sumSquares, lid) / f32(u.headDim) + u.eps);' : 'workgroupBarrier();'}
  let halfDim = u.headDim / 2u;
  ${mode === 'q' ? '' : 'let dst = ((u.layer * u.heads + head) * u.maxContext + pos) * u.headDim;'}
  for (var i = lid; i < ${mode === 'v' ? 'u.headDim' : 'halfDim'} && live; i += WORKGROUP_SIZE) {
    ${
      mode === 'v'
        ? 'cache[dst + i] = headVec[i];'
        : /* wgsl */ `var a = headVec[i];
    var b = headVec[i + halfDim];
    ${norm ? 'a = a * inverseRms * (normWeight[i] + u.offset);\n    b = b * inverseRms * (normWeight[i + halfDim] + u.offset);' : ''}
    let c = cosTable[pos * halfDim + i];
    let s = sinTable[pos * halfDim + i];
    ${mode === 'q' ? 'q[base + i]' : 'cache[dst + i]'} = a * c - b * s;
    ${mode === 'q' ? 'q[base + i + halfDim]' : 'cache[dst + i + halfDim]'} = b * c + a * s;`
    }
  }`)}`,
    dispatch: (u) => grid(u.capacity * u.heads),
  };
}
