/**
 * A pack's weights as the WGSL decoder takes them: the Hugging Face tensor names of weights.safetensors, the manifest's
 * quantization and LoRA targets turned into DecoderWeights and a DecoderSpec. The decoder itself knows no names.
 */
import type { DecoderLinear, DecoderMatrix, DecoderSpec, DecoderWeights } from '../kernels/decode/decoder-weights';
import type { SafetensorsFile } from '../formats/safetensors';
import { EngineError } from '../errors';
import { moduleShape, type LoraModule, type PackManifest } from './config';

/** manifest.weights.quantization of a quantized pack (training/export/pack.py): MatMulNBits blocks. */
interface QuantizationInfo {
  blockSize: number;
  linear: { bits: number; zeroPoints: boolean };
  embedding: { bits: number; zeroPoints: boolean };
}

/** Where each linear of a layer lives under model.layers.<l>. */
const LINEAR_PARENT: Record<DecoderLinear, 'self_attn' | 'mlp'> = {
  q_proj: 'self_attn', k_proj: 'self_attn', v_proj: 'self_attn', o_proj: 'self_attn',
  gate_proj: 'mlp', up_proj: 'mlp', down_proj: 'mlp',
};

/** The decoder's spec of this pack: its architecture, LoRA inputs (all slots side by side) and encoder layers. */
export function decoderSpec(m: PackManifest): DecoderSpec {
  const targets = Object.fromEntries(m.lora.targetModules.map((module) => [module, moduleShape(m.architecture, module)]));
  return {
    architecture: m.architecture,
    lora: { rank: m.lora.rank * m.lora.slots, targets },
    encoderLayers: m.encoder.layers,
    contextLength: m.generation.contextLength,
  };
}

/** Every tensor the decoder runs, found by name in the pack's weights (views into `bytes` where the file allows). */
export function decoderWeights(m: PackManifest, file: SafetensorsFile, bytes: Uint8Array): DecoderWeights {
  const a = m.architecture;
  const quant = (m.weights as { quantization?: QuantizationInfo }).quantization ?? null;
  const raw = (name: string): Uint8Array => {
    const t = file.tensors.get(name);
    if (!t) throw new EngineError('backend', `WGSL engine: weights have no tensor "${name}"`);
    return bytes.subarray(t.begin, t.end);
  };
  const vector = (name: string): Float32Array => file.float32(name);
  const optional = (name: string): Float32Array | null => (file.tensors.has(name) ? file.float32(name) : null);
  /** fp32 under its own name, or MatMulNBits blocks under <name>.quant / .scales (/ .zero_points). */
  const matrix = (name: string, rows: number, depth: number, bits: number, zeroPoints: boolean): DecoderMatrix => {
    if (file.tensors.has(name)) return { format: 'f32', data: file.float32(name), rows, depth };
    if (!file.tensors.has(`${name}.quant`)) throw new EngineError('backend', `WGSL engine: weights have neither "${name}" nor "${name}.quant"`);
    if (bits !== 8 && bits !== 4) throw new EngineError('backend', `WGSL engine: ${bits}-bit weights are not supported`);
    const format = bits === 8 ? 'q8' : zeroPoints ? 'q4z' : 'q4';
    const zeros = format === 'q4z' ? raw(`${name}.zero_points`) : null;
    return { format, blockSize: quant?.blockSize ?? null, quant: raw(`${name}.quant`), scales: vector(`${name}.scales`), zeroPoints: zeros, rows, depth };
  };
  const linearBits = quant?.linear.bits ?? 0;
  const linearZeros = quant?.linear.zeroPoints ?? false;
  const layers = Array.from({ length: a.numHiddenLayers }, (_, l) => {
    const p = `model.layers.${l}`;
    const linear = Object.fromEntries(
      (Object.keys(LINEAR_PARENT) as DecoderLinear[]).map((module) => {
        const [fanIn, fanOut] = moduleShape(a, module as LoraModule);
        const name = `${p}.${LINEAR_PARENT[module]}.${module}`;
        return [module, { weight: matrix(`${name}.weight`, fanOut, fanIn, linearBits, linearZeros), bias: optional(`${name}.bias`) }];
      }),
    ) as DecoderWeights['layers'][number]['linear'];
    return {
      linear,
      inputNorm: vector(`${p}.input_layernorm.weight`),
      postAttentionNorm: vector(`${p}.post_attention_layernorm.weight`),
      preFeedforwardNorm: a.sandwichNorms ? vector(`${p}.pre_feedforward_layernorm.weight`) : null,
      postFeedforwardNorm: a.sandwichNorms ? vector(`${p}.post_feedforward_layernorm.weight`) : null,
      qNorm: a.qkNorm ? vector(`${p}.self_attn.q_norm.weight`) : null,
      kNorm: a.qkNorm ? vector(`${p}.self_attn.k_norm.weight`) : null,
    };
  });
  return {
    embed: matrix('model.embed_tokens.weight', a.vocabSize, a.hiddenSize, quant?.embedding.bits ?? 0, false),
    lmHead: a.tieWordEmbeddings ? null : matrix('lm_head.weight', a.vocabSize, a.hiddenSize, linearBits, linearZeros),
    norm: vector('model.norm.weight'),
    layers,
  };
}
