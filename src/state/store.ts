/** App state (zustand). Components render it and call its intents; only the store talks to the engine. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { exportGguf } from '../adapters/gguf';
import { exportPeftZip, importPeftFiles } from '../adapters/peft';
import {
  createIndexedDbLibrary,
  metaOf,
  packIdentity,
  packMismatch,
  StorageError,
  toStorageError,
  type AdapterLibrary,
  type PackIdentity,
  type StoredAdapter,
} from '../adapters/persistence';
import { parseSkill } from '../adapters/skill';
import { composeSlots } from '../adapters/slots';
import type { AdapterModules, Engine, GenerateStats, PackInfo } from '../model/engine';
import type { BackendPreference } from '../model/env';
import { EngineError } from '../errors';
import type { LoadProgress, PackSource } from '../model/pack';
import type { ChatMessage } from '../model/tokenizer';
import { createIndexedDbHistory, type ChatHistory, type SavedStats } from './history';
import { downloadNeed, expectedGraph, LARGE_DOWNLOAD_BYTES, type DownloadNeed } from './pack-cache';
import type { PackGraph } from '../model/config';

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
  /** Hands an exported file to the user; a browser download by default. */
  saveFile?: (name: string, bytes: Uint8Array, type: string) => void;
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
  exportAdapter(id: string, format: ExportFormat): void;
  importAdapter(files: readonly PickedFile[]): Promise<void>;
  runCompare(message: string, source: CompareSource): Promise<void>;
}

export const DEFAULT_SETTINGS: Settings = { maxNewTokens: null, temperature: 0, topP: 0.95, systemPrompt: '' };

/**
 * The default answer length for a pack: a quarter of its context, from 64 to 512 tokens. 64 cut most chat answers
 * short; more than a quarter would push a small model's conversation out of its context after one or two turns.
 */
export function maxNewTokensFor(contextLength: number): number {
  return Math.min(512, Math.max(64, Math.floor(contextLength / 4)));
}

/** The Max new tokens that applies now: the user's number, else the pack's default. */
export function effectiveMaxNewTokens(s: Pick<AppState, 'settings' | 'pack'>): number {
  return s.settings.maxNewTokens ?? maxNewTokensFor(s.pack?.manifest.generation.contextLength ?? 2048);
}

/** Said when a message is sent while an answer is being written: one generation runs at a time. */
export const BUSY_NOTICE = 'One answer at a time: wait for this one to finish, or press Stop, then send your message.';

const SETTINGS_KEY = 'parametric-skills-settings';

/** localStorage, where the page may use it; settings then simply last for the session. */
const localSettings: SettingsStorage = {
  load() {
    try {
      return JSON.parse(globalThis.localStorage?.getItem(SETTINGS_KEY) ?? 'null');
    } catch {
      return null;
    }
  },
  save(settings) {
    try {
      globalThis.localStorage?.setItem(SETTINGS_KEY, JSON.stringify(settings));
    } catch {
      // storage blocked or full: the settings hold for this session
    }
  },
};

/** Saved settings, each value checked and clamped as the Settings form does; anything unreadable is the default. */
export function readSettings(raw: unknown): Settings {
  const r = (raw ?? {}) as Partial<Record<keyof Settings, unknown>>;
  const num = (v: unknown, lo: number, hi: number, d: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : d);
  return {
    maxNewTokens: typeof r.maxNewTokens === 'number' && Number.isFinite(r.maxNewTokens) ? Math.round(num(r.maxNewTokens, 1, 4096, 1)) : null,
    temperature: num(r.temperature, 0, 2, DEFAULT_SETTINGS.temperature),
    topP: num(r.topP, 0.05, 1, DEFAULT_SETTINGS.topP),
    systemPrompt: typeof r.systemPrompt === 'string' ? r.systemPrompt : DEFAULT_SETTINGS.systemPrompt,
  };
}

/** Start a browser download of `bytes`. */
function downloadFile(name: string, bytes: Uint8Array, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Revoking at once can cancel the download in some browsers; a minute is ample to start it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file name from an adapter name: letters, digits, dot, dash and underscore only. */
function fileStem(name: string): string {
  return name.trim().replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'adapter';
}

function adapterBytes(modules: AdapterModules): number {
  return Object.values(modules).reduce((n, p) => n + p.a.byteLength + p.b.byteLength, 0);
}

/** Counts tokens as they stream in; tokens/s is then (tokens - 1) over the time since the first. */
function liveCounter(): { tick(): LiveCount } {
  let first = 0;
  let tokens = 0;
  return {
    tick() {
      const now = performance.now();
      if (tokens++ === 0) first = now;
      return { tokens, ms: now - first };
    },
  };
}

/** What the user is told when the chat cannot be saved or read back. */
function historyMessage(e: unknown): string {
  if (e instanceof StorageError && e.problem === 'unavailable') {
    return 'This browser does not let the page save data (a private window, or site storage switched off): the chat lasts until the page is closed.';
  }
  return (e as Error).message;
}

/** Entries in use on the loaded pack: active and made for it. */
function inUse(adapters: readonly AdapterEntry[]): AdapterEntry[] {
  return adapters.filter((a) => a.active && !a.mismatch);
}

export function createAppStore(engine: Engine, options: AppOptions = {}): StoreApi<AppState> {
  const library = options.library ?? createIndexedDbLibrary();
  const saveFile = options.saveFile ?? downloadFile;
  const history = options.history ?? createIndexedDbHistory();
  const settingsStorage = options.settingsStorage ?? localSettings;
  const downloadCheck = options.downloadCheck ?? downloadNeed;
  let nextTurnId = 1;
  /** The pack whose conversation `turns` holds; loading another pack swaps in that pack's saved chat. */
  let historyPack: string | null = null;
  /** Set by Stop during Compare: the modes not yet run are skipped. */
  let compareStopped = false;
  return createStore<AppState>()((set, get) => {
    /** Save the conversation of the loaded pack; a failure is said once under the chat and loses nothing on the page. */
    const saveHistory = async (turns: readonly ChatTurn[] = get().turns) => {
      if (!historyPack) return;
      try {
        await history.save(historyPack, turns);
        if (get().historyNote) set({ historyNote: null });
      } catch (e) {
        set({ historyNote: historyMessage(e) });
      }
    };
    /** Swap in the saved chat of the pack just loaded (the same pack loaded again keeps the chat on the page). */
    const loadHistory = async (packId: string) => {
      if (historyPack === packId) return;
      historyPack = packId;
      let saved: ChatTurn[] = [];
      try {
        saved = await history.load(packId);
        set({ historyNote: null });
      } catch (e) {
        set({ historyNote: historyMessage(e) });
      }
      nextTurnId = Math.max(nextTurnId, ...saved.map((t) => t.id + 1));
      set({ turns: saved, clearedTurns: null });
    };
    /** Bind the active adapters' composition (or zeros) to the engine. */
    const bindActive = async () => {
      const pack = get().pack;
      if (!pack) return;
      await engine.setLora(composeSlots(inUse(get().adapters), pack.manifest.architecture, pack.manifest.lora));
    };
    /** Run a library write; a failure is said in the list and never drops the adapter from the page. */
    const persist = async (doing: string, write: () => Promise<void>) => {
      set({ pendingWrites: get().pendingWrites + 1 });
      try {
        await write();
      } catch (e) {
        set({ libraryNote: toStorageError(e, doing).message });
      } finally {
        set({ pendingWrites: get().pendingWrites - 1 });
      }
    };
    const patchAdapter = (id: string, patch: Partial<AdapterEntry>): AdapterEntry | undefined => {
      set({ adapters: get().adapters.map((a) => (a.id === id ? { ...a, ...patch } : a)) });
      return get().adapters.find((a) => a.id === id);
    };
    const saveMeta = async (entry: AdapterEntry | undefined) => {
      if (entry) await persist(`saving the changes to "${entry.name}"`, () => library.update(metaOf(entry)));
    };
    /** Saved adapters of every pack, listed; those of other packs or weights are marked and never bound. */
    const loadLibrary = async (identity: PackIdentity, slots: number) => {
      let saved: StoredAdapter[];
      let unreadable: number;
      try {
        ({ adapters: saved, unreadable } = await library.loadAll());
      } catch (e) {
        set({ libraryNote: toStorageError(e, 'loading the saved adapters').message });
        return;
      }
      const savedIds = new Set(saved.map((a) => a.id));
      const unsaved = get().adapters.filter((a) => !savedIds.has(a.id));
      let free = slots;
      const adapters = [...saved, ...unsaved].map((a): AdapterEntry => {
        const mismatch = packMismatch(a, identity);
        if (!a.active || mismatch) return { ...a, mismatch };
        // Saved flags may ask for more slots than this pack has: the oldest keep theirs for this session.
        free -= 1;
        return { ...a, active: free >= 0, mismatch };
      });
      set({ adapters, libraryNote: unreadable > 0 ? `${unreadable} saved adapter(s) could not be read (damaged, or saved by a newer version of the app) and are left as they are.` : null });
    };
    /**
     * After a lost GPU device the engine cannot run until the pack is loaded again, which makes a new session on a
     * new device (or on WebAssembly): load it, and add to the note that told the failure what runs now.
     */
    const restartAfterDeviceLoss = async (err: unknown, noteKey: 'notice' | 'skillNote') => {
      const request = get().packRequest;
      if (!(err instanceof EngineError && err.code === 'device-lost') || !request) return;
      const failed = get()[noteKey];
      set({ [noteKey]: `${failed}. Starting the model again…` });
      await get().loadPack(request.source, request.preference);
      const pack = get().pack;
      if (get().packStatus === 'ready' && pack) set({ [noteKey]: `${failed}. The model was started again: ${pack.backendNote}.` });
    };
    const addAdapter = async (entry: AdapterEntry, notes: string[], noteKey: 'skillNote' | 'libraryNote') => {
      if (!entry.active) {
        const slots = get().pack?.manifest.lora.slots ?? 0;
        notes.push(`All ${slots} adapter slots are in use, so "${entry.name}" was saved switched off: switch another adapter off, then tick this one.`);
      }
      set({ adapters: [...get().adapters, entry], [noteKey]: notes.join(' ') || null });
      // The write starts first: binding waits on the GPU, and the page may be closed meanwhile.
      await Promise.all([persist(`saving "${entry.name}"`, () => library.add(entry)), bindActive()]);
    };
    /** Answer the conversation `turns` (it ends with the user's message): the reply streams into a new turn. */
    const answer = async (turns: ChatTurn[]) => {
      const { settings } = get();
      const maxNewTokens = effectiveMaxNewTokens(get());
      const adapters = inUse(get().adapters).map(({ name, scale }) => ({ name, scale }));
      const reply: ChatTurn = { id: nextTurnId++, role: 'assistant', content: '', adapters, maxNewTokens };
      set({ turns: [...turns, reply], generating: true, notice: null, clearedTurns: null });
      // The question is saved before the answer comes, so closing the page meanwhile keeps it.
      void saveHistory(turns);
      const patchReply = (patch: Partial<ChatTurn>) =>
        set({ turns: get().turns.map((t) => (t.id === reply.id ? { ...t, ...patch } : t)) });
      const system = settings.systemPrompt.trim();
      const messages: ChatMessage[] = [
        ...(system ? [{ role: 'system' as const, content: system }] : []),
        ...turns.map(({ role, content }) => ({ role, content })),
      ];
      const live = liveCounter();
      let failure: unknown = null;
      try {
        const params = { messages, maxNewTokens, temperature: settings.temperature, topP: settings.topP };
        const stats = await engine.generate(params, (e) => {
          patchReply({ content: (get().turns.find((t) => t.id === reply.id)?.content ?? '') + e.delta, live: live.tick() });
        });
        patchReply({ content: stats.text, stats, live: undefined });
        if (stats.truncatedTokens > 0) {
          set({ notice: `The conversation was longer than the model's context: the oldest ${stats.truncatedTokens} tokens were left out.` });
        }
      } catch (e) {
        failure = e;
        patchReply({ live: undefined });
        set({ notice: `Generation failed: ${(e as Error).message}` });
      } finally {
        // A busy note was about this answer, which is over now.
        set({ generating: false, notice: get().notice === BUSY_NOTICE ? null : get().notice });
      }
      await saveHistory();
      await restartAfterDeviceLoss(failure, 'notice');
    };
    return {
    packStatus: 'idle',
    progress: null,
    pack: null,
    error: null,
    turns: [],
    generating: false,
    notice: null,
    clearedTurns: null,
    historyNote: null,
    settings: readSettings(settingsStorage.load()),
    download: null,
    engineNote: null,
    adapters: [],
    packRequest: null,
    making: false,
    skillNote: null,
    libraryNote: null,
    pendingWrites: 0,
    adapterQuery: '',
    compare: null,

    async loadPack(source, preference, opts = {}) {
      set({ packStatus: 'loading', progress: null, error: null, packRequest: { source, preference }, download: null });
      if (!opts.keepEngineNote) set({ engineNote: null });
      if (typeof source === 'string' && !opts.confirmed) {
        const need = await expectedGraph(preference)
          .then((graph) => downloadCheck(source, graph))
          .catch(() => null);
        if (need && need.bytes >= LARGE_DOWNLOAD_BYTES) {
          set({ packStatus: 'confirm', download: { ...need, source, preference, declined: false } });
          return;
        }
      }
      let pack: PackInfo;
      try {
        pack = await engine.loadPack(source, preference, (progress) => set({ progress }));
      } catch (e) {
        set({ packStatus: 'error', error: (e as Error).message });
        return;
      }
      set({ pack });
      await Promise.all([loadLibrary(packIdentity(pack.manifest), pack.manifest.lora.slots), loadHistory(pack.manifest.id)]);
      try {
        await bindActive();
      } catch (e) {
        set({ libraryNote: `The saved adapters could not be switched on: ${(e as Error).message}` });
      }
      set({ packStatus: 'ready' });
    },

    async confirmDownload() {
      const d = get().download;
      if (d) await get().loadPack(d.source, d.preference, { confirmed: true });
    },

    declineDownload() {
      const d = get().download;
      if (d) set({ download: { ...d, declined: true } });
    },

    async switchEngine(preference) {
      const request = get().packRequest;
      if (!request || get().generating || get().making || get().packStatus === 'loading') return;
      set({ engineNote: 'Switching the engine: the model is loaded again (the chat and the adapters stay)…' });
      await get().loadPack(request.source, preference, { keepEngineNote: true });
      const { pack, packStatus } = get();
      if (packStatus === 'ready' && pack) set({ engineNote: `Engine switched. Now running: ${pack.backendNote}.` });
      else if (packStatus === 'error') set({ engineNote: 'The engine could not be switched: the model did not load (see above).' });
      else set({ engineNote: null });
    },

    async send(text) {
      if (get().generating) {
        set({ notice: BUSY_NOTICE });
        return;
      }
      const content = text.trim();
      if (!content) {
        set({ notice: 'Type a message first.' });
        return;
      }
      if (get().packStatus !== 'ready') return;
      await answer([...get().turns, { id: nextTurnId++, role: 'user', content }]);
    },

    async regenerate() {
      const turns = get().turns;
      if (get().generating || get().packStatus !== 'ready' || turns.at(-1)?.role !== 'assistant') return;
      // The last answer is replaced: asked again from the same conversation (a new seed when sampling).
      await answer(turns.slice(0, -1));
    },

    stop() {
      if (!get().generating) return;
      compareStopped = true;
      engine.stop();
    },

    clearChat() {
      const turns = get().turns;
      if (get().generating || turns.length === 0) return;
      set({ turns: [], clearedTurns: turns, notice: null });
      void saveHistory();
    },

    undoClear() {
      const cleared = get().clearedTurns;
      if (!cleared || get().generating) return;
      // Messages sent since the Clear stay, after the ones brought back.
      set({ turns: [...cleared, ...get().turns], clearedTurns: null });
      void saveHistory();
    },

    updateSettings(patch) {
      set({ settings: { ...get().settings, ...patch } });
      settingsStorage.save(get().settings);
    },

    async makeAdapter(input) {
      const pack = get().pack;
      if (!pack || get().making || get().generating) return;
      let skill;
      try {
        skill = parseSkill(input);
      } catch (e) {
        set({ skillNote: (e as Error).message });
        return;
      }
      set({ making: true, skillNote: 'Making the adapter…' });
      let failure: unknown = null;
      try {
        const made = await engine.makeAdapter(skill.text);
        const entry: AdapterEntry = {
          id: crypto.randomUUID(),
          name: skill.name,
          skillText: skill.text,
          ...packIdentity(pack.manifest),
          createdAt: Date.now(),
          scale: 1,
          active: inUse(get().adapters).length < pack.manifest.lora.slots,
          modules: made.modules,
          stats: {
            tokens: made.tokens, chunks: made.chunks, droppedTokens: made.droppedTokens, encodeMs: made.encodeMs, hypernetMs: made.hypernetMs,
            bytes: adapterBytes(made.modules), device: made.device,
          },
          importedFrom: null,
          mismatch: null,
        };
        const notes = [...skill.warnings];
        if (made.chunks > 1) notes.push(`The skill is longer than one encoder chunk: it was read in ${made.chunks} chunks.`);
        if (made.droppedTokens > 0) notes.push(`The last ${made.droppedTokens} tokens of the skill were beyond the encoder's limit and were left out.`);
        if (made.device === 'cpu' && pack.backend === 'webgpu') {
          notes.push('The GPU could not run the hypernetwork (it may be short of memory), so this adapter was made on the CPU: the same adapter, made more slowly.');
        }
        await addAdapter(entry, notes, 'skillNote');
      } catch (e) {
        failure = e;
        set({ skillNote: `The adapter could not be made: ${(e as Error).message}` });
      } finally {
        set({ making: false });
      }
      await restartAfterDeviceLoss(failure, 'skillNote');
    },

    async toggleAdapter(id) {
      const slots = get().pack?.manifest.lora.slots ?? 0;
      const target = get().adapters.find((a) => a.id === id);
      if (!target) return;
      if (target.mismatch) {
        set({ libraryNote: target.mismatch });
        return;
      }
      if (!target.active && inUse(get().adapters).length >= slots) {
        set({ skillNote: `This pack has ${slots} adapter slots: switch another adapter off first.` });
        return;
      }
      const entry = patchAdapter(id, { active: !target.active });
      await Promise.all([saveMeta(entry), bindActive()]);
    },

    async setAdapterScale(id, scale) {
      const entry = patchAdapter(id, { scale });
      await Promise.all([saveMeta(entry), bindActive()]);
    },

    async removeAdapter(id) {
      set({ adapters: get().adapters.filter((a) => a.id !== id) });
      await Promise.all([persist('deleting the adapter', () => library.remove(id)), bindActive()]);
    },

    async renameAdapter(id, name) {
      const clean = name.trim().replace(/\s+/g, ' ');
      const target = get().adapters.find((a) => a.id === id);
      if (!target || clean === target.name) return;
      if (!clean) {
        set({ libraryNote: 'An adapter needs a name: the old one is kept.' });
        return;
      }
      await saveMeta(patchAdapter(id, { name: clean }));
    },

    setAdapterQuery(query) {
      set({ adapterQuery: query });
    },

    exportAdapter(id, format) {
      const pack = get().pack;
      const target = get().adapters.find((a) => a.id === id);
      if (!pack || !target) return;
      if (target.mismatch) {
        set({ libraryNote: `${target.mismatch} It can only be exported with that pack loaded.` });
        return;
      }
      try {
        if (format === 'peft') saveFile(`${fileStem(target.name)}-peft.zip`, exportPeftZip(target, pack.manifest), 'application/zip');
        else saveFile(`${fileStem(target.name)}.gguf`, exportGguf(target, pack.manifest), 'application/octet-stream');
      } catch (e) {
        set({ libraryNote: `"${target.name}" could not be exported: ${(e as Error).message}` });
      }
    },

    async importAdapter(files) {
      const pack = get().pack;
      if (!pack || files.length === 0) return;
      const names = files.map((f) => f.name).join(', ');
      let imported;
      try {
        const named = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
        imported = await importPeftFiles(named, pack.manifest);
      } catch (e) {
        set({ libraryNote: `${names} could not be imported: ${(e as Error).message}` });
        return;
      }
      const identity = packIdentity(pack.manifest);
      const name = imported.name ?? files[0].name.replace(/\.(zip|json|safetensors)$/i, '');
      const notes = [`Imported "${name}".`, ...imported.notes];
      if (imported.packSha256 && (imported.packId !== identity.packId || imported.packSha256 !== identity.packSha256)) {
        notes.push(`It was exported from other weights (pack "${imported.packId}"); its shapes fit this pack, so it was loaded, but it may act differently here.`);
      } else if (!imported.packSha256 && imported.baseModel && imported.baseModel !== identity.packId) {
        notes.push(`It names "${imported.baseModel}" as its base model; its shapes fit this pack.`);
      }
      const entry: AdapterEntry = {
        id: crypto.randomUUID(),
        name,
        skillText: imported.skillText ?? '',
        ...identity,
        createdAt: Date.now(),
        scale: 1,
        active: inUse(get().adapters).length < pack.manifest.lora.slots,
        modules: imported.modules,
        stats: { tokens: 0, chunks: 0, droppedTokens: 0, encodeMs: 0, hypernetMs: 0, bytes: adapterBytes(imported.modules), device: 'file' },
        importedFrom: names,
        mismatch: null,
      };
      await addAdapter(entry, notes, 'libraryNote');
    },

    async runCompare(message, source) {
      const content = message.trim();
      const pack = get().pack;
      if (!content || get().generating || !pack) return;
      const chosen = 'adapterId' in source ? get().adapters.find((a) => a.id === source.adapterId && !a.mismatch) : undefined;
      if ('adapterId' in source && !chosen) {
        set({ notice: 'Compare: that adapter is gone or was made for another pack; pick another.' });
        return;
      }
      // One skill for both: the adapter's own skill text goes in context, or the text box's when no adapter is picked.
      const skillText = chosen ? chosen.skillText : 'skillText' in source ? source.skillText : '';
      const skillName = chosen ? chosen.name : null;
      const result: CompareResult = { message: content, skillName, answers: {}, running: null, maxNewTokens: effectiveMaxNewTokens(get()) };
      const skipped: Partial<Record<CompareMode, string>> = {};
      if (!skillText.trim()) {
        skipped.icl = chosen ? `Skipped: "${chosen.name}" was imported without its skill text, so there is nothing to put in context.` : 'Skipped: the skill text box is empty.';
      }
      if (!chosen) skipped.adapter = 'Skipped: no adapter is picked. Make an adapter from this skill first, then compare.';
      for (const [mode, why] of Object.entries(skipped)) result.answers[mode as CompareMode] = { text: '', skipped: why };
      compareStopped = false;
      set({ compare: { ...result }, generating: true, notice: null });
      const publish = () => set({ compare: { ...result, answers: { ...result.answers } } });
      const user: ChatMessage = { role: 'user', content };
      const modes: [CompareMode, () => Promise<void>, ChatMessage[]][] = [
        ['base', () => engine.setLora(null), [user]],
        // Trimmed as the chat's system prompt is, so the two put the same tokens in context.
        ['icl', () => engine.setLora(null), [{ role: 'system', content: skillText.trim() }, user]],
        // Only the picked adapter, at its own scale: the adapters switched on in the list play no part.
        ['adapter', () => engine.setLora(chosen ? composeSlots([chosen], pack.manifest.architecture, pack.manifest.lora) : null), [user]],
      ];
      let failure: unknown = null;
      try {
        for (const [mode, bind, messages] of modes) {
          if (skipped[mode]) continue;
          if (compareStopped) {
            result.answers[mode] = { text: '', skipped: 'Not run: Compare was stopped.' };
            continue;
          }
          await bind();
          result.running = mode;
          result.answers[mode] = { text: '' };
          publish();
          const live = liveCounter();
          const { settings } = get();
          const stats = await engine.generate(
            { messages, maxNewTokens: result.maxNewTokens, temperature: settings.temperature, topP: settings.topP },
            (e) => {
              result.answers[mode] = { text: (result.answers[mode]?.text ?? '') + e.delta, live: live.tick() };
              publish();
            },
          );
          result.answers[mode] = { text: stats.text, stats };
          publish();
        }
      } catch (e) {
        failure = e;
        set({ notice: `Compare failed: ${(e as Error).message}` });
      } finally {
        result.running = null;
        publish();
        try {
          await bindActive();
        } finally {
          set({ generating: false });
        }
      }
      await restartAfterDeviceLoss(failure, 'notice');
    },
  };
  });
}
