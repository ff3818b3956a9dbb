/**
 * onnxruntime-web as a ForwardBackend: the WebGPU execution provider (KV cache left on the GPU between steps), or
 * WebAssembly on the pack's CPU graph where it has one (its LM head then runs in our CpuHead kernel). LoRA inputs are
 * always bound, zeros for the base model, so adapters plug in with no graph change.
 */
import { fileOfRole, graphRoles, hasCpuGraph, moduleShape, type LoraModule, type PackGraph, type PackManifest } from './config';
import { GpuContext, lossAfterFailure, lossReason } from '../kernels';
import { chooseBackend, detectWebGpu, type Backend, type BackendPreference } from './env';
import { deviceLostError, EngineError } from '../errors';
import { CpuHead } from './cpu-head';
import { yieldToEventLoop } from './decode-loop';
import type { BackendStart, ForwardBackend, ForwardOptions, ForwardResult } from './forward-backend';
import type { LoraTensors } from './lora';
import { configureOrt, createSession, ort, ortWebGpuDevice } from './ort';
import { fileBytes, type LoadedPack } from './pack';

type Feeds = Record<string, ort.Tensor>;

function int64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** Tensors of a run's outputs that live on the GPU are given back explicitly; CPU ones are garbage. */
function release(tensors: ort.Tensor[] | null): void {
  for (const t of tensors ?? []) if (t.location === 'gpu-buffer') t.dispose();
}

export class OrtBackend implements ForwardBackend {
  readonly kind = 'ort' as const;
  readonly samplesOnDevice = false;
  private session: ort.InferenceSession | null = null;
  private manifest: PackManifest | null = null;
  private backend: Backend = 'wasm';
  private loraFeeds: Feeds = {};
  /** Zero LoRA inputs: the base model (encoder states). */
  private baseFeeds: Feeds = {};
  /** The KV cache: the last run's present tensors (left on the GPU under WebGPU), and how many positions they hold. */
  private present: ort.Tensor[] | null = null;
  private presentLength = 0;
  /** The LM head outside the graph (a CPU graph that ends before it), else null. */
  private cpuHead: CpuHead | null = null;
  /** The GPU device under the WebGPU session (null under wasm), and why it was lost once it is. */
  private device: GPUDevice | null = null;
  private deviceLost: string | null = null;
  private hypernetContext: GpuContext | null = null;

  /** `ortWasmBase`: where the app serves onnxruntime-web's wasm (the worker passes `<base>/ort/`). */
  constructor(private readonly ortWasmBase: string) {}

  get loaded(): boolean {
    return this.session !== null && this.manifest !== null;
  }

  get maxContext(): number {
    return this.manifest?.generation.contextLength ?? 0;
  }

  async load(fetchPack: (graph: PackGraph) => Promise<LoadedPack>, preference: BackendPreference): Promise<BackendStart> {
    const { backend, note } = chooseBackend(preference, await detectWebGpu());
    // WebAssembly runs the pack's CPU graph where it has one (int8 products: ~8x the decode speed of the block-quantized
    // graph there); WebGPU the pack's own. A WebGPU failure below falls back to WebAssembly on the files at hand.
    let pack = await fetchPack(backend === 'wasm' ? 'cpu' : 'gpu');
    const m = pack.manifest;
    configureOrt(this.ortWasmBase);
    const presents = Array.from({ length: m.architecture.numHiddenLayers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    // The previous model goes first: two Gemma sessions (and heads) never sit in memory at once.
    await this.unload();
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
      this.device = null;
      if (hasCpuGraph(m)) pack = await fetchPack('cpu');
      await this.startSession(pack, 'wasm', []);
      backendNote = `WebAssembly fallback: WebGPU failed to start the model (${(e as Error).message})`;
    }
    this.manifest = m;
    this.baseFeeds = this.loraFeedsOf(null);
    this.loraFeeds = this.baseFeeds;
    return { pack, backend: this.backend, note: backendNote };
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

  /** Give back the session (its weights and GPU buffers), the cache and the head; a pack load starts again. */
  async unload(): Promise<void> {
    this.resetCache();
    await this.session?.release();
    this.session = null;
    this.cpuHead = null;
    this.manifest = null;
    this.device = null;
    this.deviceLost = null;
    this.hypernetContext = null;
  }

  private require(): { session: ort.InferenceSession; m: PackManifest } {
    if (!this.session || !this.manifest) throw new EngineError('no-pack', 'no model pack is loaded');
    return { session: this.session, m: this.manifest };
  }

  setLora(tensors: LoraTensors | null): void {
    this.require();
    this.loraFeeds = tensors ? this.loraFeedsOf(tensors) : this.baseFeeds;
  }

  /** The graph's LoRA inputs for these tensors, zeros where none are given. */
  private loraFeedsOf(tensors: LoraTensors | null): Feeds {
    const { m } = this.require();
    const a = m.architecture;
    const rank = m.lora.rank * m.lora.slots;
    const feeds: Feeds = {};
    for (const module of m.lora.targetModules) {
      const [fanIn, fanOut] = moduleShape(a, module as LoraModule);
      const shapeA = [a.numHiddenLayers, fanIn, rank];
      const shapeB = [a.numHiddenLayers, rank, fanOut];
      const given = tensors?.[module];
      feeds[`lora.${module}.A`] = new ort.Tensor('float32', given?.a ?? new Float32Array(shapeA[0] * shapeA[1] * shapeA[2]), shapeA);
      feeds[`lora.${module}.B`] = new ort.Tensor('float32', given?.b ?? new Float32Array(shapeB[0] * shapeB[1] * shapeB[2]), shapeB);
    }
    return feeds;
  }

  async hypernetGpu(): Promise<GpuContext | null> {
    this.require();
    if (this.backend !== 'webgpu') return null;
    // WGSL kernels on onnxruntime-web's own GPUDevice, next to the model.
    this.hypernetContext ??= await GpuContext.create(await ortWebGpuDevice());
    return this.hypernetContext;
  }

  async checkDevice(): Promise<void> {
    if (this.deviceLost !== null) throw deviceLostError(this.deviceLost);
    const lost = this.device && (await lossAfterFailure(this.device));
    if (lost) throw deviceLostError(lossReason(lost));
  }

  resetCache(): void {
    release(this.present);
    this.present = null;
    this.presentLength = 0;
  }

  async forward(ids: readonly number[], pastLength: number, options: ForwardOptions = {}): Promise<ForwardResult> {
    const { session, m } = this.require();
    if (pastLength !== 0 && pastLength !== this.presentLength) {
      throw new EngineError('input', `onnxruntime-web keeps its whole cache: ${pastLength} positions asked, it holds ${this.presentLength}`);
    }
    if (pastLength === 0) this.resetCache();
    // Encoder states come from the base model: active adapters must not change the adapter a skill gives.
    const out = await this.run(session, this.feeds(m, ids, pastLength, options.captureHidden ? this.baseFeeds : this.loraFeeds));
    const layers = m.architecture.numHiddenLayers;
    release(this.present);
    this.present = Array.from({ length: layers }, (_, i) => [out[`present.${i}.key`], out[`present.${i}.value`]]).flat();
    this.presentLength = pastLength + ids.length;
    let logits: Float32Array | null = null;
    if (options.logits) {
      logits = this.cpuHead ? this.cpuHead.logits((await out[this.cpuHead.input].getData()) as Float32Array) : ((await out.logits.getData()) as Float32Array);
    }
    const hidden = options.captureHidden ? ((await out.encoder_hidden_states.getData()) as Float32Array) : null;
    out.encoder_hidden_states?.dispose();
    return { token: -1, logits, hidden };
  }

  private feeds(m: PackManifest, ids: readonly number[], pastLen: number, lora: Feeds): Feeds {
    const a = m.architecture;
    const feeds: Feeds = {
      input_ids: int64([...ids], [1, ids.length]),
      position_ids: int64(Array.from(ids, (_, i) => pastLen + i), [1, ids.length]),
      attention_mask: int64(new Array(pastLen + ids.length).fill(1), [1, pastLen + ids.length]),
      ...lora,
    };
    for (let i = 0; i < a.numHiddenLayers; i++) {
      for (const [j, kv] of ['key', 'value'].entries()) {
        feeds[`past_key_values.${i}.${kv}`] =
          pastLen > 0 && this.present ? this.present[2 * i + j] : new ort.Tensor('float32', new Float32Array(0), [1, a.numKeyValueHeads, 0, a.headDim]);
      }
    }
    return feeds;
  }

  /** Run the session; once the GPU device is lost, a 'device-lost' error instead of ORT's own message or a hang. */
  private async run(session: ort.InferenceSession, feeds: Feeds): Promise<ort.InferenceSession.ReturnType> {
    if (this.deviceLost !== null) throw deviceLostError(this.deviceLost);
    try {
      return await session.run(feeds);
    } catch (e) {
      const lost = this.device && (await lossAfterFailure(this.device));
      if (lost) throw deviceLostError(lossReason(lost));
      throw e;
    }
  }
}
