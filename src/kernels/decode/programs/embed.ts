/** embed: the token embedding lookup of a chunk's rows. */
import { grid, type KernelProgram } from '../../gpu';
import { WORKGROUP_SIZE } from '../../wgsl';
import { flatMain, STEP_WGSL } from './common';

export type EmbedForm = 'f32' | 'q8';
type EmbedUniform = 'capacity' | 'hidden' | 'blocks' | 'scale';

/** x[t] = table[ids[t]] * scale, the table in f32 or 8-bit symmetric blocks. */
export function embedProgram(form: EmbedForm): KernelProgram<EmbedUniform> {
  const lookup =
    form === 'f32'
      ? 'table[id * u.hidden + h]'
      : '(f32((codes[(id * u.hidden + h) / 4u] >> (8u * (h % 4u))) & 0xffu) - 128.0) * scales[id * u.blocks + h / 32u]';
  return {
    name: 'embed',
    key: `embed:${form}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs: [...(form === 'f32' ? ['table'] : ['codes', 'scales']), 'ids', 'counters'],
    outputs: ['x'],
    types: { codes: 'u32', ids: 'u32', counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'hidden', type: 'u32' },
      { name: 'blocks', type: 'u32' },
      { name: 'scale', type: 'f32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${flatMain(/* wgsl */ `
  let i = group * WORKGROUP_SIZE + lid;
  let t = i / u.hidden;
  let h = i % u.hidden;
  if (t < stepRows()) {
    let id = ids[t];
    x[i] = ${lookup} * u.scale;
  }`)}`,
    dispatch: (u) => grid(Math.ceil((u.capacity * u.hidden) / WORKGROUP_SIZE)),
  };
}
