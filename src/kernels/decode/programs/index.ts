/**
 * The decoder's kernels, one program per file: embedding lookup, RMSNorm, the fused (quantized) linear with LoRA
 * (decode and matrix forms), LoRA down-projection (decode and matrix forms), RoPE with QK-norm and the KV-cache
 * write, grouped-query attention and the two-stage GPU argmax / sampler. common.ts says how they read the step
 * counters. rms_norm and fused_matmul also serve the hypernetwork (src/kernels/rms-norm.ts, linear.ts).
 */
export { LINEAR_COLS, LINEAR_COLS_WIDE, MAX_HEAD_DIM, QUANT_BLOCK, type RowSource } from './common';
export type { Epilogue, LinearForm, LinearKind, WeightFormat } from './linear-form';
export { fusedLinearProgram } from './fused-linear';
export { fusedMatmulProgram } from './fused-matmul';
export { loraDownProgram } from './lora-down';
export { loraDownMatmulProgram } from './lora-down-matmul';
export { rmsNormProgram, rmsNormRowsProgram, type NormForm, type NormMode } from './rms-norm';
export { embedProgram, type EmbedForm } from './embed';
export { ropeProgram, type RopeMode } from './rope';
export { attentionProgram } from './attention';
export { argmaxPartialProgram } from './argmax-partial';
export { argmaxFinalProgram } from './argmax-final';
