/** gelu_tanh: y = gelu(x) with PyTorch's tanh approximation, elementwise. */
import { checkShape, elementCount, elementwiseDispatch, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { elementwiseMainWgsl, GELU_TANH_WGSL, WORKGROUP_SIZE } from './wgsl';

export const geluTanhProgram: KernelProgram<'size'> = {
  name: 'gelu_tanh',
  key: 'gelu_tanh',
  workgroupSize: WORKGROUP_SIZE,
  inputs: ['x'],
  outputs: ['y'],
  uniforms: [{ name: 'size', type: 'u32' }],
  main: () => /* wgsl */ `
${GELU_TANH_WGSL}
fn element(i: u32) -> f32 {
  return gelu_tanh(x[i]);
}
${elementwiseMainWgsl('y')}`,
  dispatch: (u) => elementwiseDispatch(u.size),
};

export function geluTanh(rec: CommandRecorder, x: GpuTensor, y: GpuTensor): void {
  checkShape('gelu_tanh', 'y', y, x.shape);
  rec.dispatch(geluTanhProgram, [x], [y], { size: elementCount(x.shape) });
}
