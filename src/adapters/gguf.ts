/**
 * llama.cpp GGUF LoRA adapters, written as llama.cpp's convert_lora_to_gguf.py writes them from a PEFT
 * adapter: GGUF v3, general.type "adapter", adapter.type "lora", adapter.lora.alpha, and per layer and
 * module `blk.<l>.<tensor>.weight.lora_a` (ggml ne [in, r]) and `.lora_b` (ne [r, out]) in F32.
 * llama.cpp applies alpha / r times its own --lora-scaled factor; the user's scale is folded into lora_b.
 */
import type { ArchitectureType, LoraModule, PackManifest } from '../model/config';
import { toPeftLayout, type ExportableAdapter } from './peft';
import { writeGguf, type GgufKv, type GgufTensor } from '../formats/gguf';

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
  const kvs: GgufKv[] = [
    ['general.architecture', 'string', arch.type],
    ['general.type', 'string', 'adapter'],
    ['general.name', 'string', adapter.name],
    ['adapter.type', 'string', 'lora'],
    ['adapter.lora.alpha', 'f32', lora.alpha],
  ];
  return writeGguf(kvs, tensors);
}
