/** rms_norm: y = x / sqrt(mean(x^2) + eps) * weight over the last dimension, one workgroup per row. */
import { checkShape, grid, matrixShape, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { WORKGROUP_SIZE, WORKGROUP_SUM_WGSL } from './wgsl';

type RmsNormUniform = 'rows' | 'cols' | 'eps';

export const rmsNormProgram: KernelProgram<RmsNormUniform> = {
  name: 'rms_norm',
  key: 'rms_norm',
  workgroupSize: WORKGROUP_SIZE,
  inputs: ['x', 'weight'],
  outputs: ['y'],
  uniforms: [
    { name: 'rows', type: 'u32' },
    { name: 'cols', type: 'u32' },
    { name: 'eps', type: 'f32' },
  ],
  main: () => /* wgsl */ `
${WORKGROUP_SUM_WGSL}
@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) count: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = flatWorkgroupIndex(wg, count);
  if (row >= u.rows) {
    return;
  }
  let base = row * u.cols;
  var sumSquares = 0.0;
  for (var i = lid; i < u.cols; i += WORKGROUP_SIZE) {
    let v = x[base + i];
    sumSquares += v * v;
  }
  let inverseRms = 1.0 / sqrt(workgroupSum(sumSquares, lid) / f32(u.cols) + u.eps);
  for (var i = lid; i < u.cols; i += WORKGROUP_SIZE) {
    y[base + i] = x[base + i] * inverseRms * weight[i];
  }
}
`,
  dispatch: (u) => grid(u.rows),
};

/** x [rows, cols], weight [cols] -> y [rows, cols]. */
export function rmsNorm(rec: CommandRecorder, x: GpuTensor, weight: GpuTensor, y: GpuTensor, eps: number): void {
  const [rows, cols] = matrixShape('rms_norm', 'x', x);
  checkShape('rms_norm', 'weight', weight, [cols]);
  checkShape('rms_norm', 'y', y, [rows, cols]);
  rec.dispatch(rmsNormProgram, [x, weight], [y], { rows, cols, eps });
}
