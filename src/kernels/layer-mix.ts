/** layer_mix: x = sum_e softmax(mix)_e * hidden_e, the learned mix of the encoder layers' hidden states. */
import { checkShape, elementCount, elementwiseDispatch, KernelError, type CommandRecorder, type GpuTensor, type KernelProgram } from './gpu';
import { elementwiseMainWgsl, WORKGROUP_SIZE } from './wgsl';

type LayerMixUniform = 'size' | 'layers';

export const layerMixProgram: KernelProgram<LayerMixUniform> = {
  name: 'layer_mix',
  key: 'layer_mix',
  workgroupSize: WORKGROUP_SIZE,
  inputs: ['hidden', 'mixLogits'],
  outputs: ['y'],
  uniforms: [
    { name: 'size', type: 'u32' },
    { name: 'layers', type: 'u32' },
  ],
  // Each thread redoes the softmax of the few mix logits: cheaper than a separate dispatch for them.
  main: () => /* wgsl */ `
fn element(i: u32) -> f32 {
  var maxLogit = mixLogits[0];
  for (var e = 1u; e < u.layers; e++) {
    maxLogit = max(maxLogit, mixLogits[e]);
  }
  var total = 0.0;
  var acc = 0.0;
  for (var e = 0u; e < u.layers; e++) {
    let w = exp(mixLogits[e] - maxLogit);
    total += w;
    acc += w * hidden[e * u.size + i];
  }
  return acc / total;
}
${elementwiseMainWgsl('y')}`,
  dispatch: (u) => elementwiseDispatch(u.size),
};

/** hidden [E, ...rest], mix [E] -> y [...rest]. */
export function layerMix(rec: CommandRecorder, hidden: GpuTensor, mix: GpuTensor, y: GpuTensor): void {
  const [layers, ...rest] = hidden.shape;
  if (!layers) throw new KernelError(`layer_mix: hidden has shape [${hidden.shape.join(', ')}], expected [layers, ...]`);
  checkShape('layer_mix', 'mix', mix, [layers]);
  checkShape('layer_mix', 'y', y, rest);
  rec.dispatch(layerMixProgram, [hidden, mix], [y], { size: elementCount(rest), layers });
}
