/**
 * llama.cpp GGUF LoRA adapters, written as llama.cpp's convert_lora_to_gguf.py writes them from a PEFT
 * adapter: GGUF v3, general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per layer and
 * module `blk.<l>.<tensor>.weight.lora_a` (ggml ne [in, r]) and `.lora_b` (ne [r, out]) in F32.
 * llama.cpp applies alpha / r times its own --lora-scaled factor; the user's scale is folded into lora_b.
 */
import type { ArchitectureType, LoraModule, PackManifest } from '../model/config';
import { toPeftLayout, type ExportableAdapter } from './peft';

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_VERSION = 3;
/** llama.cpp's default (general.alignment absent): tensor data starts and every tensor begins on it. */
export const GGUF_ALIGNMENT = 32;

/** GGUF metadata value types (only those an adapter needs). */
const VALUE_TYPE = { FLOAT32: 6, STRING: 8 } as const;
const GGML_TYPE_F32 = 0;

/** llama.cpp's tensor names for the Hugging Face modules (gguf-py's tensor_mapping.py). */
export const GGUF_TENSOR: Record<LoraModule, string> = {
  q_proj: 'attn_q', k_proj: 'attn_k', v_proj: 'attn_v', o_proj: 'attn_output',
  gate_proj: 'ffn_gate', up_proj: 'ffn_up', down_proj: 'ffn_down',
};

/**
 * llama.cpp's llama architecture rotates interleaved pairs, Hugging Face's llama rotates halves, so its
 * converter permutes the q/k output rows (LlamaModel.permute); qwen2 and gemma3 keep Hugging Face's order.
 */
const PERMUTES_QK: Record<ArchitectureType, boolean> = { llama: true, qwen2: false, gemma3: false };

/** Rows of each head reordered from [half, pair] to [pair, half], as LlamaModel.permute does: [out, r] stays [out, r]. */
export function permuteRows(m: Float32Array, heads: number, cols: number): Float32Array {
  const rows = m.length / cols;
  const headDim = rows / heads;
  const half = headDim / 2;
  const out = new Float32Array(m.length);
  for (let h = 0; h < heads; h++) {
    for (let s = 0; s < 2; s++) {
      for (let j = 0; j < half; j++) {
        const from = (h * headDim + s * half + j) * cols;
        out.set(m.subarray(from, from + cols), (h * headDim + j * 2 + s) * cols);
      }
    }
  }
  return out;
}

interface GgufTensor {
  name: string;
  /** ggml order: ne[0] is the fastest-varying dimension. */
  ne: number[];
  data: Float32Array;
}

/** Little-endian byte sink that grows as it is written. */
class ByteWriter {
  private buf = new Uint8Array(1 << 12);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    if (this.length + n > this.buf.length) {
      const grown = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
      this.view = new DataView(grown.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  // Each method reserves before it reads this.view or this.buf: reserving may replace them.
  u32(v: number) {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  u64(v: number) {
    const at = this.reserve(8);
    this.view.setBigUint64(at, BigInt(v), true);
  }
  f32(v: number) {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  bytes(b: Uint8Array) {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  string(s: string) {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number) {
    this.reserve((alignment - (this.length % alignment)) % alignment);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

type Kv = [key: string, type: typeof VALUE_TYPE.STRING, value: string] | [key: string, type: typeof VALUE_TYPE.FLOAT32, value: number];

function writeGguf(kvs: readonly Kv[], tensors: readonly GgufTensor[]): Uint8Array {
  const w = new ByteWriter();
  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(tensors.length);
  w.u64(kvs.length);
  for (const [key, type, value] of kvs) {
    w.string(key);
    w.u32(type);
    if (type === VALUE_TYPE.STRING) w.string(value);
    else w.f32(value);
  }
  const align = (n: number) => Math.ceil(n / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  let offset = 0;
  for (const t of tensors) {
    w.string(t.name);
    w.u32(t.ne.length);
    for (const d of t.ne) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    offset = align(offset + t.data.byteLength);
  }
  for (const t of tensors) {
    w.padTo(GGUF_ALIGNMENT);
    // Every browser is little-endian, which is the byte order GGUF stores.
    w.bytes(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  w.padTo(GGUF_ALIGNMENT);
  return w.result();
}

/** The adapter as a llama.cpp LoRA GGUF for the pack's base model (`llama-cli -m base.gguf --lora this.gguf`). */
export function exportGguf(adapter: ExportableAdapter, manifest: PackManifest): Uint8Array {
  const { architecture: arch, lora } = manifest;
  const heads: Partial<Record<LoraModule, number>> = PERMUTES_QK[arch.type] ? { q_proj: arch.numAttentionHeads, k_proj: arch.numKeyValueHeads } : {};
  const tensors = toPeftLayout(adapter.modules, adapter.scale, arch, lora).flatMap((p): GgufTensor[] => {
    const base = `blk.${p.layer}.${GGUF_TENSOR[p.module]}.weight`;
    const permuteHeads = heads[p.module];
    const loraB = permuteHeads ? permuteRows(p.loraB, permuteHeads, lora.rank) : p.loraB;
    return [
      { name: `${base}.lora_a`, ne: [p.fanIn, lora.rank], data: p.loraA },
      { name: `${base}.lora_b`, ne: [lora.rank, p.fanOut], data: loraB },
    ];
  });
  const kvs: Kv[] = [
    ['general.architecture', VALUE_TYPE.STRING, arch.type],
    ['general.type', VALUE_TYPE.STRING, 'adapter'],
    ['general.name', VALUE_TYPE.STRING, adapter.name],
    ['adapter.type', VALUE_TYPE.STRING, 'lora'],
    ['adapter.lora.alpha', VALUE_TYPE.FLOAT32, lora.alpha],
  ];
  return writeGguf(kvs, tensors);
}
