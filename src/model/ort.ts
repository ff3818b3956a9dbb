/** All onnxruntime-web set-up in one place: env defaults, execution provider, session creation. */
import * as ort from 'onnxruntime-web/webgpu';
import type { Backend } from './env';

export { ort };

let configured = false;

/** Env defaults, once. `wasmBase` is where the app serves ORT's wasm (vite.config.ts: /ort/), never a CDN. */
export function configureOrt(wasmBase: string): void {
  if (configured) return;
  ort.env.wasm.wasmPaths = wasmBase;
  // Threads need cross-origin isolation (SharedArrayBuffer); the app's server sends COOP/COEP.
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  ort.env.wasm.numThreads = isolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  ort.env.logLevel = 'error';
  configured = true;
}

/** The GPUDevice onnxruntime-web runs on, so our kernels share it (buffers can then pass to ORT with no copy). */
export function ortWebGpuDevice(): Promise<GPUDevice> {
  return ort.env.webgpu.device as Promise<GPUDevice>;
}

export interface SessionFiles {
  model: Uint8Array;
  /** External data files the graph references by name (the pack's weights). */
  external: { path: string; data: Uint8Array }[];
}

export async function createSession(files: SessionFiles, backend: Backend, gpuOutputs: string[]): Promise<ort.InferenceSession> {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [backend],
    graphOptimizationLevel: 'all',
    externalData: files.external,
  };
  if (backend === 'webgpu' && gpuOutputs.length > 0) {
    // The KV cache stays on the GPU between decode steps; only logits come back.
    options.preferredOutputLocation = Object.fromEntries(gpuOutputs.map((n) => [n, 'gpu-buffer' as const]));
  }
  return ort.InferenceSession.create(files.model, options);
}
