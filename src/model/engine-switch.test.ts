import { describe, expect, it } from 'vitest';
import type { PackInfo, UnloadableEngine } from './engine';
import { EngineSwitch } from './engine-switch';
import { EngineError, PackError } from '../errors';

/** An engine double that records loads, unloads and whether it holds a model. */
function fake(name: string, fail?: Error) {
  const log: string[] = [];
  const engine = {
    log,
    loaded: false,
    async loadPack(): Promise<PackInfo> {
      log.push(`${name}.load`);
      if (fail) throw fail;
      engine.loaded = true;
      return { manifest: { id: 'p' } as never, backend: name === 'wgsl' ? 'webgpu' : 'wasm', backendNote: `${name} note` };
    },
    async unload() {
      log.push(`${name}.unload`);
      engine.loaded = false;
    },
    async logits() {
      return Float32Array.from([name === 'wgsl' ? 1 : 2]);
    },
    stop() {},
  };
  return engine as typeof engine & UnloadableEngine;
}

describe('EngineSwitch', () => {
  it('runs the WGSL engine when asked, and unloads it when onnxruntime-web takes over', async () => {
    const wgsl = fake('wgsl');
    const ort = fake('ort');
    const sw = new EngineSwitch({ wgsl, ort });
    expect((await sw.loadPack('u', 'wgsl', () => undefined)).engine).toBe('wgsl');
    expect(await sw.logits([1])).toEqual(Float32Array.from([1]));
    expect((await sw.loadPack('u', 'wasm', () => undefined)).engine).toBe('ort');
    expect(wgsl.loaded).toBe(false);
    expect(ort.loaded).toBe(true);
    expect(await sw.logits([1])).toEqual(Float32Array.from([2]));
    // Back to WGSL: the ORT model is given back before the WGSL one loads.
    await sw.loadPack('u', 'wgsl', () => undefined);
    expect(ort.log.at(-1)).toBe('ort.unload');
    expect(ort.loaded).toBe(false);
  });

  it('auto picks onnxruntime-web where there is no WebGPU (no navigator.gpu here)', async () => {
    const wgsl = fake('wgsl');
    const sw = new EngineSwitch({ wgsl, ort: fake('ort') });
    expect((await sw.loadPack('u', 'auto', () => undefined)).engine).toBe('ort');
    expect(wgsl.log).toEqual([]);
  });

  it('falls back to onnxruntime-web with the reason when the WGSL engine cannot start', async () => {
    const sw = new EngineSwitch({ wgsl: fake('wgsl', new EngineError('backend', 'the WGSL engine needs WebGPU')), ort: fake('ort') });
    const info = await sw.loadPack('u', 'wgsl', () => undefined);
    expect(info.engine).toBe('ort');
    expect(info.backendNote).toBe('ort note (the WGSL engine could not start: the WGSL engine needs WebGPU)');
  });

  it('reports a broken pack as it is, and keeps the loaded model after a failed load of the same engine', async () => {
    const broken = new PackError('checksum-mismatch', 'weights.safetensors: checksum mismatch', 'weights.safetensors');
    const ort = fake('ort');
    const sw = new EngineSwitch({ wgsl: fake('wgsl', broken), ort });
    await expect(sw.loadPack('u', 'wgsl', () => undefined)).rejects.toBe(broken);
    expect(ort.log).toEqual([]);
    await sw.loadPack('u', 'wasm', () => undefined);
    (ort as { loadPack: () => Promise<PackInfo> }).loadPack = async () => {
      throw broken;
    };
    await expect(sw.loadPack('u', 'wasm', () => undefined)).rejects.toBe(broken);
    expect(await sw.logits([1])).toEqual(Float32Array.from([2]));
  });
});
