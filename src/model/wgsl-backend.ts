/** Our own WGSL decoder (src/kernels/decode) as a ForwardBackend: WebGPU only, its own device, KV cache and sampling on the GPU. */
import { GpuContext, lossAfterFailure } from '../kernels';
import { GpuDecoder } from '../kernels/decode/decoder';
import { fileOfRole, type PackGraph } from './config';
import { detectWebGpu, type BackendPreference } from './env';
import { deviceLostError, EngineError } from '../errors';
import type { BackendStart, ForwardBackend, ForwardOptions, ForwardResult } from './forward-backend';
import type { LoraTensors } from './lora';
import { fileBytes, type LoadedPack } from './pack';
import { parseSafetensors } from '../formats/safetensors';
import { decoderSpec, decoderWeights } from './wgsl-model';

export class WgslBackend implements ForwardBackend {
  readonly kind = 'wgsl' as const;
  readonly samplesOnDevice = true;
  private ctx: GpuContext | null = null;
  private decoder: GpuDecoder | null = null;

  get loaded(): boolean {
    return this.decoder !== null;
  }

  get maxContext(): number {
    return this.decoder?.maxContext ?? 0;
  }

  async load(fetchPack: (graph: PackGraph) => Promise<LoadedPack>, _preference: BackendPreference): Promise<BackendStart> {
    const gpu = await detectWebGpu();
    if (!gpu.available) throw new EngineError('backend', `the WGSL engine needs WebGPU: ${gpu.reason}`);
    const pack = await fetchPack('gpu');
    const m = pack.manifest;
    await this.unload();
    this.ctx = await GpuContext.create();
    const weightsName = fileOfRole(m, 'weights').name;
    const weights = fileBytes(pack, 'weights');
    try {
      this.decoder = new GpuDecoder(this.ctx, decoderSpec(m), decoderWeights(m, parseSafetensors(weights, weightsName), weights));
      // The weights now live on the GPU: drop the downloaded copy (the pack object is the only other holder).
      pack.files.delete(weightsName);
      await this.decoder.warmUp();
    } catch (e) {
      await this.unload();
      throw e;
    }
    const context = this.decoder.maxContext < m.generation.contextLength ? `, context ${this.decoder.maxContext} tokens` : '';
    return { pack, backend: 'webgpu', note: `WGSL engine on WebGPU${gpu.adapterDescription ? ` (${gpu.adapterDescription})` : ''}${context}` };
  }

  /** Give back the GPU device (and with it every buffer of the model and of a hypernetwork made on it). */
  async unload(): Promise<void> {
    this.decoder?.dispose();
    this.decoder = null;
    this.ctx?.device.destroy();
    this.ctx = null;
  }

  /** The decoder, or 'no-pack' / 'device-lost' (the store reloads the pack on 'device-lost': a new device, or onnxruntime-web). */
  private require(): GpuDecoder {
    if (!this.decoder) throw new EngineError('no-pack', 'no model pack is loaded');
    const lost = this.decoder.lostReason;
    if (lost !== null) throw deviceLostError(lost);
    return this.decoder;
  }

  async checkDevice(): Promise<void> {
    if (this.ctx) await lossAfterFailure(this.ctx.device);
    this.require();
  }

  async forward(ids: readonly number[], pastLength: number, options: ForwardOptions = {}): Promise<ForwardResult> {
    const decoder = this.require();
    try {
      const out = await decoder.forward(ids, pastLength, {
        logits: options.logits,
        capture: options.captureHidden,
        // Encoding stops after the last encoder layer; the cache then counts as empty.
        encodeOnly: options.captureHidden,
        temperature: options.sample?.temperature,
        seed: options.sample?.seed,
      });
      return { token: options.sample ? out.token : -1, logits: out.logits, hidden: out.hidden };
    } catch (e) {
      // A failure on a lost device (it may say so a moment after the failure) is 'device-lost'.
      await this.checkDevice();
      throw e;
    }
  }

  /** The cache is written in place from pastLength on: nothing to drop. */
  resetCache(): void {}

  setLora(tensors: LoraTensors | null): void {
    const decoder = this.require();
    try {
      decoder.setLora(tensors);
    } catch (e) {
      throw new EngineError('input', (e as Error).message);
    }
  }

  async hypernetGpu(): Promise<GpuContext | null> {
    this.require();
    return this.ctx;
  }
}
