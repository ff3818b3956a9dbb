/** argmax_final: the second stage of the token choice, the partial bests reduced to the token id. */
import type { KernelProgram, WorkgroupCount } from '../../gpu';
import { WORKGROUP_SIZE } from '../../wgsl';
import { REDUCE_BEST_WGSL } from './argmax-partial';

type ArgmaxFinalUniform = 'groups';

/** Second stage: one workgroup reduces the partial bests to the token id. */
export function argmaxFinalProgram(): KernelProgram<ArgmaxFinalUniform> {
  return {
    name: 'argmax_final',
    key: 'argmax_final',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['bestValue', 'bestIndex'],
    outputs: ['token'],
    types: { bestIndex: 'u32', token: 'u32' },
    uniforms: [{ name: 'groups', type: 'u32' }],
    main: () => /* wgsl */ `
${REDUCE_BEST_WGSL}
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) lid: u32) {
  var best = NEG_LARGE;
  var bestAt = 0xffffffffu;
  for (var i = lid; i < u.groups; i += WORKGROUP_SIZE) {
    let v = bestValue[i];
    let at = bestIndex[i];
    if (v > best || (v == best && at < bestAt)) {
      best = v;
      bestAt = at;
    }
  }
  reduceBest(best, bestAt, lid);
  if (lid == 0u) {
    token[0] = indices[0];
  }
}`,
    dispatch: (): WorkgroupCount => [1, 1, 1],
  };
}
