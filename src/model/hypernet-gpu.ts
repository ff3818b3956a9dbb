/**
 * The hypernetwork on WGSL kernels: the parameters uploaded once, the whole forward recorded into one command encoder
 * (training/hypernet.py step by step), on our own device or on onnxruntime-web's.
 */
import {
  add,
  attentionPool,
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
import type { LoraTensors } from './lora';
import { EngineError } from '../errors';
import {
  checkEncoderShape,
  hypernetParamShapes,
  keyValueWeight,
  param,
  RMS_EPS,
  slotWrites,
  type EncoderShape,
  type Hypernet,
  type HypernetConfig,
  type HypernetFile,
} from './hypernet-file';

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
