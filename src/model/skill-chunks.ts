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
