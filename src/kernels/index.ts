/** The kernels layer: WGSL kernels with their TypeScript wrappers, the GPU context, and their CPU twins. */
export { CommandRecorder, elementCount, GpuContext, KernelError, lossAfterFailure, lossReason, type GpuTensor, type KernelProgram } from './gpu';
export { add } from './add';
export { attentionPool, HEAD_DIM_LIMIT } from './attention-pool';
export { geluTanh } from './gelu-tanh';
export { layerMix } from './layer-mix';
export { linear, type LinearActivation } from './linear';
export { loraHeadWrite, type LoraHeadTarget } from './lora-head-write';
export { rmsNorm } from './rms-norm';
export * as cpu from './cpu';
