/**
 * The hypernetwork of training/hypernet.py in the browser: a skill's encoder hidden states [E, T, H] -> LoRA A and B
 * for every (layer, module) target. Two implementations behind one interface: HypernetGpu records the whole forward
 * of WGSL kernels into one command encoder; HypernetCpu runs the same steps in plain TypeScript (the WebAssembly
 * fallback). Both follow training/hypernet.py step by step and are tested against its outputs.
 */
import {
  add,
  attentionPool,
  cpu,
  elementCount,
  GpuContext,
  HEAD_DIM_LIMIT,
  layerMix,
  linear,
  loraHeadWrite,
  rmsNorm,
  type CommandRecorder,
  type GpuTensor,
  type LoraHeadTarget,
} from '../kernels';
import type { LoraTensors } from './engine';
import { EngineError, PackError } from '../errors';
import { parseSafetensors } from '../formats/safetensors';

export const HYPERNET_FORMAT = 'parametric-skills-hypernet';
export const HYPERNET_FORMAT_VERSION = 1;
/** training/hypernet.py RMS_EPS. */
const RMS_EPS = 1e-6;
const FILE = 'hypernet.safetensors';

/** training/hypernet.py HypernetConfig, field for field: the JSON in the file's `config` metadata. */
export interface HypernetConfig {
  hidden_size: number;
  num_encoder_layers: number;
  num_layers: number;
  modules: string[];
  module_in: number[];
  module_out: number[];
  rank: number;
  d_model: number;
  num_heads: number;
  mlp_hidden: number;
  /** Training-time initialisation only. */
  a_init_std?: number;
}

/** What the file says of how it was made (its `provenance` metadata) and how its weights are stored. */
export interface HypernetSummary {
  /** trained: a training run's record (steps); random: random weights (test packs); unknown: no readable record. */
  origin: 'trained' | 'random' | 'unknown';
  steps?: number;
  seed?: number;
  /** Weight dtypes as stored (readers widen to float32), e.g. ['F16']. */
  storedAs: string[];
}

export interface HypernetFile {
  config: HypernetConfig;
  /** The skill encoder's chunk length, shared with training. */
  chunkTokens: number;
  summary: HypernetSummary;
  /** Parameters under their PyTorch state_dict names, shapes checked against the config. */
  params: ReadonlyMap<string, Float32Array>;
}

/** Encoder hidden states: [encoder layers E, tokens T, hidden size H]. */
export type EncoderShape = readonly [number, number, number];

export interface Hypernet {
  readonly config: HypernetConfig;
  /** One vector per target after out_norm, z [N, D] (Hypernetwork.pool). */
  pool(hidden: Float32Array, shape: EncoderShape): Promise<Float32Array>;
  /** Per module A [layers, in, r] and B [layers, r, out], unscaled (Hypernetwork.forward). */
  run(hidden: Float32Array, shape: EncoderShape): Promise<LoraTensors>;
  dispose(): void;
}

function invalid(what: string): never {
  throw new PackError('manifest-invalid', `${FILE}: ${what}`, FILE);
}

function positiveInt(c: Record<string, unknown>, key: string): void {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) invalid(`config.${key} must be a positive integer (got ${JSON.stringify(v)})`);
}

function validateConfig(raw: unknown): HypernetConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) invalid('config is not a JSON object');
  const c = raw as Record<string, unknown>;
  for (const k of ['hidden_size', 'num_encoder_layers', 'num_layers', 'rank', 'd_model', 'num_heads', 'mlp_hidden']) positiveInt(c, k);
  const modules = c.modules;
  if (!Array.isArray(modules) || modules.length === 0 || !modules.every((m) => typeof m === 'string') || new Set(modules).size !== modules.length) {
    invalid('config.modules must be a non-empty list of distinct module names');
  }
  for (const k of ['module_in', 'module_out']) {
    const v = c[k];
    if (!Array.isArray(v) || v.length !== modules.length || !v.every((d) => Number.isInteger(d) && d > 0)) {
      invalid(`config.${k} must hold one positive size per module (${modules.length})`);
    }
  }
  if ((c.d_model as number) % (c.num_heads as number) !== 0) invalid('config.num_heads must divide config.d_model');
  return c as unknown as HypernetConfig;
}

/** Every parameter of Hypernetwork(config) with its shape, in state_dict names. */
export function hypernetParamShapes(c: HypernetConfig): Map<string, number[]> {
  const d = c.d_model;
  const shapes = new Map<string, number[]>([
    ['layer_mix', [c.num_encoder_layers]],
    ['in_norm', [c.hidden_size]],
    ['in_proj.weight', [d, c.hidden_size]],
    ['in_proj.bias', [d]],
    ['queries', [c.num_layers * c.modules.length, d]],
    ['k_proj.weight', [d, d]],
    ['v_proj.weight', [d, d]],
    ['o_proj.weight', [d, d]],
    ['mlp_norm', [d]],
    ['fc1.weight', [c.mlp_hidden, d]],
    ['fc1.bias', [c.mlp_hidden]],
    ['fc2.weight', [d, c.mlp_hidden]],
    ['fc2.bias', [d]],
    ['out_norm', [d]],
  ]);
  c.modules.forEach((_, i) => {
    shapes.set(`head_a.${i}.weight`, [c.module_in[i] * c.rank, d]);
    shapes.set(`head_a.${i}.bias`, [c.module_in[i] * c.rank]);
    shapes.set(`head_b.${i}.weight`, [c.rank * c.module_out[i], d]);
    shapes.set(`head_b.${i}.bias`, [c.rank * c.module_out[i]]);
  });
  return shapes;
}

function count(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

/**
 * The training record in `provenance` (training/train_hypernet.py writes {config: {seed, ...}, steps, final, ...};
 * test packs write {kind: "random-init", seed}). It only informs the user, so a missing or garbled record
 * is "unknown", never an error.
 */
export function summarizeHypernet(provenance: string | undefined, dtypes: Iterable<string>): HypernetSummary {
  const storedAs = [...new Set(dtypes)].sort();
  let p: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(provenance ?? '');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) p = parsed as Record<string, unknown>;
  } catch {
    // no readable record
  }
  const config = typeof p.config === 'object' && p.config !== null ? (p.config as Record<string, unknown>) : {};
  const seed = count(config.seed) ?? count(p.seed);
  const steps = count(p.steps);
  if (steps !== undefined && steps > 0) return { origin: 'trained', steps, seed, storedAs };
  if (p.kind === 'random-init') return { origin: 'random', seed, storedAs };
  return { origin: 'unknown', storedAs };
}

/** Read hypernet.safetensors: checks the format and version first, then every tensor against the config. */
export function loadHypernet(bytes: Uint8Array): HypernetFile {
  const file = parseSafetensors(bytes, FILE);
  const { format, formatVersion } = file.metadata;
  if (format !== HYPERNET_FORMAT || formatVersion !== String(HYPERNET_FORMAT_VERSION)) {
    throw new PackError(
      'format-version',
      `${FILE}: format ${JSON.stringify(format)} version ${JSON.stringify(formatVersion)}; this app reads ${HYPERNET_FORMAT} version ${HYPERNET_FORMAT_VERSION}`,
      FILE,
    );
  }
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(file.metadata.config ?? '');
  } catch {
    invalid('metadata "config" is missing or not JSON');
  }
  const config = validateConfig(rawConfig);
  const chunkTokens = Number(file.metadata.chunkTokens);
  if (!Number.isInteger(chunkTokens) || chunkTokens <= 0) invalid(`metadata "chunkTokens" must be a positive integer (got ${JSON.stringify(file.metadata.chunkTokens)})`);

  const expected = hypernetParamShapes(config);
  for (const name of file.tensors.keys()) {
    if (!expected.has(name)) invalid(`tensor "${name}" is not a parameter of the hypernetwork its config describes`);
  }
  const params = new Map<string, Float32Array>();
  for (const [name, shape] of expected) {
    const t = file.tensors.get(name);
    if (!t) invalid(`tensor "${name}" is missing`);
    if (t.shape.length !== shape.length || t.shape.some((dim, i) => dim !== shape[i])) {
      invalid(`tensor "${name}" has shape [${t.shape.join(', ')}], the config needs [${shape.join(', ')}]`);
    }
    params.set(name, file.float32(name));
  }
  const summary = summarizeHypernet(file.metadata.provenance, [...file.tensors.values()].map((t) => t.dtype));
  return { config, chunkTokens, summary, params };
}

function param(file: HypernetFile, name: string): Float32Array {
  const p = file.params.get(name);
  if (!p) throw new Error(`hypernetwork parameter ${name} is missing`);
  return p;
}

/** k_proj and v_proj stacked as one [2D, D] projection: one matrix product makes keys and values side by side. */
function keyValueWeight(file: HypernetFile): Float32Array {
  const k = param(file, 'k_proj.weight');
  const kv = new Float32Array(k.length * 2);
  kv.set(k, 0);
  kv.set(param(file, 'v_proj.weight'), k.length);
  return kv;
}

function checkEncoderShape(c: HypernetConfig, hidden: Float32Array, shape: EncoderShape): void {
  const [e, t, h] = shape;
  if (e !== c.num_encoder_layers || h !== c.hidden_size || !Number.isInteger(t) || t < 1) {
    throw new EngineError('input', `hypernetwork input has shape [${shape.join(', ')}], expected [${c.num_encoder_layers}, tokens >= 1, ${c.hidden_size}]`);
  }
  if (hidden.length !== e * t * h) throw new EngineError('input', `hypernetwork input holds ${hidden.length} values, shape [${shape.join(', ')}] needs ${e * t * h}`);
}

/** Where module `m`'s A and B go in stacked slot tensors A [L, in, slots*r] and B [L, slots*r, out]. */
function slotWrites(c: HypernetConfig, m: number, slot: number, slots: number, scale: number) {
  const r = c.rank;
  const total = slots * r;
  const common = { modules: c.modules.length, module: m };
  const a: LoraHeadTarget = { ...common, headRows: c.module_in[m], headCols: r, rowOffset: 0, colOffset: slot * r, scale: 1 };
  const b: LoraHeadTarget = { ...common, headRows: r, headCols: c.module_out[m], rowOffset: slot * r, colOffset: 0, scale };
  return {
    a: { target: a, shape: [c.num_layers, c.module_in[m], total] as const },
    b: { target: b, shape: [c.num_layers, total, c.module_out[m]] as const },
  };
}

export class HypernetCpu implements Hypernet {
  readonly config: HypernetConfig;
  private readonly keyValue: Float32Array;

  constructor(private readonly file: HypernetFile) {
    this.config = file.config;
    this.keyValue = keyValueWeight(file);
  }

  async pool(hidden: Float32Array, shape: EncoderShape): Promise<Float32Array> {
    return this.forwardPool(hidden, shape).data;
  }

  async run(hidden: Float32Array, shape: EncoderShape): Promise<LoraTensors> {
    const c = this.config;
    const z = this.forwardPool(hidden, shape);
    const out: LoraTensors = {};
    c.modules.forEach((module, m) => {
      const writes = slotWrites(c, m, 0, 1, 1);
      const a = new Float32Array(elementCount(writes.a.shape));
      const b = new Float32Array(elementCount(writes.b.shape));
      this.head(z, 'head_a', m, a, writes.a);
      this.head(z, 'head_b', m, b, writes.b);
      out[module] = { a, b };
    });
    return out;
  }

  dispose(): void {}

  private forwardPool(hidden: Float32Array, shape: EncoderShape): cpu.Matrix {
    const c = this.config;
    checkEncoderShape(c, hidden, shape);
    const [, tokens, hiddenSize] = shape;
    const w = (name: string) => param(this.file, name);
    const weight = (name: string, cols: number) => cpu.matrix(w(name), w(name).length / cols, cols);
    const d = c.d_model;

    const x = cpu.matrix(cpu.layerMix(hidden, w('layer_mix')), tokens, hiddenSize);
    const u = cpu.linear(cpu.rmsNorm(x, w('in_norm'), RMS_EPS), weight('in_proj.weight', hiddenSize), w('in_proj.bias'));
    const keyValue = cpu.linear(u, cpu.matrix(this.keyValue, 2 * d, d), null);
    const attended = cpu.attentionPool(weight('queries', d), keyValue, c.num_heads);
    const z = cpu.linear(attended, weight('o_proj.weight', d), null);
    const h = cpu.linear(cpu.rmsNorm(z, w('mlp_norm'), RMS_EPS), weight('fc1.weight', d), w('fc1.bias'), 'gelu_tanh');
    const residual = cpu.add(z.data, cpu.linear(h, weight('fc2.weight', c.mlp_hidden), w('fc2.bias')).data);
    return cpu.rmsNorm(cpu.matrix(residual, z.rows, d), w('out_norm'), RMS_EPS);
  }

  private head(z: cpu.Matrix, head: 'head_a' | 'head_b', m: number, dst: Float32Array, write: { target: LoraHeadTarget; shape: readonly number[] }): void {
    const weight = param(this.file, `${head}.${m}.weight`);
    const [, dstRows, dstCols] = write.shape;
    cpu.loraHeadWrite(z, cpu.matrix(weight, weight.length / z.cols, z.cols), param(this.file, `${head}.${m}.bias`), dst, dstRows, dstCols, write.target);
  }
}

/** Stacked LoRA inputs of the engine, one pair per target module: A [layers, in, slots*r], B [layers, slots*r, out]. */
export interface StackedLoraBuffers {
  slots: number;
  modules: Record<string, { a: GPUBuffer; b: GPUBuffer }>;
}

export class HypernetGpu implements Hypernet {
  readonly config: HypernetConfig;
  private readonly weights = new Map<string, GpuTensor>();

  /** Uploads the parameters once; `gpu` may wrap a device shared with onnxruntime-web. */
  constructor(
    private readonly gpu: GpuContext,
    file: HypernetFile,
  ) {
    const c = (this.config = file.config);
    const headDim = c.d_model / c.num_heads;
    if (headDim > HEAD_DIM_LIMIT) throw new EngineError('backend', `hypernetwork head dim ${headDim} exceeds the WGSL attention pooling's ${HEAD_DIM_LIMIT}`);
    const shapes = hypernetParamShapes(c);
    for (const [name, shape] of shapes) {
      if (name === 'k_proj.weight' || name === 'v_proj.weight') continue;
      this.weights.set(name, gpu.upload(param(file, name), shape, `hypernet.${name}`));
    }
    this.weights.set('kv_proj.weight', gpu.upload(keyValueWeight(file), [2 * c.d_model, c.d_model], 'hypernet.kv_proj.weight'));
  }

  async pool(hidden: Float32Array, shape: EncoderShape): Promise<Float32Array> {
    return this.gpu.submit('hypernet.pool', (rec) => rec.read(this.recordPool(rec, hidden, shape)));
  }

  async run(hidden: Float32Array, shape: EncoderShape): Promise<LoraTensors> {
    const c = this.config;
    return this.gpu.submit('hypernet.run', (rec) => {
      const z = this.recordPool(rec, hidden, shape);
      const heads = c.modules.map((module, m) => {
        const writes = slotWrites(c, m, 0, 1, 1);
        const a = rec.scratch(writes.a.shape, `${module}.A`);
        const b = rec.scratch(writes.b.shape, `${module}.B`);
        this.recordHead(rec, z, 'head_a', m, a, writes.a.target);
        this.recordHead(rec, z, 'head_b', m, b, writes.b.target);
        return { module, a, b };
      });
      // Reads end the compute pass, so they come after every dispatch.
      return Object.fromEntries(heads.map(({ module, a, b }) => [module, { a: rec.read(a), b: rec.read(b) }]));
    });
  }

  /**
   * Make an adapter straight into slot `slot` of the engine's stacked LoRA buffers; `scale` (alpha / rank times the
   * user's scale) is folded into B. Other slots are left as they are. Resolves when the GPU has finished.
   */
  async writeSlot(hidden: Float32Array, shape: EncoderShape, slot: number, scale: number, slots: StackedLoraBuffers): Promise<void> {
    const c = this.config;
    if (!Number.isInteger(slot) || slot < 0 || slot >= slots.slots) throw new EngineError('input', `slot ${slot} is not one of the ${slots.slots} adapter slots`);
    for (const module of c.modules) {
      if (!slots.modules[module]) throw new EngineError('input', `no LoRA buffers for module ${module}`);
    }
    await this.gpu.submit('hypernet.writeSlot', (rec) => {
      const z = this.recordPool(rec, hidden, shape);
      c.modules.forEach((module, m) => {
        const writes = slotWrites(c, m, slot, slots.slots, scale);
        const buffers = slots.modules[module];
        this.recordHead(rec, z, 'head_a', m, this.gpu.wrap(buffers.a, writes.a.shape, `lora.${module}.A`), writes.a.target);
        this.recordHead(rec, z, 'head_b', m, this.gpu.wrap(buffers.b, writes.b.shape, `lora.${module}.B`), writes.b.target);
      });
    });
  }

  dispose(): void {
    for (const t of this.weights.values()) t.buffer.destroy();
    this.weights.clear();
  }

  private weight(name: string): GpuTensor {
    const t = this.weights.get(name);
    if (!t) throw new EngineError('backend', `hypernetwork weight ${name} is not on the GPU (disposed?)`);
    return t;
  }

  /** Steps 1-5 of training/hypernet.py; returns z [N, D]. Every buffer but the weights lives for this submission only. */
  private recordPool(rec: CommandRecorder, hidden: Float32Array, shape: EncoderShape): GpuTensor {
    const c = this.config;
    checkEncoderShape(c, hidden, shape);
    const [, tokens, hiddenSize] = shape;
    const d = c.d_model;
    const targets = c.num_layers * c.modules.length;
    const w = (name: string) => this.weight(name);

    const input = rec.input(hidden, shape, 'hidden');
    const x = rec.scratch([tokens, hiddenSize], 'mixed');
    layerMix(rec, input, w('layer_mix'), x);
    const xNorm = rec.scratch([tokens, hiddenSize], 'mixed_norm');
    rmsNorm(rec, x, w('in_norm'), xNorm, RMS_EPS);
    const u = rec.scratch([tokens, d], 'in_proj');
    linear(rec, xNorm, w('in_proj.weight'), w('in_proj.bias'), u);
    const keyValue = rec.scratch([tokens, 2 * d], 'kv_proj');
    linear(rec, u, w('kv_proj.weight'), null, keyValue);
    const attended = rec.scratch([targets, d], 'attention');
    attentionPool(rec, w('queries'), keyValue, attended, c.num_heads);
    const z = rec.scratch([targets, d], 'o_proj');
    linear(rec, attended, w('o_proj.weight'), null, z);
    const zNorm = rec.scratch([targets, d], 'mlp_norm');
    rmsNorm(rec, z, w('mlp_norm'), zNorm, RMS_EPS);
    const h = rec.scratch([targets, c.mlp_hidden], 'fc1');
    linear(rec, zNorm, w('fc1.weight'), w('fc1.bias'), h, 'gelu_tanh');
    const mlp = rec.scratch([targets, d], 'fc2');
    linear(rec, h, w('fc2.weight'), w('fc2.bias'), mlp);
    const residual = rec.scratch([targets, d], 'residual');
    add(rec, z, mlp, residual);
    const pooled = rec.scratch([targets, d], 'out_norm');
    rmsNorm(rec, residual, w('out_norm'), pooled, RMS_EPS);
    return pooled;
  }

  private recordHead(rec: CommandRecorder, z: GpuTensor, head: 'head_a' | 'head_b', m: number, dst: GpuTensor, target: LoraHeadTarget): void {
    loraHeadWrite(rec, z, this.weight(`${head}.${m}.weight`), this.weight(`${head}.${m}.bias`), dst, target);
  }
}

/** HypernetGpu when a GPU context is given, else the CPU path. */
export function createHypernet(file: HypernetFile, gpu: GpuContext | null): Hypernet {
  return gpu ? new HypernetGpu(gpu, file) : new HypernetCpu(file);
}
