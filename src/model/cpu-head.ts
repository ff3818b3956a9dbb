/**
 * The LM head of a pack's CPU graph (training/export/cpu_graph.py), outside onnxruntime: the graph outputs the head's
 * input and this computes the logits from the head's int8 table in the weights file, in our WebAssembly SIMD kernel
 * (cpu-head.wat). onnxruntime-web's int8 GEMM spent ~60 ms of a ~90 ms Gemma decode step on this product.
 * Quantization of the activations follows ONNX DynamicQuantizeLinear (uint8, one scale and zero point per vector, in
 * float32, halves to even), then out[r] = f32(sum_i w[r][i] * (q[i] - zero)) * (scale * rowScale[r]), as
 * com.microsoft DynamicQuantizeMatMul computes it; `head_logits` in cpu_graph.py is the same rule in numpy.
 */
import { CPU_HEAD_WASM } from './cpu-head-wasm';
import type { CpuGraphInfo } from './config';
import { EngineError } from '../errors';

/** manifest.cpuGraph.head: where the head's table and row scales lie in the CPU graph's weights file. */
export type CpuHeadInfo = NonNullable<CpuGraphInfo['head']>;

const f32 = Math.fround;

/** Round half to even, as ONNX's quantization rounds. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ONNX DynamicQuantizeLinear of `x`, returned centred (q - zero point, int16) with its scale. */
export function quantizeRow(x: Float32Array): { centred: Int16Array; scale: number } {
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const scale = f32(f32(hi - lo) / 255);
  const centred = new Int16Array(x.length);
  if (scale === 0) return { centred, scale };
  const zero = Math.min(255, Math.max(0, roundEven(f32(-lo / scale))));
  for (let i = 0; i < x.length; i++) centred[i] = Math.min(255, Math.max(0, roundEven(f32(x[i] / scale)) + zero)) - zero;
  return { centred, scale };
}

interface Kernel {
  memory: WebAssembly.Memory;
  head: (w: number, scale: number, a: number, out: number, rows: number, k: number, aScale: number) => void;
}

let compiled: Promise<WebAssembly.Module> | null = null;
const PAGE = 65536;
const align = (n: number) => Math.ceil(n / 64) * 64;

export class CpuHead {
  private constructor(
    /** The graph output the head reads. */
    readonly input: string,
    private readonly kernel: Kernel,
    readonly rows: number,
    readonly hidden: number,
    private readonly at: { a: number; scale: number; out: number; w: number },
  ) {}

  /** The head of `info`, its tensors copied out of the CPU graph's weights file `file`. */
  static async create(file: Uint8Array, info: CpuHeadInfo): Promise<CpuHead> {
    const [rows, hidden] = info.weight.shape;
    if (info.weight.dtype !== 'int8' || info.scale.dtype !== 'float32' || info.scale.shape[0] !== rows || hidden % 16 !== 0) {
      throw new EngineError('backend', `the pack's CPU head is not int8 [rows, hidden % 16] with float32 row scales (${JSON.stringify(info.weight.shape)})`);
    }
    if (info.weight.bytes !== rows * hidden || info.scale.bytes !== rows * 4) {
      throw new EngineError('backend', `the pack's CPU head tensors have ${info.weight.bytes} and ${info.scale.bytes} bytes, not ${rows * hidden} and ${rows * 4}`);
    }
    for (const t of [info.weight, info.scale]) {
      if (t.offset + t.bytes > file.byteLength) throw new EngineError('backend', `the pack's CPU head tensor ${t.name} lies past the end of its weights file`);
    }
    compiled ??= WebAssembly.compile(Uint8Array.from(atob(CPU_HEAD_WASM), (c) => c.charCodeAt(0))).catch((e) => {
      compiled = null; // a later load tries again
      throw e;
    });
    const instance = await WebAssembly.instantiate(await compiled);
    const kernel = instance.exports as unknown as Kernel;
    const at = { a: 0, scale: align(hidden * 2), out: 0, w: 0 };
    at.out = at.scale + align(rows * 4);
    at.w = at.out + align(rows * 4);
    const need = at.w + rows * hidden;
    kernel.memory.grow(Math.ceil(need / PAGE) - kernel.memory.buffer.byteLength / PAGE);
    const mem = new Uint8Array(kernel.memory.buffer);
    mem.set(file.subarray(info.weight.offset, info.weight.offset + info.weight.bytes), at.w);
    mem.set(file.subarray(info.scale.offset, info.scale.offset + info.scale.bytes), at.scale);
    return new CpuHead(info.input, kernel, rows, hidden, at);
  }

  /** Logits [rows] of one hidden vector [hidden]. */
  logits(hidden: Float32Array): Float32Array {
    if (hidden.length !== this.hidden) throw new EngineError('backend', `the CPU head takes ${this.hidden} values, got ${hidden.length}`);
    const { centred, scale } = quantizeRow(hidden);
    new Int16Array(this.kernel.memory.buffer, this.at.a, this.hidden).set(centred);
    this.kernel.head(this.at.w, this.at.scale, this.at.a, this.at.out, this.rows, this.hidden, scale);
    return new Float32Array(this.kernel.memory.buffer, this.at.out, this.rows).slice();
  }
}
