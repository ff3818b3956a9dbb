/** argmax_partial: the first stage of the token choice (greedy or sampled), one slice of the logits per workgroup. */
import { grid, type KernelProgram } from '../../gpu';
import { WORKGROUP_SIZE } from '../../wgsl';
import { flatMain } from './common';

type ArgmaxUniform = 'size' | 'perGroup';

/** Tree reduction of (value, index) pairs over the workgroup into values[0], indices[0]; ties to the lowest index. */
export const REDUCE_BEST_WGSL = /* wgsl */ `
var<workgroup> values: array<f32, WORKGROUP_SIZE>;
var<workgroup> indices: array<u32, WORKGROUP_SIZE>;
fn reduceBest(best: f32, bestAt: u32, lid: u32) {
  values[lid] = best;
  indices[lid] = bestAt;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let v = values[lid + stride];
      let at = indices[lid + stride];
      if (v > values[lid] || (v == values[lid] && at < indices[lid])) {
        values[lid] = v;
        indices[lid] = at;
      }
    }
    workgroupBarrier();
  }
}
`;

/** A PCG hash to a uniform float in (0, 1): the Gumbel noise of sampling, from (seed, index). */
const RANDOM_WGSL = /* wgsl */ `
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn uniform01(seed: u32, i: u32) -> f32 {
  return (f32(pcg(pcg(i) ^ seed) >> 8u) + 0.5) / 16777216.0;
}
`;

/**
 * First stage of the token choice: each workgroup finds the best (value, index) of its slice of the logits.
 * Greedy: value = logit. Sampling at temperature T: value = logit / T + Gumbel noise, whose argmax is a draw
 * from softmax(logit / T). Ties go to the lowest index, as torch.argmax.
 */
export function argmaxPartialProgram(): KernelProgram<ArgmaxUniform> {
  return {
    name: 'argmax_partial',
    key: 'argmax_partial',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['logits', 'counters'],
    outputs: ['bestValue', 'bestIndex'],
    types: { counters: 'u32', bestIndex: 'u32' },
    uniforms: [
      { name: 'size', type: 'u32' },
      { name: 'perGroup', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${RANDOM_WGSL}
${REDUCE_BEST_WGSL}
${flatMain(/* wgsl */ `
  let temperature = bitcast<f32>(counters[3]);
  let begin = group * u.perGroup;
  let end = min(begin + u.perGroup, u.size);
  var best = NEG_LARGE;
  var bestAt = 0xffffffffu;
  for (var i = begin + lid; i < end; i += WORKGROUP_SIZE) {
    var v = logits[i];
    if (temperature > 0.0) {
      v = v / temperature - log(-log(uniform01(counters[2], i)));
    }
    if (v > best) {
      best = v;
      bestAt = i;
    }
  }
  reduceBest(best, bestAt, lid);
  if (lid == 0u) {
    bestValue[group] = values[0];
    bestIndex[group] = indices[0];
  }`)}`,
    dispatch: (u) => grid(Math.ceil(u.size / u.perGroup)),
  };
}
