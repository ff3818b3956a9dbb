/** The app state's types: what components render and the intents they call. */
import type { AdapterLibrary, StoredAdapter } from '../adapters/persistence';
import type { PackGraph } from '../model/config';
import type { GenerateStats, PackInfo } from '../model/engine';
import type { BackendPreference } from '../model/env';
import type { LoadProgress, PackSource } from '../model/pack';
import type { ChatMessage } from '../model/tokenizer';
import type { ChatHistory, SavedStats } from './history';
import type { DownloadNeed } from './pack-cache';

export interface LiveCount {
  /** Tokens received so far. */
  tokens: number;
  /** Milliseconds from the first token to the latest: tokens/s while it writes leaves out the prefill. */
  ms: number;
}

export interface ChatTurn extends ChatMessage {
  id: number;
  role: 'user' | 'assistant';
  /** Set on assistant turns once they finish. */
  stats?: GenerateStats | SavedStats;
  /** Assistant turns: the adapters switched on when the answer was asked for (none: the base model). */
  adapters?: { name: string; scale: number }[];
  /** Assistant turns: the Max new tokens setting it was asked with, so a cut answer says which limit cut it. */
  maxNewTokens?: number;
  /** Assistant turns while they are written. */
  live?: LiveCount;
}

export interface Settings {
  /** null: the loaded pack's default (maxNewTokensFor). */
  maxNewTokens: number | null;
  temperature: number;
  topP: number;
  /** Sent first in every chat, as a system message; empty: none. */
  systemPrompt: string;
}

export interface AdapterEntry extends StoredAdapter {
  /** Why it cannot run on the loaded pack (made for another pack or other weights); null when it can. */
  mismatch: string | null;
}

export type ExportFormat = 'peft' | 'gguf';

/** An exported adapter, ready to be saved by the page. */
export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
  type: string;
}

/** A file the user picked (a browser File has this shape). */
export interface PickedFile {
  name: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Where the settings (system prompt included) are kept between visits. */
export interface SettingsStorage {
  load(): unknown;
  save(settings: Settings): void;
}

export interface AppOptions {
  /** Where adapters are saved; IndexedDB by default. */
  library?: AdapterLibrary;
  /** Where the chat is saved, per pack; IndexedDB by default. */
  history?: ChatHistory;
  /** Where the settings are kept; localStorage by default. */
  settingsStorage?: SettingsStorage;
  /** What loading a pack URL would download (asked before a large first download); the Cache API by default. */
  downloadCheck?: (baseUrl: string, graph?: PackGraph) => Promise<DownloadNeed | null>;
}

export type CompareMode = 'base' | 'icl' | 'adapter';
export interface CompareAnswer {
  text: string;
  /** Set once the answer has finished. */
  stats?: GenerateStats;
  live?: LiveCount;
  /** Why this mode did not run. */
  skipped?: string;
}
export interface CompareResult {
  message: string;
  /** The adapter whose skill both the in-context answer and the adapter answer come from; null: the text box's skill. */
  skillName: string | null;
  answers: Partial<Record<CompareMode, CompareAnswer>>;
  /** The mode being answered now; null once Compare is over. */
  running: CompareMode | null;
  /** The Max new tokens the answers were asked with. */
  maxNewTokens: number;
}
/** What Compare compares: a saved adapter (its own skill text goes in context), or a skill text with no adapter. */
export type CompareSource = { adapterId: string } | { skillText: string };

/** A large first download the user is asked about before it starts. */
export interface DownloadPrompt extends DownloadNeed {
  source: string;
  preference: BackendPreference;
  /** The user said not now: nothing is downloaded until they press Download. */
  declined: boolean;
}

export interface AppState {
  packStatus: 'idle' | 'confirm' | 'loading' | 'ready' | 'error';
  progress: LoadProgress | null;
  pack: PackInfo | null;
  error: string | null;
  turns: ChatTurn[];
  generating: boolean;
  notice: string | null;
  /** The conversation just cleared, kept so Clear can be undone; null when there is nothing to undo. */
  clearedTurns: ChatTurn[] | null;
  /** Problems saving or loading the chat history. */
  historyNote: string | null;
  settings: Settings;
  adapters: AdapterEntry[];
  making: boolean;
  skillNote: string | null;
  /** Messages about the adapter library: saving, loading, import, export, adapters of other packs. */
  libraryNote: string | null;
  /** Library writes (save, rename, delete) not yet committed to IndexedDB; leaving the page now would lose them. */
  pendingWrites: number;
  /** The adapter list shows the adapters whose name or skill text match it. */
  adapterQuery: string;
  compare: CompareResult | null;
  /** The last pack asked for, so a failed load can be retried as it was. */
  packRequest: { source: PackSource; preference: BackendPreference } | null;
  /** A large download waiting for the user's yes. */
  download: DownloadPrompt | null;
  /** What an engine switch did: the model is loaded again, then which engine runs. */
  engineNote: string | null;
  /** `confirmed`: the user said yes to a large download; `keepEngineNote`: an engine switch's own load. */
  loadPack(source: PackSource, preference: BackendPreference, opts?: { confirmed?: boolean; keepEngineNote?: boolean }): Promise<void>;
  confirmDownload(): Promise<void>;
  declineDownload(): void;
  switchEngine(preference: BackendPreference): Promise<void>;
  send(text: string): Promise<void>;
  regenerate(): Promise<void>;
  stop(): void;
  clearChat(): void;
  undoClear(): void;
  updateSettings(patch: Partial<Settings>): void;
  makeAdapter(skill: string): Promise<void>;
  toggleAdapter(id: string): Promise<void>;
  setAdapterScale(id: string, scale: number): Promise<void>;
  removeAdapter(id: string): Promise<void>;
  renameAdapter(id: string, name: string): Promise<void>;
  setAdapterQuery(query: string): void;
  /** The adapter as a file for the user to save, handed to `save` when given (the UI's download); null when it cannot be
   *  exported or saved (said in libraryNote). */
  exportAdapter(id: string, format: ExportFormat, save?: (file: ExportedFile) => void): ExportedFile | null;
  importAdapter(files: readonly PickedFile[]): Promise<void>;
  runCompare(message: string, source: CompareSource): Promise<void>;
}
