/** linear: y = act(x W^T + b) with W in nn.Linear's [out, in] layout, on the tiled matrix product. */
import { checkShape, matrixShape, type CommandRecorder, type GpuTensor } from './gpu';
import { fusedMatmulProgram } from './decode/programs/fused-matmul';

export type LinearActivation = 'none' | 'gelu_tanh';

/** x [rows, in], weight [out, in], bias [out] or null -> y [rows, out]: the decoder's fused matmul on f32 weights, every row stored. */
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
  const program = fusedMatmulProgram({
    format: 'f32',
    bias: bias !== null,
    lora: false,
    // fc1 of the hypernetwork's MLP applies gelu after the bias, in the same pass.
    epilogue: activation === 'gelu_tanh' ? 'activate' : 'store',
    activation: 'gelu_tanh',
    rowSource: 'uniform',
  });
  rec.dispatch(program, bias ? [x, weight, bias] : [x, weight], [y], { rows, cols, depth, blocks: 0, layer: 0, rank: 0 });
}
