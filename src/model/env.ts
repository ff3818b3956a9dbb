/** Capability flags of this browser, read once: which backends can run and why not. */

export type Backend = 'webgpu' | 'wasm';
/** webgpu / wasm: onnxruntime-web on that backend; wgsl: our own WGSL engine; auto: the best this browser has. */
export type BackendPreference = Backend | 'wgsl' | 'auto';

export interface GpuCapabilities {
  available: boolean;
  /** Why WebGPU cannot be used, in words for the user; empty when it can. */
  reason: string;
  shaderF16: boolean;
  subgroups: boolean;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  adapterDescription: string;
}

const NONE: Omit<GpuCapabilities, 'reason'> = {
  available: false,
  shaderF16: false,
  subgroups: false,
  maxStorageBufferBindingSize: 0,
  maxBufferSize: 0,
  adapterDescription: '',
};

export async function detectWebGpu(): Promise<GpuCapabilities> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return { ...NONE, reason: 'this browser has no WebGPU (navigator.gpu is missing)' };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { ...NONE, reason: `the WebGPU adapter request failed (${(e as Error).message})` };
  }
  if (!adapter) return { ...NONE, reason: 'no WebGPU adapter is available (GPU blocked or disabled)' };
  const info = adapter.info;
  return {
    available: true,
    reason: '',
    shaderF16: adapter.features.has('shader-f16'),
    subgroups: adapter.features.has('subgroups'),
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
    adapterDescription: [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' '),
  };
}

/** Pick the backend from the preference and what the browser has, with the reason to show. */
export function chooseBackend(pref: BackendPreference, gpu: GpuCapabilities): { backend: Backend; note: string } {
  if (pref === 'wasm') return { backend: 'wasm', note: 'WebAssembly (chosen in settings)' };
  if (gpu.available) return { backend: 'webgpu', note: `WebGPU${gpu.adapterDescription ? ` on ${gpu.adapterDescription}` : ''}` };
  return { backend: 'wasm', note: `WebAssembly fallback: ${gpu.reason}` };
}
