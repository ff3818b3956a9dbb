/**
 * lora_head_write: one hypernetwork head (an nn.Linear from d_model to headRows * headCols) applied to the pooled
 * vector of every layer's target, each result viewed as a [headRows, headCols] matrix, scaled and written into a
 * stacked [layers, dstRows, dstCols] tensor at (rowOffset, colOffset). This writes LoRA A [in, r] into the columns
 * of one slot of A [layers, in, slots * r], and B [r, out] into the rows of one slot of B [layers, slots * r, out],
 * straight from the heads, on the tiled matrix product.
 */
import { checkShape, gemmDispatch, KernelError, matrixShape, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { GEMM_WGSL, WORKGROUP_SIZE } from './wgsl';

type LoraHeadUniform =
  | 'rows' | 'cols' | 'depth' | 'targetStride' | 'targetOffset' | 'headCols' | 'dstRows' | 'dstCols' | 'rowOffset' | 'colOffset' | 'scale';

export const loraHeadWriteProgram: KernelProgram<LoraHeadUniform> = {
  name: 'lora_head_write',
  key: 'lora_head_write',
  workgroupSize: WORKGROUP_SIZE,
  inputs: ['pooled', 'weight', 'bias'],
  outputs: ['dst'],
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'cols', type: 'u32' },
    { name: 'depth', type: 'u32' },
    { name: 'targetStride', type: 'u32' },
    { name: 'targetOffset', type: 'u32' },
    { name: 'headCols', type: 'u32' },
    { name: 'dstRows', type: 'u32' },
    { name: 'dstCols', type: 'u32' },
    { name: 'rowOffset', type: 'u32' },
    { name: 'colOffset', type: 'u32' },
    { name: 'scale', type: 'f32' },
  ],
  // Matrix-product rows are layers: layer l reads target l * targetStride + targetOffset (layer-major targets).
  main: () => /* wgsl */ `
fn loadX(row: u32, k: u32) -> f32 {
  return pooled[(row * u.targetStride + u.targetOffset) * u.depth + k];
}

fn loadW(col: u32, k: u32) -> f32 {
  return weight[col * u.depth + k];
}

fn storeY(row: u32, col: u32, acc: f32) {
  let i = u.rowOffset + col / u.headCols;
  let j = u.colOffset + col % u.headCols;
  dst[(row * u.dstRows + i) * u.dstCols + j] = (acc + bias[col]) * u.scale;
}
${GEMM_WGSL}`,
  dispatch: (u) => gemmDispatch(u.rows, u.cols),
};

export interface LoraHeadTarget {
  /** Number of modules per layer, and this head's module index: pooled row = layer * modules + module. */
  modules: number;
  module: number;
  /** The head's output viewed as [headRows, headCols]. */
  headRows: number;
  headCols: number;
  /** Where the matrix goes inside each layer of dst. */
  rowOffset: number;
  colOffset: number;
  scale: number;
}

/** pooled [layers * modules, D], weight [headRows * headCols, D], bias [headRows * headCols] -> dst [layers, R, C]. */
export function loraHeadWrite(rec: CommandRecorder, pooled: GpuTensor, weight: GpuTensor, bias: GpuTensor, dst: GpuTensor, target: LoraHeadTarget): void {
  const { modules, module, headRows, headCols, rowOffset, colOffset, scale } = target;
  const [targets, depth] = matrixShape('lora_head_write', 'pooled', pooled);
  const layers = targets / modules;
  if (!Number.isInteger(layers) || module >= modules) {
    throw new KernelError(`lora_head_write: ${targets} pooled targets do not hold module ${module} of ${modules} per layer`);
  }
  const cols = headRows * headCols;
  checkShape('lora_head_write', 'weight', weight, [cols, depth]);
  checkShape('lora_head_write', 'bias', bias, [cols]);
  if (dst.shape.length !== 3 || dst.shape[0] !== layers) {
    throw new KernelError(`lora_head_write: dst has shape [${dst.shape.join(', ')}], expected [${layers}, rows, cols]`);
  }
  const [, dstRows, dstCols] = dst.shape;
  if (rowOffset + headRows > dstRows || colOffset + headCols > dstCols) {
    throw new KernelError(`lora_head_write: a [${headRows}, ${headCols}] block at (${rowOffset}, ${colOffset}) does not fit in [${dstRows}, ${dstCols}]`);
  }
  rec.dispatch(loraHeadWriteProgram, [pooled, weight, bias], [dst], {
    rows: layers, cols, depth, targetStride: modules, targetOffset: module, headCols, dstRows, dstCols, rowOffset, colOffset, scale,
  });
}
