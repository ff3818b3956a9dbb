import { describe, expect, it } from 'vitest';
import { BackendSwitch } from './engine-switch';
import { EngineError, PackError } from '../errors';
import type { ForwardBackend } from './forward-backend';
import type { LoadedPack } from './pack';

/** A backend double that records loads and unloads and whether it holds a model. */
function fake(kind: 'wgsl' | 'ort', fail?: Error) {
  const log: string[] = [];
  const backend = {
    kind,
    log,
    loaded: false,
    fail,
    async load() {
      log.push(`${kind}.load`);
      if (backend.fail) throw backend.fail;
      backend.loaded = true;
      return { pack: {} as LoadedPack, backend: kind === 'wgsl' ? 'webgpu' : 'wasm', note: `${kind} note` };
    },
    async unload() {
      log.push(`${kind}.unload`);
      backend.loaded = false;
    },
  };
  return backend as typeof backend & ForwardBackend;
}

const noFetch = async (): Promise<LoadedPack> => {
  throw new Error('not fetched in these tests');
};

describe('BackendSwitch', () => {
  it('runs the WGSL backend when asked, and unloads it when onnxruntime-web takes over', async () => {
    const wgsl = fake('wgsl');
    const ort = fake('ort');
    const sw = new BackendSwitch({ wgsl, ort });
    expect((await sw.load(noFetch, 'wgsl')).runner).toBe(wgsl);
    expect(sw.active).toBe(wgsl);
    expect((await sw.load(noFetch, 'wasm')).runner).toBe(ort);
    expect(wgsl.loaded).toBe(false);
    expect(ort.loaded).toBe(true);
    expect(sw.active).toBe(ort);
    // Back to WGSL: the ORT model is given back before the WGSL one loads.
    await sw.load(noFetch, 'wgsl');
    expect(ort.log.at(-1)).toBe('ort.unload');
    expect(ort.loaded).toBe(false);
  });

  it('auto picks onnxruntime-web where there is no WebGPU (no navigator.gpu here)', async () => {
    const wgsl = fake('wgsl');
    const sw = new BackendSwitch({ wgsl, ort: fake('ort') });
    expect((await sw.load(noFetch, 'auto')).runner.kind).toBe('ort');
    expect(wgsl.log).toEqual([]);
  });

  it('falls back to onnxruntime-web with the reason when the WGSL backend cannot start', async () => {
    const sw = new BackendSwitch({ wgsl: fake('wgsl', new EngineError('backend', 'the WGSL engine needs WebGPU')), ort: fake('ort') });
    const started = await sw.load(noFetch, 'wgsl');
    expect(started.runner.kind).toBe('ort');
    expect(started.note).toBe('ort note (the WGSL engine could not start: the WGSL engine needs WebGPU)');
  });

  it('reports a broken pack as it is, and keeps the loaded model after a failed load of the same backend', async () => {
    const broken = new PackError('checksum-mismatch', 'weights.safetensors: checksum mismatch', 'weights.safetensors');
    const ort = fake('ort');
    const sw = new BackendSwitch({ wgsl: fake('wgsl', broken), ort });
    await expect(sw.load(noFetch, 'wgsl')).rejects.toBe(broken);
    expect(ort.log).toEqual([]);
    await sw.load(noFetch, 'wasm');
    ort.fail = broken;
    await expect(sw.load(noFetch, 'wasm')).rejects.toBe(broken);
    expect(sw.active).toBe(ort);
  });
});
