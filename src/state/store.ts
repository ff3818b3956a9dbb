/** App state (zustand). Components render it and call its intents; only the store talks to the engine. */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { exportGguf } from '../adapters/gguf';
import { exportPeftZip, importPeftFiles } from '../adapters/peft';
import {
  createIndexedDbLibrary,
  metaOf,
  packIdentity,
  packMismatch,
  toStorageError,
  type AdapterLibrary,
  type PackIdentity,
  type StoredAdapter,
} from '../adapters/persistence';
import { parseSkill } from '../adapters/skill';
import { composeSlots } from '../adapters/slots';
import type { AdapterModules, Engine, GenerateStats, PackInfo } from '../model/engine';
import type { BackendPreference } from '../model/env';
import { EngineError } from '../model/errors';
import type { LoadProgress, PackSource } from '../model/pack';
import type { ChatMessage } from '../model/tokenizer';

export interface ChatTurn extends ChatMessage {
  id: number;
  /** Set on assistant turns once they finish. */
  stats?: GenerateStats;
  /** Assistant turns: the adapters switched on when the answer was asked for (none: the base model). */
  adapters?: { name: string; scale: number }[];
}

export interface Settings {
  maxNewTokens: number;
  temperature: number;
  topP: number;
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

export interface AppOptions {
  /** Where adapters are saved; IndexedDB by default. */
  library?: AdapterLibrary;
  /** Hands an exported file to the user; a browser download by default. */
  saveFile?: (name: string, bytes: Uint8Array, type: string) => void;
}

export type CompareMode = 'base' | 'icl' | 'adapter';
export interface CompareResult {
  message: string;
  answers: Partial<Record<CompareMode, { text: string; stats: GenerateStats }>>;
}

export interface AppState {
  packStatus: 'idle' | 'loading' | 'ready' | 'error';
  progress: LoadProgress | null;
  pack: PackInfo | null;
  error: string | null;
  turns: ChatTurn[];
  generating: boolean;
  notice: string | null;
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
  loadPack(source: PackSource, preference: BackendPreference): Promise<void>;
  send(text: string): Promise<void>;
  stop(): void;
  clearChat(): void;
  updateSettings(patch: Partial<Settings>): void;
  makeAdapter(skill: string): Promise<void>;
  toggleAdapter(id: string): Promise<void>;
  setAdapterScale(id: string, scale: number): Promise<void>;
  removeAdapter(id: string): Promise<void>;
  renameAdapter(id: string, name: string): Promise<void>;
  setAdapterQuery(query: string): void;
  exportAdapter(id: string, format: ExportFormat): void;
  importAdapter(files: readonly PickedFile[]): Promise<void>;
  runCompare(message: string, skillText: string): Promise<void>;
}

export const DEFAULT_SETTINGS: Settings = { maxNewTokens: 64, temperature: 0, topP: 0.95 };

/** Said when a message is sent while an answer is being written: one generation runs at a time. */
export const BUSY_NOTICE = 'One answer at a time: wait for this one to finish, or press Stop, then send your message.';

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

/** Entries in use on the loaded pack: active and made for it. */
function inUse(adapters: readonly AdapterEntry[]): AdapterEntry[] {
  return adapters.filter((a) => a.active && !a.mismatch);
}

export function createAppStore(engine: Engine, options: AppOptions = {}): StoreApi<AppState> {
  const library = options.library ?? createIndexedDbLibrary();
  const saveFile = options.saveFile ?? downloadFile;
  let nextTurnId = 1;
  return createStore<AppState>()((set, get) => {
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
      set({ adapters: [...get().adapters, entry], [noteKey]: notes.join(' ') || null });
      // The write starts first: binding waits on the GPU, and the page may be closed meanwhile.
      await Promise.all([persist(`saving "${entry.name}"`, () => library.add(entry)), bindActive()]);
    };
    return {
    packStatus: 'idle',
    progress: null,
    pack: null,
    error: null,
    turns: [],
    generating: false,
    notice: null,
    settings: DEFAULT_SETTINGS,
    adapters: [],
    packRequest: null,
    making: false,
    skillNote: null,
    libraryNote: null,
    pendingWrites: 0,
    adapterQuery: '',
    compare: null,

    async loadPack(source, preference) {
      set({ packStatus: 'loading', progress: null, error: null, packRequest: { source, preference } });
      let pack: PackInfo;
      try {
        pack = await engine.loadPack(source, preference, (progress) => set({ progress }));
      } catch (e) {
        set({ packStatus: 'error', error: (e as Error).message });
        return;
      }
      set({ pack });
      await loadLibrary(packIdentity(pack.manifest), pack.manifest.lora.slots);
      try {
        await bindActive();
      } catch (e) {
        set({ libraryNote: `The saved adapters could not be switched on: ${(e as Error).message}` });
      }
      set({ packStatus: 'ready' });
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
      const history: ChatMessage[] = get().turns.map(({ role, content }) => ({ role, content }));
      const user: ChatTurn = { id: nextTurnId++, role: 'user', content };
      const adapters = inUse(get().adapters).map(({ name, scale }) => ({ name, scale }));
      const reply: ChatTurn = { id: nextTurnId++, role: 'assistant', content: '', adapters };
      set({ turns: [...get().turns, user, reply], generating: true, notice: null });
      const patchReply = (patch: Partial<ChatTurn>) =>
        set({ turns: get().turns.map((t) => (t.id === reply.id ? { ...t, ...patch } : t)) });
      let failure: unknown = null;
      try {
        const { settings } = get();
        const stats = await engine.generate({ messages: [...history, { role: 'user', content }], ...settings }, (e) => {
          if (e.delta) patchReply({ content: (get().turns.find((t) => t.id === reply.id)?.content ?? '') + e.delta });
        });
        patchReply({ content: stats.text, stats });
        if (stats.truncatedTokens > 0) {
          set({ notice: `The conversation was longer than the model's context: the oldest ${stats.truncatedTokens} tokens were left out.` });
        }
      } catch (e) {
        failure = e;
        set({ notice: `Generation failed: ${(e as Error).message}` });
      } finally {
        // A busy note was about this answer, which is over now.
        set({ generating: false, notice: get().notice === BUSY_NOTICE ? null : get().notice });
      }
      await restartAfterDeviceLoss(failure, 'notice');
    },

    stop() {
      if (get().generating) engine.stop();
    },

    clearChat() {
      if (!get().generating) set({ turns: [], notice: null });
    },

    updateSettings(patch) {
      set({ settings: { ...get().settings, ...patch } });
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

    async runCompare(message, skillText) {
      const content = message.trim();
      if (!content || get().generating || !get().pack) return;
      const active = inUse(get().adapters);
      const result: CompareResult = { message: content, answers: {} };
      set({ compare: result, generating: true });
      const user: ChatMessage = { role: 'user', content };
      const modes: [CompareMode, () => Promise<void>, ChatMessage[]][] = [
        ['base', () => engine.setLora(null), [user]],
        ['icl', () => engine.setLora(null), [{ role: 'system', content: skillText }, user]],
        ['adapter', bindActive, [user]],
      ];
      let failure: unknown = null;
      try {
        for (const [mode, bind, messages] of modes) {
          if (mode === 'icl' && !skillText.trim()) continue;
          if (mode === 'adapter' && active.length === 0) continue;
          await bind();
          const stats = await engine.generate({ messages, ...get().settings }, () => undefined);
          result.answers = { ...result.answers, [mode]: { text: stats.text, stats } };
          set({ compare: { ...result } });
        }
      } catch (e) {
        failure = e;
        set({ notice: `Compare failed: ${(e as Error).message}` });
      } finally {
        await bindActive();
        set({ generating: false });
      }
      await restartAfterDeviceLoss(failure, 'notice');
    },
  };
  });
}
