/** The decode engine interface: the SkillEngine (in the worker), the worker handler and the main-thread client all implement it. */
import type { PackManifest } from './config';
import type { HypernetSummary } from './hypernet-file';
import type { AdapterModules, LoraTensors } from './lora';
import type { Backend, BackendPreference } from './env';
import type { LoadProgress, PackSource } from './pack';
import type { ChatMessage } from './tokenizer';

export type { AdapterModules, LoraPair, LoraTensors } from './lora';

export interface GenerateParams {
  messages: ChatMessage[];
  maxNewTokens: number;
  temperature: number;
  topP: number;
  seed?: number;
  /** Keep decoding past end-of-turn tokens up to maxNewTokens (benchmarks measure a fixed number of steps). */
  ignoreEos?: boolean;
  /** Stop once a non-blank line has ended (a newline after text): for one-line answers, such as the skill benchmark's. */
  stopAtLineEnd?: boolean;
}

export type StopReason = 'eos' | 'max-tokens' | 'stopped' | 'context-full' | 'line-end';

export interface GenerateStats {
  promptTokens: number;
  generatedTokens: number;
  /** Prompt tokens dropped from the start because the conversation exceeded the context. */
  truncatedTokens: number;
  prefillMs: number;
  decodeMs: number;
  stopReason: StopReason;
  text: string;
  tokenIds: number[];
}

export interface TokenEvent {
  tokenId: number;
  /** Text added by this token (may be empty while a multi-byte character is incomplete). */
  delta: string;
}

export interface PackInfo {
  manifest: PackManifest;
  backend: Backend;
  /** Which decode engine runs: onnxruntime-web, or our own WGSL kernels (WebGPU only). */
  engine?: EngineKind;
  backendNote: string;
  /** The pack's hypernetwork as its file describes it; absent when the pack has none. */
  hypernet?: HypernetSummary;
}

export type EngineKind = 'ort' | 'wgsl';

/** Base-model hidden states of a skill text at the pack's encoder layers: [E, T, H], chunks concatenated along T. */
export interface SkillEncoding {
  hidden: Float32Array;
  shape: [number, number, number];
  chunks: number;
  tokens: number;
  /** Tokens beyond the encoder's chunk budget, left out (the UI says so). */
  droppedTokens: number;
  ms: number;
}

export interface MadeAdapter {
  modules: AdapterModules;
  tokens: number;
  chunks: number;
  droppedTokens: number;
  encodeMs: number;
  hypernetMs: number;
  /** Where the hypernetwork ran: WGSL kernels or the TypeScript CPU path. */
  device: 'webgpu' | 'cpu';
}

/**
 * An adapter for one of the pack's slots: its id, the user's scale, and its unscaled A/B. The tensors travel to the
 * engine once (EngineClient sends them only to a worker that does not hold them yet), so a scale change or a switch
 * on/off moves ids and scales only.
 */
export interface SlotAdapter {
  id: string;
  scale: number;
  /** Absent: the engine composes the adapter it already holds under `id`. */
  modules?: AdapterModules;
}

export interface Engine {
  loadPack(source: PackSource, preference: BackendPreference, onProgress: (p: LoadProgress) => void): Promise<PackInfo>;
  generate(params: GenerateParams, onToken: (e: TokenEvent) => void): Promise<GenerateStats>;
  /** Ends the running generation after the current step; generate() resolves with stopReason "stopped". */
  stop(): void;
  /** Replace the bound LoRA tensors (null: zeros, the base model). */
  setLora(tensors: LoraTensors | null): Promise<void>;
  /** Bind these adapters in slots 0.. at their scales (none: the base model), composed where the engine runs. */
  bindAdapters(adapters: readonly SlotAdapter[]): Promise<void>;
  /** Let the engine drop an adapter it holds (deleted by the user). */
  forgetAdapter(id: string): Promise<void>;
  /** Encode a skill text chunk by chunk (each chunk opened by BOS, positions from 0), as training/skill_encoder.py does. */
  encodeSkill(text: string, chunkTokens: number): Promise<SkillEncoding>;
  /** Skill text -> encoder states -> hypernetwork -> LoRA A/B for every target layer and module. */
  makeAdapter(text: string): Promise<MadeAdapter>;
  /** Last-position logits of a token sequence from a fresh cache (tests and benchmarks). */
  logits(inputIds: number[]): Promise<Float32Array>;
}
