/**
 * What a decode backend supplies to the SkillEngine: a model that runs tokens through itself with its own KV cache
 * and bound LoRA. Everything else (tokenizer, hypernetwork, adapters, busy/stop, sampling, the decode loop) is the
 * engine's, so a fix there reaches every backend. Two implement it: onnxruntime-web (WebGPU, or WebAssembly with the
 * pack's CPU graph and its CPU head) in ort-backend.ts, our WGSL decoder in wgsl-backend.ts.
 */
import type { PackGraph } from './config';
import type { EngineKind } from './engine';
import type { Backend, BackendPreference } from './env';
import type { GpuContext } from '../kernels';
import type { LoraTensors } from './lora';
import type { LoadedPack } from './pack';

export interface ForwardOptions {
  /** Read back the last position's logits. */
  logits?: boolean;
  /**
   * Read back the hidden states after the pack's encoder layers, [E, T, H], of the base model (the bound LoRA plays no
   * part). Only for that: a backend may stop after the last encoder layer (our WGSL decoder does: no logits, and the
   * next sequence starts at position 0).
   */
  captureHidden?: boolean;
  /** Where the backend samples on its device (samplesOnDevice): choose the next token there, greedy at temperature 0. */
  sample?: { temperature: number; seed: number };
}

export interface ForwardResult {
  /** The token chosen on the device when `sample` was given to a backend that samples there; else -1. */
  token: number;
  logits: Float32Array | null;
  hidden: Float32Array | null;
}

/** What a started backend reports: the pack files it ran (tokenizer and hypernetwork come from them) and how it runs. */
export interface BackendStart {
  pack: LoadedPack;
  backend: Backend;
  /** Says which engine and device run, and why a fallback was taken, for the user. */
  note: string;
}

export interface ForwardBackend {
  readonly kind: EngineKind;
  /** True while a model is loaded. */
  readonly loaded: boolean;
  /** Positions the KV cache can hold (the pack's context, or less where the backend's cache is smaller). */
  readonly maxContext: number;
  /** Greedy and plain temperature sampling run on the device and only the token id comes back (forward's `sample`). */
  readonly samplesOnDevice: boolean;
  /**
   * Load a pack: `fetchPack` gives its files for a graph (a backend may ask again for another graph when it falls back).
   * The previous model is given back before the new one is made; a failure before that (a pack error) keeps it,
   * any later failure leaves the backend unloaded.
   */
  load(fetchPack: (graph: PackGraph) => Promise<LoadedPack>, preference: BackendPreference): Promise<BackendStart>;
  /**
   * Run `ids` at positions pastLength.. on top of the KV cache's first pastLength positions, which it then holds
   * (pastLength 0: a new sequence). A lost device fails with EngineError 'device-lost'.
   */
  forward(ids: readonly number[], pastLength: number, options?: ForwardOptions): Promise<ForwardResult>;
  /** Drop the KV cache (frees its device tensors between sequences). */
  resetCache(): void;
  /** Bind LoRA tensors of every target module, shapes checked by the engine (null: none, the base model). */
  setLora(tensors: LoraTensors | null): void;
  /** The GPU context the hypernetwork runs on next to the model, or null where it runs on the CPU. */
  hypernetGpu(): Promise<GpuContext | null>;
  /** After a failure of other work on the backend's device: throws 'device-lost' when the device turns out lost. */
  checkDevice(): Promise<void>;
  /** Give back the model (sessions, GPU buffers, the device where the backend owns it). */
  unload(): Promise<void>;
}
