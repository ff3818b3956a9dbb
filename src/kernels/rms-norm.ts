/** rms_norm: y = x / sqrt(mean(x^2) + eps) * weight over the last dimension, one workgroup per row. */
import { checkShape, matrixShape, type CommandRecorder, type GpuTensor } from './gpu';
import { rmsNormProgram } from './decode/programs/rms-norm';

/** The decoder's RMSNorm program with its rows from the uniform: no step counters, no weight offset. */
const rmsNormUniformRows = rmsNormProgram({ mode: 'rows', loraDowns: 0, rowSource: 'uniform' });

/** x [rows, cols], weight [cols] -> y [rows, cols]. */
export function rmsNorm(rec: CommandRecorder, x: GpuTensor, weight: GpuTensor, y: GpuTensor, eps: number): void {
  const [rows, cols] = matrixShape('rms_norm', 'x', x);
  checkShape('rms_norm', 'weight', weight, [cols]);
  checkShape('rms_norm', 'y', y, [rows, cols]);
  rec.dispatch(rmsNormUniformRows, [x, weight], [y], { capacity: rows, dim: cols, eps, offset: 0, rank: 0, layer: 0 });
}
