/**
 * The engine the worker serves: our WGSL engine or onnxruntime-web, picked per pack load from the preference and
 * what the browser has, with the reason in the pack's note. Everything else is forwarded to the active engine.
 */
import type { Engine, EngineKind, UnloadableEngine, GenerateParams, GenerateStats, LoraTensors, MadeAdapter, PackInfo, SkillEncoding, TokenEvent } from './engine';
import { detectWebGpu, type BackendPreference } from './env';
import { EngineError, PackError } from '../errors';
import type { LoadProgress, PackSource } from './pack';

/** Which engine `auto` picks where WebGPU exists: the faster decoder in bench/results/perf.json. */
export const AUTO_WEBGPU_ENGINE: EngineKind = 'wgsl';

export class EngineSwitch implements Engine {
  private active: UnloadableEngine | null = null;

  constructor(private readonly engines: Record<EngineKind, UnloadableEngine>) {}

  /** Unload the engine that is not `next`, so two models never sit in memory at once. */
  private async leave(next: UnloadableEngine): Promise<void> {
    if (this.active && this.active !== next) {
      await this.active.unload();
      this.active = null;
    }
  }

  private require(): Engine {
    if (!this.active) throw new EngineError('no-pack', 'no model pack is loaded');
    return this.active;
  }

  async loadPack(source: PackSource, preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo> {
    const wantWgsl = preference === 'wgsl' || (preference === 'auto' && AUTO_WEBGPU_ENGINE === 'wgsl' && (await detectWebGpu()).available);
    if (wantWgsl) {
      try {
        await this.leave(this.engines.wgsl);
        const info = await this.engines.wgsl.loadPack(source, preference, onProgress);
        this.active = this.engines.wgsl;
        return { ...info, engine: 'wgsl' };
      } catch (e) {
        // A pack error (missing file, bad checksum) is the same for every engine: report it, do not mask it.
        if (e instanceof PackError) throw e;
        await this.engines.wgsl.unload();
        this.active = null;
        const info = await this.engines.ort.loadPack(source, preference === 'wgsl' ? 'auto' : preference, onProgress);
        this.active = this.engines.ort;
        return { ...info, engine: 'ort', backendNote: `${info.backendNote} (the WGSL engine could not start: ${(e as Error).message})` };
      }
    }
    await this.leave(this.engines.ort);
    const info = await this.engines.ort.loadPack(source, preference, onProgress);
    this.active = this.engines.ort;
    return { ...info, engine: 'ort' };
  }

  generate(params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats> {
    return this.require().generate(params, onToken);
  }

  stop(): void {
    this.active?.stop();
  }

  setLora(tensors: LoraTensors | null): Promise<void> {
    return this.require().setLora(tensors);
  }

  encodeSkill(text: string, chunkTokens: number): Promise<SkillEncoding> {
    return this.require().encodeSkill(text, chunkTokens);
  }

  makeAdapter(text: string): Promise<MadeAdapter> {
    return this.require().makeAdapter(text);
  }

  logits(inputIds: number[]): Promise<Float32Array> {
    return this.require().logits(inputIds);
  }
}
