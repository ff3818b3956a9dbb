/** Decode engine on onnxruntime-web: WebGPU execution provider, WebAssembly fallback, KV cache, streamed tokens. */
import { fileOfRole, graphRoles, hasCpuGraph, moduleShape, PackManifest, type FileRole, type LoraModule } from './config';
import { GpuContext, lossAfterFailure, lossReason } from '../kernels';
import type { GenerateParams, GenerateStats, LoraTensors, MadeAdapter, PackInfo, SkillEncoding, TokenEvent, UnloadableEngine } from './engine';
import { chooseBackend, detectWebGpu, type Backend, type BackendPreference } from './env';
import { deviceLostError, EngineError } from '../errors';
import { createHypernet, loadHypernet, type Hypernet, type HypernetFile } from './hypernet';
import { CpuHead } from './cpu-head';
import { configureOrt, createSession, ort, ortWebGpuDevice } from './ort';
import { fileBytes, loadPackToStart, type LoadedPack, type LoadProgress, type PackSource } from './pack';
import { decodeLoop, yieldToEventLoop } from './decode-loop';
import { sampleToken, seededRandom } from './sampling';
import { encodeChunks, skillChunks } from './skill-chunks';
import { ChatTokenizer } from './tokenizer';

type Feeds = Record<string, ort.Tensor>;

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

export class OrtEngine implements UnloadableEngine {
  private session: ort.InferenceSession | null = null;
  private tokenizer: ChatTokenizer | null = null;
  private manifest: PackManifest | null = null;
  private backend: Backend = 'wasm';
  private loraFeeds: Feeds = {};
  /** Zero LoRA inputs: the base model. */
  private baseFeeds: Feeds = {};
  private hypernetFile: HypernetFile | null = null;
  private hypernet: Hypernet | null = null;
  private stopRequested = false;
  /** The LM head outside the graph (a CPU graph that ends before it), else null. */
  private cpuHead: CpuHead | null = null;
  private busy = false;
  /** The GPU device under the WebGPU session (null under wasm), and why it was lost once it is. */
  private device: GPUDevice | null = null;
  private deviceLost: string | null = null;

  /** `ortWasmBase`: where the app serves onnxruntime-web's wasm (the worker passes `<base>/ort/`). */
  constructor(private readonly ortWasmBase: string) {}

  async loadPack(source: PackSource, preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo> {
    if (this.busy) throw new EngineError('busy', 'a generation is running: stop it before loading a pack');
    const { backend, note } = chooseBackend(preference, await detectWebGpu());
    // WebAssembly runs the pack's CPU graph where it has one (int8 products: ~8x the decode speed of the block-quantized
    // graph there); WebGPU the pack's own. A WebGPU failure below falls back to WebAssembly on the files at hand.
    let pack = await loadPackToStart(source, onProgress, backend === 'wasm' ? 'cpu' : 'gpu');
    const m = pack.manifest;
    configureOrt(this.ortWasmBase);
    const presents = Array.from({ length: m.architecture.numHiddenLayers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    // The previous model goes first: two Gemma sessions (and heads) never sit in memory at once.
    await this.session?.release();
    this.session = null;
    this.cpuHead = null;
    this.device = null;
    this.deviceLost = null;
    let backendNote = note;
    try {
      await this.startSession(pack, backend, presents);
      if (backend === 'webgpu') await this.watchDevice();
    } catch (e) {
      if (backend !== 'webgpu') throw new EngineError('backend', `the model could not be started: ${(e as Error).message}`);
      // A WebGPU failure (adapter refused, unsupported op, out of memory, device lost) still leaves WebAssembly, on the
      // pack's CPU graph where it has one (its files are fetched now, from the cache when they are there).
      await (this.session as ort.InferenceSession | null)?.release().catch(() => undefined);
      this.session = null;
      if (hasCpuGraph(m)) pack = await loadPackToStart(source, onProgress, 'cpu');
      await this.startSession(pack, 'wasm', []);
      backendNote = `WebAssembly fallback: WebGPU failed to start the model (${(e as Error).message})`;
    }
    const bytes = (role: FileRole) => fileBytes(pack, role);
    this.tokenizer = ChatTokenizer.fromBytes(bytes('tokenizer'), bytes('tokenizer_config'));
    this.hypernet?.dispose();
    this.hypernet = null;
    this.hypernetFile = m.files.some((f) => f.role === 'hypernet') ? loadHypernet(bytes('hypernet')) : null;
    this.manifest = m;
    await this.setLora(null);
    return { manifest: m, backend: this.backend, backendNote, hypernet: this.hypernetFile?.summary };
  }

  /** The session of the graph `backend` runs (the CPU graph and its head on wasm, where the pack has them). */
  private async startSession(pack: LoadedPack, backend: Backend, presents: string[]): Promise<void> {
    const m = pack.manifest;
    const graph = graphRoles(m, backend === 'wasm' ? 'cpu' : 'gpu');
    const weights = fileBytes(pack, graph.weights);
    const files = { model: fileBytes(pack, graph.model), external: [{ path: fileOfRole(m, graph.weights).name, data: weights }] };
    this.session = await createSession(files, backend, presents);
    this.backend = backend;
    // The CPU graph may end before the LM head: its first output is then the head's input, and our kernel makes the logits.
    const headInfo = graph.model === 'cpu-model' ? (m.cpuGraph?.head ?? null) : null;
    if (headInfo && !this.session.outputNames.includes(headInfo.input)) {
      throw new EngineError('backend', `the pack's CPU graph has no output "${headInfo.input}" for its head`);
    }
    this.cpuHead = headInfo ? await CpuHead.create(weights, headInfo) : null;
  }

  async setLora(tensors: LoraTensors | null): Promise<void> {
    this.loraFeeds = this.loraFeedsOf(tensors);
    if (!tensors) this.baseFeeds = this.loraFeeds;
  }

  /** The graph's LoRA inputs for these tensors, zeros where none are given. */
  private loraFeedsOf(tensors: LoraTensors | null): Feeds {
    const m = this.requireManifest();
    const a = m.architecture;
    const rank = m.lora.rank * m.lora.slots;
    const feeds: Feeds = {};
    for (const module of m.lora.targetModules) {
      const [fanIn, fanOut] = moduleShape(a, module as LoraModule);
      const shapeA = [a.numHiddenLayers, fanIn, rank];
      const shapeB = [a.numHiddenLayers, rank, fanOut];
      const given = tensors?.[module];
      const dataA = given?.a ?? new Float32Array(shapeA[0] * shapeA[1] * shapeA[2]);
      const dataB = given?.b ?? new Float32Array(shapeB[0] * shapeB[1] * shapeB[2]);
      if (dataA.length !== shapeA.reduce((x, y) => x * y) || dataB.length !== shapeB.reduce((x, y) => x * y)) {
        throw new EngineError('input', `LoRA for ${module} must be A [${shapeA}] and B [${shapeB}]`);
      }
      feeds[`lora.${module}.A`] = new ort.Tensor('float32', dataA, shapeA);
      feeds[`lora.${module}.B`] = new ort.Tensor('float32', dataB, shapeB);
    }
    return feeds;
  }

  /**
   * Follow the GPU device under the new WebGPU session: once it is lost, runs fail with 'device-lost' (they would
   * hang) until a pack load makes a new session, which gets a new device. Throws if that device is lost already.
   */
  private async watchDevice(): Promise<void> {
    const session = this.session;
    const device = await ortWebGpuDevice();
    void device.lost.then((info) => {
      if (this.session === session) this.deviceLost = lossReason(info);
    });
    // A lost device's promise is settled already, so it wins against a new task.
    const lost = await Promise.race([device.lost, yieldToEventLoop()]);
    if (lost) throw new EngineError('device-lost', `its GPU device is lost (${lossReason(lost)})`);
    this.device = device;
  }

  /** Run the session; once the GPU device is lost, a 'device-lost' error instead of ORT's own message or a hang. */
  private async run(feeds: Feeds): Promise<ort.InferenceSession.ReturnType> {
    if (this.deviceLost !== null) throw deviceLostError(this.deviceLost);
    try {
      return await this.session!.run(feeds);
    } catch (e) {
      const lost = this.device && (await lossAfterFailure(this.device));
      if (lost) throw deviceLostError(lossReason(lost));
      throw e;
    }
  }

  /** Give back the session (its weights and GPU buffers) and the hypernetwork; a pack load starts again. */
  async unload(): Promise<void> {
    await this.session?.release();
    this.session = null;
    this.cpuHead = null;
    this.manifest = null;
    this.hypernet?.dispose();
    this.hypernet = null;
  }

  private requireManifest(): PackManifest {
    if (!this.manifest || !this.session || !this.tokenizer) throw new EngineError('no-pack', 'no model pack is loaded');
    return this.manifest;
  }

  private feeds(ids: number[], pastLen: number, past: ort.Tensor[] | null, lora: Feeds): Feeds {
    const a = this.requireManifest().architecture;
    const feeds: Feeds = {
      input_ids: int64(ids, [1, ids.length]),
      position_ids: int64(Array.from(ids, (_, i) => pastLen + i), [1, ids.length]),
      attention_mask: int64(new Array(pastLen + ids.length).fill(1), [1, pastLen + ids.length]),
      ...lora,
    };
    for (let i = 0; i < a.numHiddenLayers; i++) {
      for (const [j, kv] of ['key', 'value'].entries()) {
        feeds[`past_key_values.${i}.${kv}`] = past ? past[2 * i + j] : new ort.Tensor('float32', new Float32Array(0), [1, a.numKeyValueHeads, 0, a.headDim]);
      }
    }
    return feeds;
  }

  /** One forward pass: last-position logits, the present KV cache (left on the GPU under WebGPU) and, when asked, the encoder states. */
  private async step(ids: number[], pastLen: number, past: ort.Tensor[] | null, withHidden = false) {
    const layers = this.requireManifest().architecture.numHiddenLayers;
    // Encoder states come from the base model: active adapters must not change the adapter a skill gives.
    const out = await this.run(this.feeds(ids, pastLen, past, withHidden ? this.baseFeeds : this.loraFeeds));
    const present = Array.from({ length: layers }, (_, i) => [out[`present.${i}.key`], out[`present.${i}.value`]]).flat();
    const logits = this.cpuHead ? this.cpuHead.logits((await out[this.cpuHead.input].getData()) as Float32Array) : ((await out.logits.getData()) as Float32Array);
    const hidden = withHidden ? ((await out.encoder_hidden_states.getData()) as Float32Array) : null;
    out.encoder_hidden_states?.dispose();
    return { logits, present, hidden };
  }

  /** The hypernetwork on the backend's device: WGSL kernels on ORT's own GPUDevice, or the CPU path. */
  private async requireHypernet(): Promise<{ net: Hypernet; file: HypernetFile }> {
    if (!this.hypernetFile) throw new EngineError('no-hypernet', `the pack "${this.requireManifest().id}" has no hypernetwork, so it cannot make adapters`);
    if (!this.hypernet) {
      const gpu = this.backend === 'webgpu' ? await GpuContext.create(await ortWebGpuDevice()) : null;
      this.hypernet = createHypernet(this.hypernetFile, gpu);
    }
    return { net: this.hypernet, file: this.hypernetFile };
  }

  async makeAdapter(text: string): Promise<MadeAdapter> {
    const { net, file } = await this.requireHypernet();
    const enc = await this.encodeSkill(text, file.chunkTokens);
    const t0 = performance.now();
    let device: MadeAdapter['device'] = this.backend === 'webgpu' ? 'webgpu' : 'cpu';
    let modules: MadeAdapter['modules'];
    try {
      modules = await net.run(enc.hidden, enc.shape);
    } catch (e) {
      if (device === 'cpu') throw e;
      // The GPU can run short of memory next to the model (or fail otherwise): the CPU path makes the same adapter, slower.
      modules = await createHypernet(file, null).run(enc.hidden, enc.shape);
      device = 'cpu';
    }
    return {
      modules,
      tokens: enc.tokens,
      chunks: enc.chunks,
      droppedTokens: enc.droppedTokens,
      encodeMs: enc.ms,
      hypernetMs: performance.now() - t0,
      device,
    };
  }

  async encodeSkill(text: string, chunkTokens: number): Promise<SkillEncoding> {
    const m = this.requireManifest();
    if (this.busy) throw new EngineError('busy', 'a generation is running: stop it before making an adapter');
    const t0 = performance.now();
    const { chunks, tokens, droppedTokens } = skillChunks(this.tokenizer!, text, chunkTokens);
    const { hidden, shape } = await encodeChunks(chunks, m.encoder.layers.length, m.architecture.hiddenSize, async (chunk) => {
      const { present, hidden: h } = await this.step(chunk, 0, null, true);
      OrtEngine.release(present);
      return h!; // [E, 1, Tc, H]
    });
    return { hidden, shape, chunks: chunks.length, tokens, droppedTokens, ms: performance.now() - t0 };
  }


  private static release(tensors: ort.Tensor[] | null): void {
    for (const t of tensors ?? []) if (t.location === 'gpu-buffer') t.dispose();
  }

  async logits(inputIds: number[]): Promise<Float32Array> {
    this.requireManifest();
    const { logits, present } = await this.step(inputIds, 0, null);
    OrtEngine.release(present);
    return logits;
  }

  stop(): void {
    this.stopRequested = true;
  }

  async generate(params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats> {
    const m = this.requireManifest();
    if (this.busy) throw new EngineError('busy', 'a generation is already running');
    this.busy = true;
    this.stopRequested = false;
    try {
      return await this.decode(m, params, onToken);
    } finally {
      this.busy = false;
    }
  }

  private async decode(m: PackManifest, params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats> {
    const random = seededRandom(params.seed ?? Date.now());
    let present: ort.Tensor[] | null = null;
    try {
      return await decodeLoop(
        {
          next: async (ids, pastLen) => {
            const previous = present;
            const out = await this.step(ids, pastLen, previous);
            present = out.present;
            OrtEngine.release(previous);
            return sampleToken(out.logits, params, random);
          },
        },
        { manifest: m, tokenizer: this.tokenizer!, contextLength: m.generation.contextLength, params, onToken, stopRequested: () => this.stopRequested },
      );
    } finally {
      OrtEngine.release(present);
    }
  }
}
