/** linear: y = act(x W^T + b) with W in nn.Linear's [out, in] layout, on the tiled matrix product. */
import { checkShape, gemmDispatch, matrixShape, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { GELU_TANH_WGSL, GEMM_WGSL, WORKGROUP_SIZE } from './wgsl';

export type LinearActivation = 'none' | 'gelu_tanh';

/** Compile-time form of the kernel: each combination is its own cached pipeline. */
export interface LinearOptions {
  bias: boolean;
  /** Applied after the bias in the same pass (fc1 of the hypernetwork's MLP). */
  activation: LinearActivation;
}

type LinearUniform = 'rows' | 'cols' | 'depth';

export function linearProgram({ bias, activation }: LinearOptions): KernelProgram<LinearUniform> {
  return {
    name: 'linear',
    key: `linear:${bias ? 'bias' : 'nobias'}:${activation}`,
    workgroupSize: WORKGROUP_SIZE,
    inputs: bias ? ['x', 'weight', 'bias'] : ['x', 'weight'],
    outputs: ['y'],
    uniforms: [
      { name: 'rows', type: 'u32' },
      { name: 'cols', type: 'u32' },
      { name: 'depth', type: 'u32' },
    ],
    main: () => /* wgsl */ `
${activation === 'gelu_tanh' ? GELU_TANH_WGSL : ''}
fn loadX(row: u32, k: u32) -> f32 {
  return x[row * u.depth + k];
}

fn loadW(col: u32, k: u32) -> f32 {
  return weight[col * u.depth + k];
}

fn storeY(row: u32, col: u32, acc: f32) {
  var v = acc${bias ? ' + bias[col]' : ''};
  ${activation === 'gelu_tanh' ? 'v = gelu_tanh(v);' : ''}
  y[row * u.cols + col] = v;
}
${GEMM_WGSL}`,
    dispatch: (u) => gemmDispatch(u.rows, u.cols),
  };
}

/** x [rows, in], weight [out, in], bias [out] or null -> y [rows, out]. */
export function linear(
  rec: CommandRecorder,
  x: GpuTensor,
  weight: GpuTensor,
  bias: GpuTensor | null,
  y: GpuTensor,
  activation: LinearActivation = 'none',
): void {
  const [rows, depth] = matrixShape('linear', 'x', x);
  const [cols] = matrixShape('linear', 'weight', weight);
  checkShape('linear', 'weight', weight, [cols, depth]);
  if (bias) checkShape('linear', 'bias', bias, [cols]);
  checkShape('linear', 'y', y, [rows, cols]);
  const program = linearProgram({ bias: bias !== null, activation });
  rec.dispatch(program, bias ? [x, weight, bias] : [x, weight], [y], { rows, cols, depth });
}
