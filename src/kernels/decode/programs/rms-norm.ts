/**
 * rms_norm: x / sqrt(mean(x^2) + eps) * (weight + offset) over the last dimension, one workgroup per row. One
 * program for the decoder (rows from the step counters, three modes, optional fused LoRA down-projections) and the
 * hypernetwork (rowSource 'uniform': every row of the `capacity` uniform, offset 0).
 */
import { grid, KernelError, type KernelProgram } from '../../gpu';
import { WORKGROUP_SIZE, WORKGROUP_SUM_WGSL } from '../../wgsl';
import { flatMain, STEP_WGSL, type RowSource } from './common';

/**
 * rows: y[t] = norm(x[t]); last: y[0] = norm(x[T - 1]) (before the LM head); add: y[t] += norm(x[t]) (Gemma's
 * norms after attention and MLP, added to the residual stream).
 */
export type NormMode = 'rows' | 'last' | 'add';
export type NormUniform = 'capacity' | 'dim' | 'eps' | 'offset' | 'rank' | 'layer';

export interface NormForm {
  mode: NormMode;
  /**
   * With `loraDowns` = n (rows mode), the same dispatch also computes the adapters' down-projections of the normed
   * row for n modules that read it (q and v after the input norm): xa_i[t] = y[t] A_i[layer], A_i [layers, dim, rank].
   */
  loraDowns: number;
  rowSource: RowSource;
}

export function rmsNormProgram({ mode, loraDowns, rowSource }: NormForm): KernelProgram<NormUniform> {
  if (loraDowns > 0 && mode !== 'rows') throw new KernelError('rms_norm_rows: LoRA down-projections need the rows mode');
  if (rowSource === 'uniform' && (mode !== 'rows' || loraDowns > 0)) throw new KernelError('rms_norm: uniform rows are for the plain rows mode');
  const step = rowSource === 'step';
  const out = mode === 'last' ? 'y[i]' : 'y[t * u.dim + i]';
  const modules = Array.from({ length: loraDowns }, (_, i) => i);
  const downs = /* wgsl */ `
  // This workgroup's own writes of y are read back below.
  storageBarrier();
  workgroupBarrier();
  for (var j = lid; j < u.rank; j += WORKGROUP_SIZE) {
    ${modules.map((i) => `var sum${i} = 0.0;`).join(' ')}
    for (var k = 0u; k < u.dim; k++) {
      let v = y[t * u.dim + k];
      ${modules.map((i) => `sum${i} += v * loraA${i}[(u.layer * u.dim + k) * u.rank + j];`).join('\n      ')}
    }
    if (live) {
      ${modules.map((i) => `xa${i}[t * u.rank + j] = sum${i};`).join('\n      ')}
    }
  }`;
  return {
    name: step ? 'rms_norm_rows' : 'rms_norm',
    key: `rms_norm:${rowSource}:${mode}:${loraDowns}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['x', 'weight', ...(step ? ['counters'] : []), ...modules.map((i) => `loraA${i}`)],
    outputs: ['y', ...modules.map((i) => `xa${i}`)],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'dim', type: 'u32' },
      { name: 'eps', type: 'f32' },
      { name: 'offset', type: 'f32' },
      { name: 'rank', type: 'u32' },
      { name: 'layer', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${step ? STEP_WGSL : ''}
${WORKGROUP_SUM_WGSL}
${flatMain(/* wgsl */ `
  let rows = ${step ? 'stepRows()' : 'u.capacity'};
  let live = ${mode === 'last' ? 'rows > 0u' : 'group < rows'};
  let t = ${mode === 'last' ? 'max(rows, 1u) - 1u' : 'select(0u, group, live)'};
  var sumSquares = 0.0;
  for (var i = lid; i < u.dim; i += WORKGROUP_SIZE) {
    let v = x[t * u.dim + i];
    sumSquares += v * v;
  }
  let inverseRms = 1.0 / sqrt(workgroupSum(sumSquares, lid) / f32(u.dim) + u.eps);
  if (live) {
    for (var i = lid; i < u.dim; i += WORKGROUP_SIZE) {
      ${out} ${mode === 'add' ? '+=' : '='} x[t * u.dim + i] * inverseRms * (weight[i] + u.offset);
    }
  }${loraDowns > 0 ? downs : ''}`)}`,
    dispatch: (u) => grid(mode === 'last' ? 1 : u.capacity),
  };
}

/** The decoder's form: rows from the step counters. */
export function rmsNormRowsProgram(mode: NormMode, loraDowns = 0): KernelProgram<NormUniform> {
  return rmsNormProgram({ mode, loraDowns, rowSource: 'step' });
}
