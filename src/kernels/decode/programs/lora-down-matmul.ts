/** lora_down_matmul: the adapter's down-projection of a prefill chunk, on the tiled matrix product. */
import { gemmDispatch, type KernelProgram } from '../../gpu';
import { GEMM_WGSL, WORKGROUP_SIZE } from '../../wgsl';

type LoraDownMatmulUniform = 'rows' | 'cols' | 'depth' | 'layer';

/** The prefill form of loraDownProgram on the tiled matrix product: xa [rows, R] = x [rows, K] A[layer] [K, R]. */
export function loraDownMatmulProgram(): KernelProgram<LoraDownMatmulUniform> {
  return {
    name: 'lora_down_matmul',
    key: 'lora_down_matmul',
    workgroupSize: WORKGROUP_SIZE,
    inputs: ['x', 'loraA'],
    outputs: ['xa'],
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'depth', type: 'u32' },
      { name: 'layer', type: 'u32' },
    ],
    main: () => /* wgsl */ `
fn loadX(row: u32, k: u32) -> f32 {
  return x[row * u.depth + k];
}
fn loadW(col: u32, k: u32) -> f32 {
  return loraA[(u.layer * u.depth + k) * u.cols + col];
}
fn storeY(row: u32, col: u32, acc: f32) {
  xa[row * u.cols + col] = acc;
}
${GEMM_WGSL}`,
    dispatch: (u) => gemmDispatch(u.rows, u.cols),
  };
}
