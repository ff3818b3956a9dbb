/** add: y = a + b elementwise (the residual connection). */
import { checkShape, elementCount, elementwiseDispatch, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { elementwiseMainWgsl, WORKGROUP_SIZE } from './wgsl';

export const addProgram: KernelProgram<'size'> = {
  name: 'add',
  key: 'add',
  workgroupSize: WORKGROUP_SIZE,
  inputs: ['a', 'b'],
  outputs: ['y'],
  uniforms: [{ name: 'size', type: 'u32' }],
  main: () => /* wgsl */ `
fn element(i: u32) -> f32 {
  return a[i] + b[i];
}
${elementwiseMainWgsl('y')}`,
  dispatch: (u) => elementwiseDispatch(u.size),
};

export function add(rec: CommandRecorder, a: GpuTensor, b: GpuTensor, y: GpuTensor): void {
  checkShape('add', 'b', b, a.shape);
  checkShape('add', 'y', y, a.shape);
  rec.dispatch(addProgram, [a, b], [y], { size: elementCount(a.shape) });
}
