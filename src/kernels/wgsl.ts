/**
 * WGSL shared by the kernels: constants, generated binding declarations, workgroup reductions, GELU and the tiled
 * matrix product. Kernels include these snippets; none of them is pasted into a kernel file.
 */

/** Threads per workgroup: 64 fills two 32-wide warps or one 64-wide wavefront. */
export const WORKGROUP_SIZE = 64;
/** Output tile side of the matrix product: 8x8 threads, each computing a 4x4 block. */
export const GEMM_TILE = 32;

export type UniformType = 'u32' | 'f32';
/** Element type of a storage binding: f32 tensors, or u32 words (packed quantized codes, token ids, step counters). */
export type StorageType = 'f32' | 'u32';

export interface UniformField<U extends string = string> {
  name: U;
  type: UniformType;
}

/** Written before every kernel: the constants the snippets below rely on. */
export const PRELUDE_WGSL = /* wgsl */ `
const WORKGROUP_SIZE = ${WORKGROUP_SIZE}u;
// Stands in for -inf: WGSL has no infinity literal, and exp(NEG_LARGE - m) is exactly 0.
const NEG_LARGE = -3.0e38;

// A dispatch wider than the 65535-workgroup limit is folded into y (see grid() in gpu.ts).
fn flatWorkgroupIndex(wg: vec3u, count: vec3u) -> u32 {
  return wg.y * count.x + wg.x;
}
`;

/** Bindings in the fixed order inputs -> outputs -> uniforms, as the bind-group layout in gpu.ts expects. */
export function bindingsWgsl(
  inputs: readonly string[],
  outputs: readonly string[],
  uniforms: readonly UniformField[],
  types: Readonly<Record<string, StorageType>> = {},
): string {
  const lines = [
    ...inputs.map((name, i) => `@group(0) @binding(${i}) var<storage, read> ${name}: array<${types[name] ?? 'f32'}>;`),
    ...outputs.map((name, i) => `@group(0) @binding(${inputs.length + i}) var<storage, read_write> ${name}: array<${types[name] ?? 'f32'}>;`),
  ];
  if (uniforms.length > 0) {
    lines.push(`struct Uniforms {\n${uniforms.map((f) => `  ${f.name}: ${f.type},`).join('\n')}\n}`);
    lines.push(`@group(0) @binding(${inputs.length + outputs.length}) var<uniform> u: Uniforms;`);
  }
  return lines.join('\n');
}

function workgroupReduce(name: string, combine: string): string {
  return /* wgsl */ `
var<workgroup> ${name}Scratch: array<f32, WORKGROUP_SIZE>;

// Every thread of the workgroup must call this (it has barriers); all get the result.
fn ${name}(value: f32, lid: u32) -> f32 {
  ${name}Scratch[lid] = value;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride >>= 1u) {
    if (lid < stride) {
      let a = ${name}Scratch[lid];
      let b = ${name}Scratch[lid + stride];
      ${name}Scratch[lid] = ${combine};
    }
    workgroupBarrier();
  }
  let result = ${name}Scratch[0];
  // The scratch is reused by the next call: nobody may overwrite it before all have read.
  workgroupBarrier();
  return result;
}
`;
}

/** `workgroupSum(value, lid)`: tree sum over the workgroup. */
export const WORKGROUP_SUM_WGSL = workgroupReduce('workgroupSum', 'a + b');
/** `workgroupMax(value, lid)`: tree maximum over the workgroup. */
export const WORKGROUP_MAX_WGSL = workgroupReduce('workgroupMax', 'max(a, b)');

/** PyTorch's gelu(approximate="tanh"). */
export const GELU_TANH_WGSL = /* wgsl */ `
fn gelu_tanh(x: f32) -> f32 {
  // tanh saturates to +-1 in f32 beyond |10|; clamping keeps exp-based tanh implementations away from inf / inf.
  let inner = clamp(0.7978845608028654 * (x + 0.044715 * x * x * x), -10.0, 10.0);
  return 0.5 * x * (1.0 + tanh(inner));
}
`;

/**
 * One thread per element of a flat output: the kernel defines `fn element(i: u32) -> f32` and a `size` uniform.
 * Dispatch with elementwiseDispatch(size).
 */
export function elementwiseMainWgsl(output: string): string {
  return /* wgsl */ `
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) count: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flatWorkgroupIndex(wg, count) * WORKGROUP_SIZE + lid;
  if (i < u.size) {
    ${output}[i] = element(i);
  }
}
`;
}

/**
 * Tiled matrix product Y[rows, cols] = X[rows, depth] . W[cols, depth]^T, both operands depth-contiguous (the
 * nn.Linear layout). The kernel defines the uniforms rows, cols, depth and the hooks
 * `fn loadX(row, k) -> f32`, `fn loadW(col, k) -> f32` and `fn storeY(row, col, acc)`: the epilogue (bias,
 * activation, scattered writes) lives in storeY. Dispatch with gemmDispatch(rows, cols).
 */
export const GEMM_WGSL = /* wgsl */ `
const GEMM_TILE = ${GEMM_TILE}u;
const GEMM_DEPTH = 16u;
const GEMM_THREADS_PER_SIDE = 8u;
const GEMM_PER_THREAD = 4u;
// Rows of a staged tile are padded by one float so that threads reading down a column hit different banks.
const GEMM_STRIDE = GEMM_DEPTH + 1u;
var<workgroup> gemmX: array<f32, GEMM_TILE * GEMM_STRIDE>;
var<workgroup> gemmW: array<f32, GEMM_TILE * GEMM_STRIDE>;

@compute @workgroup_size(GEMM_THREADS_PER_SIDE, GEMM_THREADS_PER_SIDE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) local: vec3u, @builtin(local_invocation_index) lid: u32) {
  let rowBase = wg.y * GEMM_TILE;
  let colBase = wg.x * GEMM_TILE;
  var acc: array<f32, GEMM_PER_THREAD * GEMM_PER_THREAD>;
  for (var k0 = 0u; k0 < u.depth; k0 += GEMM_DEPTH) {
    // Stage a [GEMM_TILE, GEMM_DEPTH] slice of X and of W, zero outside the matrices.
    for (var i = lid; i < GEMM_TILE * GEMM_DEPTH; i += WORKGROUP_SIZE) {
      let r = i / GEMM_DEPTH;
      let k = k0 + i % GEMM_DEPTH;
      let slot = r * GEMM_STRIDE + i % GEMM_DEPTH;
      var xv = 0.0;
      if (rowBase + r < u.rows && k < u.depth) {
        xv = loadX(rowBase + r, k);
      }
      gemmX[slot] = xv;
      var wv = 0.0;
      if (colBase + r < u.cols && k < u.depth) {
        wv = loadW(colBase + r, k);
      }
      gemmW[slot] = wv;
    }
    workgroupBarrier();
    for (var k = 0u; k < GEMM_DEPTH; k++) {
      for (var i = 0u; i < GEMM_PER_THREAD; i++) {
        let xv = gemmX[(local.y + GEMM_THREADS_PER_SIDE * i) * GEMM_STRIDE + k];
        for (var j = 0u; j < GEMM_PER_THREAD; j++) {
          acc[i * GEMM_PER_THREAD + j] += xv * gemmW[(local.x + GEMM_THREADS_PER_SIDE * j) * GEMM_STRIDE + k];
        }
      }
    }
    workgroupBarrier();
  }
  // Threads own interleaved rows and columns (stride 8), so neighbouring threads write neighbouring columns.
  for (var i = 0u; i < GEMM_PER_THREAD; i++) {
    let row = rowBase + local.y + GEMM_THREADS_PER_SIDE * i;
    for (var j = 0u; j < GEMM_PER_THREAD; j++) {
      let col = colBase + local.x + GEMM_THREADS_PER_SIDE * j;
      if (row < u.rows && col < u.cols) {
        storeY(row, col, acc[i * GEMM_PER_THREAD + j]);
      }
    }
  }
}
`;
