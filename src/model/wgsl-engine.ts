/** Decode engine on our own WGSL kernels (src/kernels/decode): WebGPU only; the same Engine contract as OrtEngine. */
import { GpuContext, lossAfterFailure } from '../kernels';
import { GpuDecoder, type QuantizationInfo } from '../kernels/decode/decoder';
import { fileOfRole, type FileRole, type PackManifest } from './config';
import { decodeLoop } from './decode-loop';
import type { GenerateParams, GenerateStats, LoraTensors, MadeAdapter, PackInfo, SkillEncoding, TokenEvent, UnloadableEngine } from './engine';
import { detectWebGpu, type BackendPreference } from './env';
import { deviceLostError, EngineError } from '../errors';
import { createHypernet, loadHypernet, type Hypernet, type HypernetFile } from './hypernet';
import { fileBytes, loadPackToStart, type LoadProgress, type PackSource } from './pack';
import { parseSafetensors } from '../formats/safetensors';
import { sampleToken, seededRandom } from './sampling';
import { encodeChunks, skillChunks } from './skill-chunks';
import { ChatTokenizer } from './tokenizer';

export class WgslEngine implements UnloadableEngine {
  private ctx: GpuContext | null = null;
  private decoder: GpuDecoder | null = null;
  private tokenizer: ChatTokenizer | null = null;
  private manifest: PackManifest | null = null;
  private hypernetFile: HypernetFile | null = null;
  private hypernet: Hypernet | null = null;
  private stopRequested = false;
  private busy = false;

  async loadPack(source: PackSource, _preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo> {
    if (this.busy) throw new EngineError('busy', 'a generation is running: stop it before loading a pack');
    const gpu = await detectWebGpu();
    if (!gpu.available) throw new EngineError('backend', `the WGSL engine needs WebGPU: ${gpu.reason}`);
    const pack = await loadPackToStart(source, onProgress, 'gpu');
    const m = pack.manifest;
    const bytes = (role: FileRole) => fileBytes(pack, role);
    await this.unload();
    this.ctx = await GpuContext.create();
    const weightsName = fileOfRole(m, 'weights').name;
    const weights = bytes('weights');
    const quantization = (m.weights as { quantization?: QuantizationInfo }).quantization ?? null;
    this.decoder = new GpuDecoder(
      this.ctx,
      { architecture: m.architecture, lora: m.lora, encoderLayers: m.encoder.layers, contextLength: m.generation.contextLength, quantization },
      parseSafetensors(weights, weightsName),
      weights,
    );
    // The weights now live on the GPU: drop the downloaded copy (the pack object is the only other holder).
    pack.files.delete(weightsName);
    await this.decoder.warmUp();
    this.tokenizer = ChatTokenizer.fromBytes(bytes('tokenizer'), bytes('tokenizer_config'));
    this.hypernetFile = m.files.some((f) => f.role === 'hypernet') ? loadHypernet(bytes('hypernet')) : null;
    this.manifest = m;
    const context = this.decoder.maxContext < m.generation.contextLength ? `, context ${this.decoder.maxContext} tokens` : '';
    const backendNote = `WGSL engine on WebGPU${gpu.adapterDescription ? ` (${gpu.adapterDescription})` : ''}${context}`;
    return { manifest: m, backend: 'webgpu', engine: 'wgsl', backendNote, hypernet: this.hypernetFile?.summary };
  }

  /** Give back the GPU device (and with it every buffer of the model and the hypernetwork). */
  async unload(): Promise<void> {
    this.hypernet?.dispose();
    this.hypernet = null;
    this.decoder?.dispose();
    this.decoder = null;
    this.ctx?.device.destroy();
    this.ctx = null;
    this.manifest = null;
  }

  private require(): { m: PackManifest; decoder: GpuDecoder; tokenizer: ChatTokenizer } {
    if (!this.manifest || !this.decoder || !this.tokenizer) throw new EngineError('no-pack', 'no model pack is loaded');
    const lost = this.decoder.lostReason;
    // The store reloads the pack on 'device-lost': a new device, or onnxruntime-web where none can be had.
    if (lost !== null) throw deviceLostError(lost);
    return { m: this.manifest, decoder: this.decoder, tokenizer: this.tokenizer };
  }

  /** Engine errors as they are; a failure on a lost device as 'device-lost'. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (e) {
      await this.throwIfLost();
      throw e;
    }
  }

  /** After a failure: 'device-lost' if the device is lost (it may say so a moment after the failure). */
  private async throwIfLost(): Promise<void> {
    if (this.ctx) await lossAfterFailure(this.ctx.device);
    this.require();
  }

  async setLora(tensors: LoraTensors | null): Promise<void> {
    try {
      this.require().decoder.setLora(tensors);
    } catch (e) {
      throw new EngineError('input', (e as Error).message);
    }
  }

  async logits(inputIds: number[]): Promise<Float32Array> {
    const { decoder } = this.require();
    const { logits } = await this.guard(() => decoder.forward(inputIds, 0, { logits: true }));
    return logits!;
  }

  async encodeSkill(text: string, chunkTokens: number): Promise<SkillEncoding> {
    const { m, decoder, tokenizer } = this.require();
    if (this.busy) throw new EngineError('busy', 'a generation is running: stop it before making an adapter');
    const t0 = performance.now();
    const { chunks, tokens, droppedTokens } = skillChunks(tokenizer, text, chunkTokens);
    const { hidden, shape } = await encodeChunks(chunks, m.encoder.layers.length, m.architecture.hiddenSize, async (chunk) => {
      const { hidden: h } = await this.guard(() => decoder.forward(chunk, 0, { capture: true }));
      return h!;
    });
    return { hidden, shape, chunks: chunks.length, tokens, droppedTokens, ms: performance.now() - t0 };
  }

  async makeAdapter(text: string): Promise<MadeAdapter> {
    const { m } = this.require();
    if (!this.hypernetFile) throw new EngineError('no-hypernet', `the pack "${m.id}" has no hypernetwork, so it cannot make adapters`);
    this.hypernet ??= createHypernet(this.hypernetFile, this.ctx);
    const enc = await this.encodeSkill(text, this.hypernetFile.chunkTokens);
    const t0 = performance.now();
    let device: MadeAdapter['device'] = 'webgpu';
    let modules: MadeAdapter['modules'];
    try {
      modules = await this.hypernet.run(enc.hidden, enc.shape);
    } catch {
      await this.throwIfLost();
      // Out of GPU memory next to the model (or another GPU failure): the CPU path makes the same adapter, slower.
      modules = await createHypernet(this.hypernetFile, null).run(enc.hidden, enc.shape);
      device = 'cpu';
    }
    return {
      modules, tokens: enc.tokens, chunks: enc.chunks, droppedTokens: enc.droppedTokens,
      encodeMs: enc.ms, hypernetMs: performance.now() - t0, device,
    };
  }

  stop(): void {
    this.stopRequested = true;
  }

  async generate(params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats> {
    const { m, decoder, tokenizer } = this.require();
    if (this.busy) throw new EngineError('busy', 'a generation is already running');
    this.busy = true;
    this.stopRequested = false;
    const random = seededRandom(params.seed ?? Date.now());
    // Greedy and plain temperature sampling choose on the GPU; nucleus sampling needs the logits on the CPU.
    const onCpu = params.temperature > 0 && params.topP < 1;
    try {
      return await decodeLoop(
        {
          next: async (ids, pastLen) => {
            const seed = Math.floor(random() * 2 ** 32);
            const out = await this.guard(() => decoder.forward(ids, pastLen, { logits: onCpu, temperature: params.temperature, seed }));
            return onCpu ? sampleToken(out.logits!, params, random) : out.token;
          },
        },
        { manifest: m, tokenizer, contextLength: decoder.maxContext, params, onToken, stopRequested: () => this.stopRequested },
      );
    } finally {
      this.busy = false;
    }
  }
}
