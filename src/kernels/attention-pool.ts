/**
 * attention_pool: learned queries attend over the tokens, per head. For query n and head p:
 * pooled[n, p] = sum_t softmax_t(q[n, p] . k[t, p] * scale) v[t, p], with keys and values side by side in one
 * [tokens, 2 * dModel] tensor (one projection makes both). One workgroup per (query, head) streams the tokens in
 * chunks of WORKGROUP_SIZE with a running maximum (online softmax), so any number of tokens fits.
 */
import { checkShape, grid, KernelError, matrixShape, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { WORKGROUP_MAX_WGSL, WORKGROUP_SIZE } from './wgsl';

/** Each thread keeps HEAD_DIM_LIMIT / WORKGROUP_SIZE accumulators of the head's output. */
export const HEAD_DIM_LIMIT = 256;

type AttentionPoolUniform = 'queries' | 'heads' | 'headDim' | 'tokens' | 'scale';

export const attentionPoolProgram: KernelProgram<AttentionPoolUniform> = {
  name: 'attention_pool',
  key: 'attention_pool',
  workgroupSize: WORKGROUP_SIZE,
  inputs: ['query', 'keyValue'],
  outputs: ['pooled'],
  uniforms: [
    { name: 'queries', type: 'u32' },
    { name: 'heads', type: 'u32' },
    { name: 'headDim', type: 'u32' },
    { name: 'tokens', type: 'u32' },
    { name: 'scale', type: 'f32' },
  ],
  main: () => /* wgsl */ `
${WORKGROUP_MAX_WGSL}
const HEAD_DIM_LIMIT = ${HEAD_DIM_LIMIT}u;
const DIMS_PER_THREAD = HEAD_DIM_LIMIT / WORKGROUP_SIZE;
var<workgroup> scaledQuery: array<f32, HEAD_DIM_LIMIT>;
var<workgroup> chunkWeights: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) count: vec3u, @builtin(local_invocation_index) lid: u32) {
  let job = flatWorkgroupIndex(wg, count);
  if (job >= u.queries * u.heads) {
    return;
  }
  let dModel = u.heads * u.headDim;
  let headBase = (job % u.heads) * u.headDim;
  let outBase = (job / u.heads) * dModel + headBase;
  for (var d = lid; d < u.headDim; d += WORKGROUP_SIZE) {
    scaledQuery[d] = query[outBase + d] * u.scale;
  }
  workgroupBarrier();

  var runningMax = NEG_LARGE;
  var total = 0.0;
  var acc: array<f32, DIMS_PER_THREAD>;
  for (var t0 = 0u; t0 < u.tokens; t0 += WORKGROUP_SIZE) {
    // Thread lid scores token t0 + lid.
    let t = t0 + lid;
    var score = NEG_LARGE;
    if (t < u.tokens) {
      let keyBase = t * 2u * dModel + headBase;
      score = 0.0;
      for (var d = 0u; d < u.headDim; d++) {
        score += scaledQuery[d] * keyValue[keyBase + d];
      }
    }
    let newMax = max(runningMax, workgroupMax(score, lid));
    let rescale = exp(runningMax - newMax);
    chunkWeights[lid] = exp(score - newMax);
    workgroupBarrier();

    // Then thread lid owns output dimensions lid, lid + WORKGROUP_SIZE, ... and sums the chunk's values.
    let chunk = min(WORKGROUP_SIZE, u.tokens - t0);
    total *= rescale;
    for (var s = 0u; s < chunk; s++) {
      total += chunkWeights[s];
    }
    for (var i = 0u; i < DIMS_PER_THREAD; i++) {
      let d = lid + i * WORKGROUP_SIZE;
      if (d < u.headDim) {
        var sum = acc[i] * rescale;
        for (var s = 0u; s < chunk; s++) {
          sum += chunkWeights[s] * keyValue[(t0 + s) * 2u * dModel + dModel + headBase + d];
        }
        acc[i] = sum;
      }
    }
    runningMax = newMax;
    workgroupBarrier();
  }
  for (var i = 0u; i < DIMS_PER_THREAD; i++) {
    let d = lid + i * WORKGROUP_SIZE;
    if (d < u.headDim) {
      pooled[outBase + d] = acc[i] / total;
    }
  }
}
`,
  dispatch: (u) => grid(u.queries * u.heads),
};

/**
 * query [N, D], keyValue [T, 2D] (keys in columns [0, D), values in [D, 2D)) -> pooled [N, D], heads concatenated;
 * scores are scaled by 1/sqrt(D / heads).
 */
export function attentionPool(rec: CommandRecorder, query: GpuTensor, keyValue: GpuTensor, pooled: GpuTensor, heads: number): void {
  const [queries, dModel] = matrixShape('attention_pool', 'query', query);
  const [tokens] = matrixShape('attention_pool', 'keyValue', keyValue);
  checkShape('attention_pool', 'keyValue', keyValue, [tokens, 2 * dModel]);
  checkShape('attention_pool', 'pooled', pooled, [queries, dModel]);
  const headDim = dModel / heads;
  if (!Number.isInteger(headDim) || headDim > HEAD_DIM_LIMIT) {
    throw new KernelError(`attention_pool: ${heads} heads over ${dModel} features give head dim ${headDim}; it must be a whole number up to ${HEAD_DIM_LIMIT}`);
  }
  if (tokens === 0) throw new KernelError('attention_pool: no tokens to attend over');
  rec.dispatch(attentionPoolProgram, [query, keyValue], [pooled], { queries, heads, headDim, tokens, scale: 1 / Math.sqrt(headDim) });
}
