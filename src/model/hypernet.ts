/**
 * The hypernetwork of training/hypernet.py in the browser: a skill's encoder hidden states [E, T, H] -> LoRA A and B
 * for every (layer, module) target. Two implementations behind one interface: HypernetGpu records the whole forward
 * of WGSL kernels into one command encoder; HypernetCpu runs the same steps in plain TypeScript (the WebAssembly
 * fallback). Both follow training/hypernet.py step by step and are tested against its outputs.
 */
import type { GpuContext } from '../kernels';
import { HypernetCpu } from './hypernet-cpu';
import { HypernetGpu } from './hypernet-gpu';
import type { Hypernet, HypernetFile } from './hypernet-file';

export * from './hypernet-file';
export { HypernetCpu } from './hypernet-cpu';
export { HypernetGpu, type StackedLoraBuffers } from './hypernet-gpu';

/** HypernetGpu when a GPU context is given, else the CPU path. */
export function createHypernet(file: HypernetFile, gpu: GpuContext | null): Hypernet {
  return gpu ? new HypernetGpu(gpu, file) : new HypernetCpu(file);
}
