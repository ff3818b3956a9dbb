/**
 * Which backend runs a pack: our WGSL decoder or onnxruntime-web, picked per pack load from the preference and what
 * the browser has, with the reason in the pack's note. One backend holds a model at a time.
 */
import type { PackGraph } from './config';
import type { EngineKind } from './engine';
import { detectWebGpu, type BackendPreference } from './env';
import { PackError } from '../errors';
import type { BackendStart, ForwardBackend } from './forward-backend';
import type { LoadedPack } from './pack';

/** Which backend `auto` picks where WebGPU exists: the faster decoder in bench/results/perf.json. */
export const AUTO_WEBGPU_ENGINE: EngineKind = 'wgsl';

export interface SwitchedTo extends BackendStart {
  runner: ForwardBackend;
}

export class BackendSwitch {
  private current: ForwardBackend | null = null;

  constructor(private readonly backends: Record<EngineKind, ForwardBackend>) {}

  /** The backend holding a model, or null. */
  get active(): ForwardBackend | null {
    return this.current?.loaded ? this.current : null;
  }

  /** Unload the backend that is not `next`, so two models never sit in memory at once. */
  private async leave(next: ForwardBackend): Promise<void> {
    if (this.current && this.current !== next) {
      await this.current.unload();
      this.current = null;
    }
  }

  async load(fetchPack: (graph: PackGraph) => Promise<LoadedPack>, preference: BackendPreference): Promise<SwitchedTo> {
    const { wgsl, ort } = this.backends;
    const wantWgsl = preference === 'wgsl' || (preference === 'auto' && AUTO_WEBGPU_ENGINE === 'wgsl' && (await detectWebGpu()).available);
    if (wantWgsl) {
      try {
        await this.leave(wgsl);
        const start = await wgsl.load(fetchPack, preference);
        this.current = wgsl;
        return { ...start, runner: wgsl };
      } catch (e) {
        // A pack error (missing file, bad checksum) is the same for every backend: report it, do not mask it.
        if (e instanceof PackError) throw e;
        await wgsl.unload();
        this.current = null;
        const start = await ort.load(fetchPack, preference === 'wgsl' ? 'auto' : preference);
        this.current = ort;
        return { ...start, runner: ort, note: `${start.note} (the WGSL engine could not start: ${(e as Error).message})` };
      }
    }
    await this.leave(ort);
    const start = await ort.load(fetchPack, preference);
    this.current = ort;
    return { ...start, runner: ort };
  }

  /** Give back whichever model is loaded. */
  async unload(): Promise<void> {
    await this.current?.unload();
    this.current = null;
  }
}
