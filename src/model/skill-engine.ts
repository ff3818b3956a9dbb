/**
 * The one engine the worker serves, whatever runs the model: it owns the pack's tokenizer and hypernetwork, the bound
 * LoRA, busy/stop, sampling and the decode loop (context truncation, streamed text, stop reasons), skill encoding by
 * chunks and adapter making. A ForwardBackend (onnxruntime-web or our WGSL decoder) only runs tokens through the model.
 */
import type { PackManifest } from './config';
import { decodeLoop } from './decode-loop';
import type { AdapterModules, Engine, EngineKind, GenerateParams, GenerateStats, MadeAdapter, PackInfo, SkillEncoding, SlotAdapter, TokenEvent } from './engine';
import { BackendSwitch } from './engine-switch';
import type { BackendPreference } from './env';
import { EngineError } from '../errors';
import type { ForwardBackend } from './forward-backend';
import { createHypernet, loadHypernet, type Hypernet, type HypernetFile } from './hypernet';
import { checkedLora, composeSlots } from './lora-slots';
import type { LoraTensors } from './lora';
import { fileBytes, loadPackToStart, type LoadProgress, type PackSource } from './pack';
import { sampleToken, seededRandom } from './sampling';
import { encodeChunks, skillChunks } from './skill-chunks';
import { ChatTokenizer } from './tokenizer';

/** What a loaded pack gives the engine besides the backend's model. */
interface Loaded {
  manifest: PackManifest;
  tokenizer: ChatTokenizer;
  hypernetFile: HypernetFile | null;
}

export class SkillEngine implements Engine {
  private readonly backends: BackendSwitch;
  private pack: Loaded | null = null;
  /** Made on first use, on the backend's device (or the CPU), and dropped with the model. */
  private hypernet: Hypernet | null = null;
  /** What holds the model's KV cache now: one sequence at a time. */
  private running: 'generate' | 'encode' | null = null;
  private stopRequested = false;
  /** Adapters sent by the page, unscaled, by id: each bind composes the slots from them, so no tensor travels again. */
  private readonly held = new Map<string, AdapterModules>();

  constructor(backends: Record<EngineKind, ForwardBackend>) {
    this.backends = new BackendSwitch(backends);
  }

  async loadPack(source: PackSource, preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo> {
    this.assertIdle('loading a pack');
    this.held.clear();
    // The hypernetwork's GPU buffers live on the device of the model about to be given back.
    this.hypernet?.dispose();
    this.hypernet = null;
    const started = await this.backends.load((graph) => loadPackToStart(source, onProgress, graph), preference);
    this.pack = null;
    const m = started.pack.manifest;
    const bytes = (role: Parameters<typeof fileBytes>[1]) => fileBytes(started.pack, role);
    const tokenizer = ChatTokenizer.fromBytes(bytes('tokenizer'), bytes('tokenizer_config'));
    const hypernetFile = m.files.some((f) => f.role === 'hypernet') ? loadHypernet(bytes('hypernet')) : null;
    this.pack = { manifest: m, tokenizer, hypernetFile };
    return { manifest: m, backend: started.backend, engine: started.runner.kind, backendNote: started.note, hypernet: hypernetFile?.summary };
  }

  /** Give back the model (the worker keeps the engine; a pack load starts again). */
  async unload(): Promise<void> {
    this.hypernet?.dispose();
    this.hypernet = null;
    this.pack = null;
    this.held.clear();
    await this.backends.unload();
  }

  private require(): Loaded & { backend: ForwardBackend } {
    const backend = this.backends.active;
    if (!this.pack || !backend) throw new EngineError('no-pack', 'no model pack is loaded');
    return { ...this.pack, backend };
  }

  /** One sequence holds the KV cache at a time: a second one would overwrite it. */
  private assertIdle(doing: string): void {
    if (this.running === 'generate') throw new EngineError('busy', `a generation is running: stop it before ${doing}`);
    if (this.running === 'encode') throw new EngineError('busy', `a skill is being encoded: wait for it before ${doing}`);
  }

  async setLora(tensors: LoraTensors | null): Promise<void> {
    const { backend, manifest } = this.require();
    backend.setLora(checkedLora(manifest, tensors));
  }

  async bindAdapters(adapters: readonly SlotAdapter[]): Promise<void> {
    const { backend, manifest: m } = this.require();
    for (const { id, modules } of adapters) if (modules) this.held.set(id, modules);
    const active = adapters.map(({ id, scale }) => {
      const modules = this.held.get(id);
      if (!modules) throw new EngineError('input', `the engine holds no adapter "${id}": its tensors must be sent first`);
      return { modules, scale };
    });
    backend.setLora(checkedLora(m, composeSlots(active, m.architecture, m.lora)));
  }

  async forgetAdapter(id: string): Promise<void> {
    this.held.delete(id);
  }

  async logits(inputIds: number[]): Promise<Float32Array> {
    const { backend } = this.require();
    this.assertIdle('asking for logits');
    try {
      return (await backend.forward(inputIds, 0, { logits: true })).logits!;
    } finally {
      backend.resetCache();
    }
  }

  async encodeSkill(text: string, chunkTokens: number): Promise<SkillEncoding> {
    const { backend, manifest: m, tokenizer } = this.require();
    this.assertIdle('making an adapter');
    this.running = 'encode';
    const t0 = performance.now();
    try {
      const { chunks, tokens, droppedTokens } = skillChunks(tokenizer, text, chunkTokens);
      const { hidden, shape } = await encodeChunks(chunks, m.encoder.layers.length, m.architecture.hiddenSize, async (chunk) => {
        const out = await backend.forward(chunk, 0, { captureHidden: true });
        return out.hidden!;
      });
      return { hidden, shape, chunks: chunks.length, tokens, droppedTokens, ms: performance.now() - t0 };
    } finally {
      backend.resetCache();
      this.running = null;
    }
  }

  async makeAdapter(text: string): Promise<MadeAdapter> {
    const { backend, manifest: m, hypernetFile: file } = this.require();
    if (!file) throw new EngineError('no-hypernet', `the pack "${m.id}" has no hypernetwork, so it cannot make adapters`);
    const gpu = await backend.hypernetGpu();
    this.hypernet ??= createHypernet(file, gpu);
    const enc = await this.encodeSkill(text, file.chunkTokens);
    const t0 = performance.now();
    let device: MadeAdapter['device'] = gpu ? 'webgpu' : 'cpu';
    let modules: MadeAdapter['modules'];
    try {
      modules = await this.hypernet.run(enc.hidden, enc.shape);
    } catch (e) {
      if (!gpu) throw e;
      await backend.checkDevice();
      // Out of GPU memory next to the model (or another GPU failure): the CPU path makes the same adapter, slower.
      modules = await createHypernet(file, null).run(enc.hidden, enc.shape);
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
    const { backend, manifest, tokenizer } = this.require();
    if (this.running === 'generate') throw new EngineError('busy', 'a generation is already running');
    this.assertIdle('generating');
    this.running = 'generate';
    this.stopRequested = false;
    const random = seededRandom(params.seed ?? Date.now());
    // Greedy and plain temperature sampling choose on a device that can; nucleus sampling needs the logits on the CPU.
    const onDevice = backend.samplesOnDevice;
    const onCpu = !onDevice || (params.temperature > 0 && params.topP < 1);
    try {
      return await decodeLoop(
        {
          next: async (ids, pastLen) => {
            // Drawn at every step on a backend that samples on its device, used or not: a seed keeps giving the same answer.
            const seed = onDevice ? Math.floor(random() * 2 ** 32) : 0;
            const out = await backend.forward(ids, pastLen, onCpu ? { logits: true } : { sample: { temperature: params.temperature, seed } });
            return onCpu ? sampleToken(out.logits!, params, random) : out.token;
          },
        },
        { manifest, tokenizer, contextLength: backend.maxContext, params, onToken, stopRequested: () => this.stopRequested },
      );
    } finally {
      backend.resetCache();
      this.running = null;
    }
  }
}
