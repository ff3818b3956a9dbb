/** lora_down: the adapter's down-projection of one decode row. */
import { grid, type KernelProgram } from '../../gpu';
import { WORKGROUP_SIZE, WORKGROUP_SUM_WGSL } from '../../wgsl';
import { flatMain, STEP_WGSL } from './common';

type LoraDownUniform = 'capacity' | 'depth' | 'rank' | 'layer';

/** xa[t, r] = sum_k x[t, k] A[layer, k, r]: the adapter's down-projection, one workgroup per (row, r). */
export function loraDownProgram(): KernelProgram<LoraDownUniform> {
  return {
    name: 'lora_down',
    key: 'lora_down',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['x', 'loraA', 'counters'],
    outputs: ['xa'],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'rank', type: 'u32' },
      { name: 'layer', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
${flatMain(/* wgsl */ `
  let t = group / u.rank;
  let j = group % u.rank;
  let live = t < stepRows();
  let row = select(0u, t, live);
  var sum = 0.0;
  for (var k = lid; k < u.depth; k += WORKGROUP_SIZE) {
    sum += x[row * u.depth + k] * loraA[(u.layer * u.depth + k) * u.rank + j];
  }
  let total = workgroupSum(sum, lid);
  if (lid == 0u && live) {
    xa[t * u.rank + j] = total;
  }`)}`,
    dispatch: (u) => grid(u.capacity * u.rank),
  };
}
