/**
 * What the WGSL decoder takes: the model's shape and its tensors by role, as typed arrays. No file format and no
 * tensor names: src/model/wgsl-model.ts finds a pack's tensors and fills these in.
 */

/** The linear layers of one transformer layer; LoRA targets are named the same. */
export type DecoderLinear = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';

/** The model's shape as the decoder runs it (a pack's architecture has these fields). */
export interface DecoderShape {
  vocabSize: number;
  hiddenSize: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  intermediateSize: number;
  ropeTheta: number;
  ropeLocalTheta: number | null;
  rmsNormEps: number;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  hiddenAct: 'silu' | 'gelu_tanh';
  layerTypes: ('sliding_attention' | 'full_attention')[] | null;
  slidingWindow: number | null;
  qkNorm: boolean;
  queryPreAttnScalar: number | null;
  embeddingScale: number;
  normWeightOffset: number;
  sandwichNorms: boolean;
  finalLogitSoftcapping: number | null;
}

export interface DecoderSpec {
  architecture: DecoderShape;
  /** The LoRA inputs: total rank (slots * rank) and (in, out) of each target linear. */
  lora: { rank: number; targets: Partial<Record<DecoderLinear, readonly [number, number]>> };
  /** Layers after which the residual stream is captured as encoder states. */
  encoderLayers: number[];
  contextLength: number;
}

/**
 * A weight matrix [rows: outputs, depth: inputs]: fp32, or MatMulNBits blocks along the input (zero points: q4z only;
 * blockSize null: the decoder's own).
 */
export type DecoderMatrix = { rows: number; depth: number } & (
  | { format: 'f32'; data: Float32Array }
  | { format: 'q8' | 'q4' | 'q4z'; blockSize: number | null; quant: Uint8Array; scales: Float32Array; zeroPoints: Uint8Array | null }
);

export interface DecoderLayerWeights {
  linear: Record<DecoderLinear, { weight: DecoderMatrix; bias: Float32Array | null }>;
  inputNorm: Float32Array;
  postAttentionNorm: Float32Array;
  /** Sandwich norms (Gemma): around the MLP. */
  preFeedforwardNorm: Float32Array | null;
  postFeedforwardNorm: Float32Array | null;
  /** QK-norm weights (Gemma 3). */
  qNorm: Float32Array | null;
  kNorm: Float32Array | null;
}

/** Every tensor the decoder runs, by role; `lmHead` null: the embedding is the LM head. */
export interface DecoderWeights {
  embed: DecoderMatrix;
  lmHead: DecoderMatrix | null;
  norm: Float32Array;
  layers: DecoderLayerWeights[];
}
