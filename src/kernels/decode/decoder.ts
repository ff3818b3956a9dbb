/**
 * The decoder on our own WGSL kernels: weights uploaded once from the pack's weights.safetensors (fp32, or 8/4-bit
 * MatMulNBits blocks dequantized in registers), a KV cache on the GPU, and for each chunk of tokens one command
 * buffer replaying dispatches made once (pipelines, bind groups, uniforms). Only the chosen token id comes back,
 * unless logits or encoder states are asked for. It knows no model file: src/model/wgsl-model.ts finds the tensors of
 * a pack and hands them over by their role (DecoderWeights).
 */
import { encodePrepared, GpuContext, KernelError, lossReason, prepareDispatch, releasePrepared, type KernelProgram, type PreparedDispatch, type Uniforms } from '../gpu';
import type { DecoderLinear, DecoderMatrix, DecoderSpec, DecoderWeights } from './decoder-weights';
import {
  argmaxFinalProgram,
  argmaxPartialProgram,
  attentionProgram,
  embedProgram,
  fusedLinearProgram,
  fusedMatmulProgram,
  LINEAR_COLS,
  LINEAR_COLS_WIDE,
  loraDownMatmulProgram,
  loraDownProgram,
  MAX_HEAD_DIM,
  QUANT_BLOCK,
  ropeProgram,
  rmsNormRowsProgram,
  type EmbedForm,
  type Epilogue,
  type WeightFormat,
} from './programs';

/** Rows of a prefill chunk; a longer prompt runs as several chunks through the cache. */
export const PREFILL_ROWS = 32;
/** The KV cache is allocated for this many positions at most. */
export const MAX_CONTEXT = 4096;
/** Down-projections a norm dispatch computes at most (8 storage buffers: x, weight, counters, 2 A; y, 2 xa). */
const MAX_NORM_LORA_DOWNS = 2;
/** Outputs from which a matrix (the LM head) gets LINEAR_COLS_WIDE outputs per workgroup. */
const WIDE_OUTPUT = 16384;
/** Logits per workgroup of the first argmax stage. */
const ARGMAX_PER_GROUP = 4096;

/** A weight matrix on the GPU: the buffers the fused linear binds, in its input order. */
interface GpuWeight {
  format: WeightFormat;
  buffers: GPUBuffer[];
  rows: number;
  depth: number;
}

interface GpuLinear extends GpuWeight {
  bias: GPUBuffer | null;
}

/** DecoderWeights on the GPU: each tensor in its own storage buffer. */
interface GpuModel {
  embed: GpuWeight;
  lmHead: GpuWeight;
  norm: GPUBuffer;
  layers: { linear: Record<DecoderLinear, GpuLinear>; norms: Record<'input' | 'postAttention' | 'preFeedforward' | 'postFeedforward' | 'q' | 'k', GPUBuffer | null> }[];
}

export interface ForwardOptions {
  /** Return the last position's logits (tests, nucleus sampling on the CPU). */
  logits?: boolean;
  /** Return the hidden states after the encoder layers for every row, [E, T, H], of the base model (no LoRA). */
  capture?: boolean;
  /** With capture: the plan only up to its last capture copy, after the last encoder layer (token -1, no logits; cache left empty). */
  encodeOnly?: boolean;
  /** 0: greedy; otherwise a GPU draw from softmax(logits / temperature) with this 32-bit seed. */
  temperature?: number;
  seed?: number;
}

export interface ForwardResult {
  token: number;
  logits: Float32Array | null;
  hidden: Float32Array | null;
}

type PlanItem = PreparedDispatch | { copy: { from: GPUBuffer; to: GPUBuffer; toOffset: number; bytes: number } };

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** float32 cos/sin tables [positions, headDim / 2] computed as PyTorch does (f32 inverse frequencies and angles). */
export function ropeTables(theta: number, headDim: number, positions: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / headDim)));
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * inv[i]);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

export class GpuDecoder {
  readonly maxContext: number;
  private readonly buffers: GPUBuffer[] = [];
  private readonly plans = new Map<string, PlanItem[]>();
  private readonly act: Record<string, GPUBuffer> = {};
  private readonly loraBuffers = new Map<string, { a: GPUBuffer; b: GPUBuffer; xa: GPUBuffer }>();
  private loraActive = false;
  private readonly model: GpuModel;
  private readonly embedForm: EmbedForm;
  private readonly staging: { token: GPUBuffer; logits: GPUBuffer; capture: GPUBuffer };
  private readonly argmaxGroups: number;
  private lost: string | null = null;
  /** Positions the KV cache holds in every layer (`past` while a forward runs, 0 after encode-only): a forward starts at most here. */
  private held = 0;

  /** Why the GPU device was lost, or null while it is fine. */
  get lostReason(): string | null {
    return this.lost;
  }

  constructor(
    private readonly ctx: GpuContext,
    private readonly spec: DecoderSpec,
    weights: DecoderWeights,
  ) {
    const a = spec.architecture;
    if (a.headDim > MAX_HEAD_DIM) throw new KernelError(`WGSL engine: head dimension ${a.headDim} exceeds ${MAX_HEAD_DIM}`);
    if (a.finalLogitSoftcapping) throw new KernelError('WGSL engine: final logit soft-capping is not supported');
    this.maxContext = Math.min(spec.contextLength, a.maxPositionEmbeddings, MAX_CONTEXT);
    void ctx.device.lost.then((info) => {
      this.lost = lossReason(info);
    });
    this.model = this.uploadModel(weights);
    this.embedForm = this.model.embed.format === 'q8' ? 'q8' : 'f32';
    const q = a.numAttentionHeads * a.headDim;
    const kv = a.numKeyValueHeads * a.headDim;
    const f32 = (name: string, floats: number) => this.buffer(name, floats * 4);
    const rows = PREFILL_ROWS;
    f32('x', rows * a.hiddenSize);
    f32('xn', rows * a.hiddenSize);
    f32('h', rows * a.hiddenSize);
    f32('q', rows * q);
    f32('k', rows * kv);
    f32('v', rows * kv);
    f32('attended', rows * q);
    f32('gate', rows * a.intermediateSize);
    f32('mlp', rows * a.intermediateSize);
    f32('last', a.hiddenSize);
    f32('logits', a.vocabSize);
    f32('scores', rows * a.numAttentionHeads * this.maxContext);
    f32('keys', a.numHiddenLayers * kv * this.maxContext);
    f32('values', a.numHiddenLayers * kv * this.maxContext);
    this.argmaxGroups = Math.ceil(a.vocabSize / ARGMAX_PER_GROUP);
    f32('bestValue', this.argmaxGroups);
    f32('bestIndex', this.argmaxGroups);
    f32('token', 1);
    f32('ids', rows);
    f32('counters', 4);
    f32('capture', Math.max(spec.encoderLayers.length, 1) * rows * a.hiddenSize);
    for (const [name, theta] of [['global', a.ropeTheta], ['local', a.ropeLocalTheta ?? a.ropeTheta]] as const) {
      const { cos, sin } = ropeTables(theta, a.headDim, this.maxContext);
      this.upload(`cos.${name}`, cos);
      this.upload(`sin.${name}`, sin);
    }
    const rank = spec.lora.rank;
    for (const [module, [fanIn, fanOut]] of Object.entries(spec.lora.targets)) {
      this.loraBuffers.set(module, {
        a: this.buffer(`lora.${module}.A`, a.numHiddenLayers * fanIn * rank * 4),
        b: this.buffer(`lora.${module}.B`, a.numHiddenLayers * rank * fanOut * 4),
        xa: this.buffer(`lora.${module}.xa`, rows * rank * 4),
      });
    }
    const mapRead = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
    this.staging = {
      token: this.track(ctx.device.createBuffer({ label: 'staging.token', size: 4, usage: mapRead })),
      logits: this.track(ctx.device.createBuffer({ label: 'staging.logits', size: a.vocabSize * 4, usage: mapRead })),
      capture: this.track(ctx.device.createBuffer({ label: 'staging.capture', size: this.act.capture.size, usage: mapRead })),
    };
  }

  private track(buffer: GPUBuffer): GPUBuffer {
    this.buffers.push(buffer);
    return buffer;
  }

  private buffer(name: string, bytes: number): GPUBuffer {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const buffer = this.track(this.ctx.device.createBuffer({ label: name, size: Math.max(align4(bytes), 4), usage }));
    this.act[name] = buffer;
    return buffer;
  }

  private upload(name: string, data: Float32Array | Uint8Array): GPUBuffer {
    const buffer = this.buffer(name, data.byteLength);
    // writeBuffer needs a multiple of 4 bytes: odd-sized byte tensors (4-bit zero points) go through a padded copy.
    const src = data.byteLength % 4 === 0 ? data : (() => {
      const padded = new Uint8Array(align4(data.byteLength));
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return padded;
    })();
    this.ctx.device.queue.writeBuffer(buffer, 0, src.buffer, src.byteOffset, src.byteLength);
    return buffer;
  }

  /** Every tensor in its own storage buffer (the caller's arrays are not kept). */
  private uploadModel(w: DecoderWeights): GpuModel {
    const matrix = (name: string, m: DecoderMatrix): GpuWeight => {
      if (m.format === 'f32') return { format: 'f32', buffers: [this.upload(name, m.data)], rows: m.rows, depth: m.depth };
      if ((m.blockSize ?? QUANT_BLOCK) !== QUANT_BLOCK || m.depth % QUANT_BLOCK !== 0) throw new KernelError(`WGSL engine: "${name}" needs blocks of ${QUANT_BLOCK} along its input`);
      const buffers = [this.upload(`${name}.quant`, m.quant), this.upload(`${name}.scales`, m.scales)];
      if (m.format === 'q4z') {
        if (!m.zeroPoints) throw new KernelError(`WGSL engine: "${name}" has no zero points`);
        buffers.push(this.upload(`${name}.zero_points`, m.zeroPoints));
      }
      return { format: m.format, buffers, rows: m.rows, depth: m.depth };
    };
    const vector = (name: string, data: Float32Array | null) => (data ? this.upload(name, data) : null);
    const embed = matrix('w.embed', w.embed);
    return {
      embed,
      lmHead: w.lmHead ? matrix('w.lm_head', w.lmHead) : embed,
      norm: this.upload('w.norm', w.norm),
      layers: w.layers.map((layer, l) => {
        const p = `w.${l}`;
        const linear = Object.fromEntries(
          Object.entries(layer.linear).map(([m, { weight, bias }]) => [m, { ...matrix(`${p}.${m}`, weight), bias: vector(`${p}.${m}.bias`, bias) }]),
        ) as Record<DecoderLinear, GpuLinear>;
        const norms = {
          input: this.upload(`${p}.input_norm`, layer.inputNorm),
          postAttention: this.upload(`${p}.post_attention_norm`, layer.postAttentionNorm),
          preFeedforward: vector(`${p}.pre_feedforward_norm`, layer.preFeedforwardNorm),
          postFeedforward: vector(`${p}.post_feedforward_norm`, layer.postFeedforwardNorm),
          q: vector(`${p}.q_norm`, layer.qNorm),
          k: vector(`${p}.k_norm`, layer.kNorm),
        };
        return { linear, norms };
      }),
    };
  }

  /** Bind adapters (null: none, and the plans without LoRA dispatches run). Same layout as the ONNX graph's inputs. */
  setLora(tensors: Record<string, { a: Float32Array; b: Float32Array }> | null): void {
    this.loraActive = tensors !== null && Object.keys(tensors).length > 0;
    if (!tensors) return;
    for (const [module, pair] of Object.entries(tensors)) {
      const target = this.loraBuffers.get(module);
      if (!target) throw new KernelError(`WGSL engine: the pack has no LoRA target "${module}"`);
      if (pair.a.byteLength !== target.a.size || pair.b.byteLength !== target.b.size) {
        throw new KernelError(`WGSL engine: LoRA for ${module} has ${pair.a.length}/${pair.b.length} values, expected ${target.a.size / 4}/${target.b.size / 4}`);
      }
      this.ctx.device.queue.writeBuffer(target.a, 0, pair.a.buffer, pair.a.byteOffset, pair.a.byteLength);
      this.ctx.device.queue.writeBuffer(target.b, 0, pair.b.buffer, pair.b.byteOffset, pair.b.byteLength);
    }
  }

  /** The dispatches of one chunk of `rows` rows (1: decode; PREFILL_ROWS: prefill), with or without LoRA. */
  private plan(rows: number, lora: boolean): PlanItem[] {
    const key = `${rows}:${lora}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    const a = this.spec.architecture;
    const b = this.act;
    const items: PlanItem[] = [];
    const rank = this.spec.lora.rank;
    const add = <U extends string>(program: KernelProgram<U>, inputs: GPUBuffer[], outputs: GPUBuffer[], values: Uniforms<U>) =>
      items.push(prepareDispatch(this.ctx, program, inputs, outputs, values));
    const eps = a.rmsNormEps;
    const offset = a.normWeightOffset;
    /** Modules whose x A the preceding norm already computed (their linear skips its own down-projection). */
    const downDone = new Set<DecoderLinear>();
    /** RMSNorm; in rows mode also the adapters' x A of (up to 2 of) the modules that read its output, `readers`. */
    const norm = (mode: 'rows' | 'last' | 'add', x: GPUBuffer, weight: GPUBuffer | null, y: GPUBuffer, layer = 0, readers: DecoderLinear[] = []) => {
      const fused = lora && mode === 'rows' ? readers.filter((m) => this.loraBuffers.has(m)).slice(0, MAX_NORM_LORA_DOWNS) : [];
      const slots = fused.map((m) => this.loraBuffers.get(m)!);
      add(rmsNormRowsProgram(mode, fused.length), [x, weight!, b.counters, ...slots.map((s) => s.a)], [y, ...slots.map((s) => s.xa)], {
        capacity: rows, dim: a.hiddenSize, eps, offset, rank, layer,
      });
      downDone.clear();
      for (const m of fused) downDone.add(m);
    };
    /** y = x W^T (+ bias) (+ LoRA) with an epilogue; LoRA's x A runs first into the module's xa buffer. */
    const linear = (w: GpuWeight & { bias?: GPUBuffer | null }, module: DecoderLinear | null, layer: number, x: GPUBuffer, y: GPUBuffer, epilogue: Epilogue, fixedRows = 0) => {
      const bias = w.bias ?? undefined;
      const slot = lora && module ? this.loraBuffers.get(module) : undefined;
      const down = slot && !downDone.has(module!);
      if (down && rows > 1) add(loraDownMatmulProgram(), [x, slot.a], [slot.xa], { rows, cols: rank, depth: w.depth, layer });
      else if (down) add(loraDownProgram(), [x, slot.a, b.counters], [slot.xa], { capacity: rows, depth: w.depth, rank, layer });
      const form = { format: w.format, bias: bias !== undefined, lora: slot !== undefined, epilogue, activation: a.hiddenAct };
      const inputs = [x, ...w.buffers, ...(bias ? [bias] : []), ...(slot ? [slot.xa, slot.b] : []), ...(epilogue === 'gated' ? [b.gate] : []), b.counters];
      const blocks = w.depth / QUANT_BLOCK;
      if (rows > 1 && !fixedRows) {
        // Prefill: the tiled matrix product reads each weight tile once for all rows of the chunk.
        add(fusedMatmulProgram(form), inputs, [y], { rows, cols: w.rows, depth: w.depth, blocks, layer, rank });
        return;
      }
      const colsPerGroup = w.rows >= WIDE_OUTPUT ? LINEAR_COLS_WIDE : LINEAR_COLS;
      add(fusedLinearProgram({ ...form, colsPerGroup }), inputs, [y], { capacity: fixedRows || rows, fixedRows, depth: w.depth, cols: w.rows, blocks, layer, rank });
    };
    const embed = this.model.embed;
    add(embedProgram(this.embedForm), [...embed.buffers, b.ids, b.counters], [b.x], {
      capacity: rows, hidden: a.hiddenSize, blocks: a.hiddenSize / QUANT_BLOCK, scale: a.embeddingScale,
    });
    for (let l = 0; l < a.numHiddenLayers; l++) {
      const { linear: w, norms } = this.model.layers[l];
      const sliding = a.layerTypes?.[l] === 'sliding_attention';
      const tables = sliding ? 'local' : 'global';
      norm('rows', b.x, norms.input, b.xn, l, ['q_proj', 'k_proj', 'v_proj']);
      linear(w.q_proj, 'q_proj', l, b.xn, b.q, 'store');
      linear(w.k_proj, 'k_proj', l, b.xn, b.k, 'store');
      linear(w.v_proj, 'v_proj', l, b.xn, b.v, 'store');
      const rope = { layer: l, headDim: a.headDim, maxContext: this.maxContext, eps, offset, capacity: rows };
      const qkNorm = (which: 'q' | 'k') => (a.qkNorm ? [norms[which]!] : []);
      const cosSin = [b[`cos.${tables}`], b[`sin.${tables}`]];
      add(ropeProgram('q', a.qkNorm), [...qkNorm('q'), ...cosSin, b.counters], [b.q], { ...rope, heads: a.numAttentionHeads });
      add(ropeProgram('k', a.qkNorm), [b.k, ...qkNorm('k'), ...cosSin, b.counters], [b.keys], { ...rope, heads: a.numKeyValueHeads });
      add(ropeProgram('v', false), [b.v, b.counters], [b.values], { ...rope, heads: a.numKeyValueHeads });
      add(attentionProgram(), [b.q, b.keys, b.values, b.counters], [b.attended, b.scores], {
        capacity: rows, heads: a.numAttentionHeads, kvHeads: a.numKeyValueHeads, headDim: a.headDim, layer: l,
        maxContext: this.maxContext, window: sliding ? (a.slidingWindow ?? 0) : 0,
        scale: (a.queryPreAttnScalar ?? a.headDim) ** -0.5,
      });
      if (a.sandwichNorms) {
        linear(w.o_proj, 'o_proj', l, b.attended, b.h, 'store');
        norm('add', b.h, norms.postAttention, b.x);
        norm('rows', b.x, norms.preFeedforward, b.xn, l, ['gate_proj', 'up_proj']);
      } else {
        linear(w.o_proj, 'o_proj', l, b.attended, b.x, 'accumulate');
        norm('rows', b.x, norms.postAttention, b.xn, l, ['gate_proj', 'up_proj']);
      }
      linear(w.gate_proj, 'gate_proj', l, b.xn, b.gate, 'store');
      linear(w.up_proj, 'up_proj', l, b.xn, b.mlp, 'gated');
      if (a.sandwichNorms) {
        linear(w.down_proj, 'down_proj', l, b.mlp, b.h, 'store');
        norm('add', b.h, norms.postFeedforward, b.x);
      } else {
        linear(w.down_proj, 'down_proj', l, b.mlp, b.x, 'accumulate');
      }
      const e = this.spec.encoderLayers.indexOf(l);
      if (e >= 0 && rows > 1) {
        const bytes = rows * a.hiddenSize * 4;
        items.push({ copy: { from: b.x, to: b.capture, toOffset: e * bytes, bytes } });
      }
    }
    norm('last', b.x, this.model.norm, b.last);
    linear(this.model.lmHead, null, 0, b.last, b.logits, 'store', 1);
    add(argmaxPartialProgram(), [b.logits, b.counters], [b.bestValue, b.bestIndex], { size: a.vocabSize, perGroup: ARGMAX_PER_GROUP });
    add(argmaxFinalProgram(), [b.bestValue, b.bestIndex], [b.token], { groups: this.argmaxGroups });
    this.plans.set(key, items);
    return items;
  }

  /** Compile every pipeline and bind group now, so that the first token does not pay for it. */
  async warmUp(): Promise<void> {
    this.ctx.device.pushErrorScope('validation');
    for (const lora of [false, true]) {
      this.plan(1, lora);
      this.plan(PREFILL_ROWS, lora);
    }
    const error = await this.ctx.device.popErrorScope();
    if (error) throw new KernelError(`WGSL engine: ${error.message}`);
  }

  /**
   * Run `ids` at positions past.. through the model (chunks of PREFILL_ROWS; one row: the decode plan), appending
   * to the KV cache, and return the next token chosen on the GPU (plus logits / encoder states when asked).
   * Each chunk is one command buffer; only the last one reads the token back.
   */
  async forward(ids: readonly number[], past: number, options: ForwardOptions = {}): Promise<ForwardResult> {
    if (this.lost) throw new KernelError(`WGSL engine: the GPU device was lost (${this.lost})`);
    if (ids.length === 0) throw new KernelError('WGSL engine: no tokens to run');
    if (past + ids.length > this.maxContext) throw new KernelError(`WGSL engine: ${past + ids.length} positions exceed the cache of ${this.maxContext}`);
    if (past > this.held) throw new KernelError(`WGSL engine: ${past} cached positions asked, the cache holds ${this.held}`);
    const encodeOnly = options.capture === true && options.encodeOnly === true && this.spec.encoderLayers.length > 0;
    const a = this.spec.architecture;
    const layers = this.spec.encoderLayers.length;
    const hidden = options.capture ? new Float32Array(layers * ids.length * a.hiddenSize) : null;
    const result: ForwardResult = { token: -1, logits: null, hidden };
    const queue = this.ctx.device.queue;
    this.held = encodeOnly ? 0 : past;
    for (let start = 0; start < ids.length; start += PREFILL_ROWS) {
      const chunk = ids.slice(start, start + PREFILL_ROWS);
      const readsToken = !encodeOnly && start + PREFILL_ROWS >= ids.length;
      const counters = new Uint32Array(4);
      counters[0] = chunk.length;
      counters[1] = past + start;
      counters[2] = (options.seed ?? 0) >>> 0;
      new Float32Array(counters.buffer, 12, 1)[0] = options.temperature ?? 0;
      queue.writeBuffer(this.act.counters, 0, counters);
      queue.writeBuffer(this.act.ids, 0, Uint32Array.from(chunk));
      const encoder = this.ctx.device.createCommandEncoder({ label: 'decoder.step' });
      // Encoder states come from the base model: active adapters must not change the adapter a skill gives.
      const lora = this.loraActive && !options.capture;
      const plan = this.plan(ids.length === 1 && !options.capture ? 1 : PREFILL_ROWS, lora);
      this.encodePlan(encoder, encodeOnly ? plan.slice(0, plan.findLastIndex((item) => 'copy' in item) + 1) : plan, options.capture === true);
      const reads: [GPUBuffer, GPUBuffer, number][] = [];
      if (options.capture) reads.push([this.act.capture, this.staging.capture, layers * PREFILL_ROWS * a.hiddenSize * 4]);
      if (readsToken) reads.push([this.act.token, this.staging.token, 4]);
      if (readsToken && options.logits) reads.push([this.act.logits, this.staging.logits, a.vocabSize * 4]);
      for (const [from, to, bytes] of reads) encoder.copyBufferToBuffer(from, 0, to, 0, bytes);
      queue.submit([encoder.finish()]);
      const got = await Promise.all(
        reads.map(async ([, staging, bytes]) => {
          await staging.mapAsync(GPUMapMode.READ, 0, bytes);
          const copy = staging.getMappedRange(0, bytes).slice(0);
          staging.unmap();
          return copy;
        }),
      );
      if (options.capture) {
        // capture is [E, PREFILL_ROWS, H]: this chunk's rows go to [E, start.., H] of the result.
        const rows = new Float32Array(got.shift()!);
        for (let e = 0; e < layers; e++) {
          hidden!.set(rows.subarray(e * PREFILL_ROWS * a.hiddenSize, (e * PREFILL_ROWS + chunk.length) * a.hiddenSize), (e * ids.length + start) * a.hiddenSize);
        }
      }
      if (readsToken) {
        result.token = new Uint32Array(got.shift()!)[0];
        if (options.logits) result.logits = new Float32Array(got.shift()!);
      }
    }
    if (this.lost) throw new KernelError(`WGSL engine: the GPU device was lost (${this.lost})`);
    if (!encodeOnly) this.held = past + ids.length;
    return result;
  }

  /** Dispatches in compute passes; copies (encoder-state capture) between them when asked. */
  private encodePlan(encoder: GPUCommandEncoder, plan: readonly PlanItem[], capture: boolean): void {
    let batch: PreparedDispatch[] = [];
    for (const item of plan) {
      if (!('copy' in item)) {
        batch.push(item);
        continue;
      }
      if (!capture) continue;
      if (batch.length) encodePrepared(encoder, batch, 'decoder');
      batch = [];
      encoder.copyBufferToBuffer(item.copy.from, 0, item.copy.to, item.copy.toOffset, item.copy.bytes);
    }
    if (batch.length) encodePrepared(encoder, batch, 'decoder');
  }

  dispose(): void {
    for (const plan of this.plans.values()) releasePrepared(plan.filter((i): i is PreparedDispatch => !('copy' in i)));
    this.plans.clear();
    for (const b of this.buffers) b.destroy();
    this.buffers.length = 0;
  }
}
