/** The typed message union between the main thread and the engine worker: {kind, id, content}. */
import type { BackendPreference } from './env';
import type { GenerateParams, GenerateStats, LoraTensors, MadeAdapter, PackInfo, SkillEncoding, SlotAdapter, TokenEvent } from './engine';
import type { ErrorInfo } from '../errors';
import type { LoadProgress, PackSource } from './pack';

export type Request =
  | { kind: 'loadPack'; id: number; content: { source: PackSource; preference: BackendPreference } }
  | { kind: 'generate'; id: number; content: GenerateParams }
  | { kind: 'stop'; id: number; content: null }
  | { kind: 'setLora'; id: number; content: { tensors: LoraTensors | null } }
  | { kind: 'bindAdapters'; id: number; content: { adapters: SlotAdapter[] } }
  | { kind: 'forgetAdapter'; id: number; content: { id: string } }
  | { kind: 'logits'; id: number; content: { inputIds: number[] } }
  | { kind: 'encodeSkill'; id: number; content: { text: string; chunkTokens: number } }
  | { kind: 'makeAdapter'; id: number; content: { text: string } };

export type Response =
  | { kind: 'progress'; id: number; content: LoadProgress }
  | { kind: 'packLoaded'; id: number; content: PackInfo }
  | { kind: 'token'; id: number; content: TokenEvent }
  | { kind: 'generated'; id: number; content: GenerateStats }
  | { kind: 'logitsResult'; id: number; content: { logits: Float32Array } }
  | { kind: 'skillEncoded'; id: number; content: SkillEncoding }
  | { kind: 'adapterMade'; id: number; content: MadeAdapter }
  | { kind: 'ok'; id: number; content: null }
  | { kind: 'error'; id: number; content: ErrorInfo }
  /** The worker cannot go on (a wasm thread died or never started): the client drops it and fails every call. */
  | { kind: 'fatal'; id: 0; content: ErrorInfo };
