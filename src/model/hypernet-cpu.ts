/** The hypernetwork in plain TypeScript (the WebAssembly fallback and the GPU's fallback): training/hypernet.py step by step. */
import { cpu, elementCount, type LoraHeadTarget } from '../kernels';
import type { LoraTensors } from './lora';
import { checkEncoderShape, keyValueWeight, param, RMS_EPS, slotWrites, type EncoderShape, type Hypernet, type HypernetConfig, type HypernetFile } from './hypernet-file';

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
