/** attention: causal grouped-query attention of the new rows over the KV cache. */
import { grid, type KernelProgram } from '../../gpu';
import { WORKGROUP_MAX_WGSL, WORKGROUP_SIZE, WORKGROUP_SUM_WGSL } from '../../wgsl';
import { flatMain, MAX_HEAD_DIM, ROW_HEAD_WGSL, STEP_WGSL } from './common';

type AttentionUniform = 'capacity' | 'heads' | 'kvHeads' | 'headDim' | 'layer' | 'maxContext' | 'window' | 'scale';

/**
 * Causal grouped-query attention of each new row over the cache, one workgroup per (row, head): scores into a
 * scratch row, max, exp and sum across the workgroup, then the weighted values. window > 0: a sliding window
 * (keys at positions > pos - window only), Gemma 3's local layers.
 */
export function attentionProgram(): KernelProgram<AttentionUniform> {
  return {
    name: 'attention',
    key: 'attention',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['q', 'keys', 'values', 'counters'],
    outputs: ['attended', 'scores'],
    types: { counters: 'u32' },
    uniforms: [
      { name: 'capacity', type: 'u32' },
      { name: 'heads', type: 'u32' },
      { name: 'kvHeads', type: 'u32' },
      { name: 'headDim', type: 'u32' },
      { name: 'layer', type: 'u32' },
      { name: 'maxContext', type: 'u32' },
      { name: 'window', type: 'u32' },
      { name: 'scale', type: 'f32' },
    ],
    main: () => /* wgsl */ `
${STEP_WGSL}
${WORKGROUP_SUM_WGSL}
${WORKGROUP_MAX_WGSL}
var<workgroup> query: array<f32, ${MAX_HEAD_DIM}>;
${flatMain(/* wgsl */ `
${ROW_HEAD_WGSL}
  var firstKey = 0u;
  if (u.window > 0u && pos + 1u > u.window) { firstKey = pos + 1u - u.window; }
  let kvHead = head / (u.heads / u.kvHeads);
  let cacheBase = (u.layer * u.kvHeads + kvHead) * u.maxContext;
  let qBase = (row * u.heads + head) * u.headDim;
  let scoreBase = group * u.maxContext;
  for (var i = lid; i < u.headDim; i += WORKGROUP_SIZE) {
    query[i] = q[qBase + i];
  }
  workgroupBarrier();
  var localMax = NEG_LARGE;
  for (var j = firstKey + lid; j <= pos; j += WORKGROUP_SIZE) {
    var s = 0.0;
    let kBase = (cacheBase + j) * u.headDim;
    for (var d = 0u; d < u.headDim; d++) {
      s += query[d] * keys[kBase + d];
    }
    s *= u.scale;
    scores[scoreBase + j] = s;
    localMax = max(localMax, s);
  }
  let m = workgroupMax(localMax, lid);
  var localSum = 0.0;
  for (var j = firstKey + lid; j <= pos; j += WORKGROUP_SIZE) {
    let p = exp(scores[scoreBase + j] - m);
    scores[scoreBase + j] = p;
    localSum += p;
  }
  let sum = workgroupSum(localSum, lid);
  // Other threads' probabilities are read below: make their storage writes visible.
  storageBarrier();
  workgroupBarrier();
  for (var d = lid; d < u.headDim; d += WORKGROUP_SIZE) {
    var acc = 0.0;
    for (var j = firstKey; j <= pos; j++) {
      acc += scores[scoreBase + j] * values[(cacheBase + j) * u.headDim + d];
    }
    if (live) {
      attended[qBase + d] = acc / sum;
    }
  }`)}`,
    dispatch: (u) => grid(u.capacity * u.heads),
  };
}
