/** Skill text -> token chunks for the encoder, as training/skill_encoder.py cuts them. */
import type { ChatTokenizer } from './tokenizer';

/** A bound on work and memory for pasted books: tokens past this many chunks are dropped and reported. */
export const MAX_SKILL_CHUNKS = 64;

export interface SkillChunks {
  /** Each chunk opened by BOS (when the tokenizer has one), positions restarting at 0. */
  chunks: number[][];
  tokens: number;
  droppedTokens: number;
}

export function skillChunks(tokenizer: ChatTokenizer, text: string, chunkTokens: number): SkillChunks {
  const ids = tokenizer.encode(text);
  const bos = tokenizer.bosTokenId;
  const body = chunkTokens - (bos === null ? 0 : 1);
  const kept = ids.slice(0, body * MAX_SKILL_CHUNKS);
  const chunks: number[][] = [];
  for (let i = 0; i < Math.max(kept.length, 1); i += body) chunks.push([...(bos === null ? [] : [bos]), ...kept.slice(i, i + body)]);
  return { chunks, tokens: ids.length, droppedTokens: ids.length - kept.length };
}

/** Run each chunk through `encode` (its states [E, chunk length, H]) and place them side by side in [E, T, H]. */
export async function encodeChunks(
  chunks: number[][],
  layers: number,
  hiddenSize: number,
  encode: (chunk: number[]) => Promise<Float32Array>,
): Promise<{ hidden: Float32Array; shape: [number, number, number] }> {
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const hidden = new Float32Array(layers * total * hiddenSize);
  let offset = 0;
  for (const chunk of chunks) {
    const h = await encode(chunk);
    for (let e = 0; e < layers; e++) {
      hidden.set(h.subarray(e * chunk.length * hiddenSize, (e + 1) * chunk.length * hiddenSize), (e * total + offset) * hiddenSize);
    }
    offset += chunk.length;
  }
  return { hidden, shape: [layers, total, hiddenSize] };
}
