/**
 * What the store's intents share: zustand's set/get, the engine, the storage backends, and the steps several intents
 * take (saving the chat, binding the active adapters, a library write, restarting after a lost GPU device).
 */
import type { StoreApi } from 'zustand/vanilla';
import { createIndexedDbLibrary, metaOf, packMismatch, StorageError, toStorageError, type AdapterLibrary, type PackIdentity, type StoredAdapter } from '../adapters/persistence';
import { EngineError } from '../errors';
import type { AdapterModules, Engine } from '../model/engine';
import { createIndexedDbHistory, type ChatHistory } from './history';
import { downloadNeed } from './pack-cache';
import { localSettings } from './settings';
import type { AdapterEntry, AppOptions, AppState, ChatTurn, LiveCount, SettingsStorage } from './types';

/** A file name from an adapter name: letters, digits, dot, dash and underscore only. */
export function fileStem(name: string): string {
  return name.trim().replace(/[^\w.-]+/g, '-').replace(/^[-.]+|-+$/g, '') || 'adapter';
}

export function adapterBytes(modules: AdapterModules): number {
  return Object.values(modules).reduce((n, p) => n + p.a.byteLength + p.b.byteLength, 0);
}

/** Counts tokens as they stream in; tokens/s is then (tokens - 1) over the time since the first. */
export function liveCounter(): { tick(): LiveCount } {
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

/** The pause before the second try at reading a pack's saved chat. */
const HISTORY_RETRY_MS = 250;
const UNREAD_NOTE = 'Messages sent now are not saved over it: it is read again with each message, and comes back above them once it can be.';

/** What the user is told when the chat cannot be saved or read back. */
function historyMessage(e: unknown): string {
  if (e instanceof StorageError && e.problem === 'unavailable') {
    return 'This browser does not let the page save data (a private window, or site storage switched off): the chat lasts until the page is closed.';
  }
  return (e as Error).message;
}

/** Entries in use on the loaded pack: active and made for it. */
export function inUse(adapters: readonly AdapterEntry[]): AdapterEntry[] {
  return adapters.filter((a) => a.active && !a.mismatch);
}

export interface StoreContext {
  set: StoreApi<AppState>['setState'];
  get: StoreApi<AppState>['getState'];
  engine: Engine;
  library: AdapterLibrary;
  settingsStorage: SettingsStorage;
  downloadCheck: NonNullable<AppOptions['downloadCheck']>;
  /** The id the next chat turn gets. */
  nextTurnId: number;
  /** Set by Stop during Compare: the modes not yet run are skipped. */
  compareStopped: boolean;
  saveHistory(turns?: readonly ChatTurn[]): Promise<void>;
  loadHistory(packId: string): Promise<void>;
  bindActive(): Promise<void>;
  persist(doing: string, write: () => Promise<void>): Promise<void>;
  patchAdapter(id: string, patch: Partial<AdapterEntry>): AdapterEntry | undefined;
  saveMeta(entry: AdapterEntry | undefined): Promise<void>;
  loadLibrary(identity: PackIdentity, slots: number): Promise<void>;
  restartAfterDeviceLoss(err: unknown, noteKey: 'notice' | 'skillNote'): Promise<void>;
  addAdapter(entry: AdapterEntry, notes: string[], noteKey: 'skillNote' | 'libraryNote'): Promise<void>;
}

export function createContext(set: StoreContext['set'], get: StoreContext['get'], engine: Engine, options: AppOptions): StoreContext {
  const library = options.library ?? createIndexedDbLibrary();
  const history: ChatHistory = options.history ?? createIndexedDbHistory();
  /** The pack whose conversation `turns` holds; loading another pack swaps in that pack's saved chat. */
  let historyPack: string | null = null;
  /** The pack's saved chat could not be read: it is left alone rather than replaced by what the page holds. */
  let historyUnread = false;
  let recovery: Promise<ChatTurn[] | null> | null = null;
  /** Read the unread saved chat again: its turns (renumbered, put back ahead of the page's), or null while it still fails. */
  const recoverHistory = (): Promise<ChatTurn[] | null> => {
    recovery ??= (async () => {
      const pack = historyPack;
      try {
        const saved = pack === null ? [] : await history.load(pack);
        if (pack === null || pack !== historyPack || !historyUnread) return null;
        const back = saved.map((t) => ({ ...t, id: ctx.nextTurnId++ }));
        historyUnread = false;
        set({ turns: [...back, ...get().turns], historyNote: null });
        return back;
      } catch {
        return null;
      } finally {
        recovery = null;
      }
    })();
    return recovery;
  };
  const ctx: StoreContext = {
    set,
    get,
    engine,
    library,
    settingsStorage: options.settingsStorage ?? localSettings,
    downloadCheck: options.downloadCheck ?? downloadNeed,
    nextTurnId: 1,
    compareStopped: false,
    /** Save the conversation of the loaded pack; a failure is said once under the chat and loses nothing on the page. */
    async saveHistory(turns: readonly ChatTurn[] = get().turns) {
      if (!historyPack) return;
      // A saved chat that could not be read is never written over: it is read again first, and what it holds comes
      // back ahead of this visit's messages.
      if (historyUnread) {
        const back = await recoverHistory();
        if (!back) return;
        if (back.length > 0 && turns[0]?.id !== back[0].id) turns = [...back, ...turns];
      }
      try {
        await history.save(historyPack, turns);
        if (get().historyNote) set({ historyNote: null });
      } catch (e) {
        set({ historyNote: historyMessage(e) });
      }
    },
    /** Swap in the saved chat of the pack just loaded (the same pack loaded again keeps the chat on the page). */
    async loadHistory(packId: string) {
      if (historyPack === packId) return;
      historyPack = packId;
      historyUnread = false;
      let saved: ChatTurn[] = [];
      try {
        // A second try after a moment: a busy browser can fail a read that then succeeds.
        saved = await history.load(packId).catch(async (e: unknown) => {
          if (!(e instanceof StorageError && e.problem === 'failed')) throw e; // no storage at all: a retry cannot help
          await new Promise((r) => setTimeout(r, HISTORY_RETRY_MS));
          return history.load(packId);
        });
        set({ historyNote: null });
      } catch (e) {
        historyUnread = e instanceof StorageError && e.problem === 'failed';
        set({ historyNote: historyUnread ? `${historyMessage(e)} ${UNREAD_NOTE}` : historyMessage(e) });
      }
      ctx.nextTurnId = Math.max(ctx.nextTurnId, ...saved.map((t) => t.id + 1));
      set({ turns: saved, clearedTurns: null });
    },
    /** Bind the active adapters (or none) by id and scale: the engine composes the slots where it runs. */
    async bindActive() {
      const pack = get().pack;
      if (!pack) return;
      await engine.bindAdapters(inUse(get().adapters));
    },
    /** Run a library write; a failure is said in the list and never drops the adapter from the page. */
    async persist(doing: string, write: () => Promise<void>) {
      set({ pendingWrites: get().pendingWrites + 1 });
      try {
        await write();
      } catch (e) {
        set({ libraryNote: toStorageError(e, doing).message });
      } finally {
        set({ pendingWrites: get().pendingWrites - 1 });
      }
    },
    patchAdapter(id: string, patch: Partial<AdapterEntry>): AdapterEntry | undefined {
      set({ adapters: get().adapters.map((a) => (a.id === id ? { ...a, ...patch } : a)) });
      return get().adapters.find((a) => a.id === id);
    },
    async saveMeta(entry: AdapterEntry | undefined) {
      if (entry) await ctx.persist(`saving the changes to "${entry.name}"`, () => library.update(metaOf(entry)));
    },
    /** Saved adapters of every pack, listed; those of other packs or weights are marked and never bound. */
    async loadLibrary(identity: PackIdentity, slots: number) {
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
    },
    /**
     * After a lost GPU device the engine cannot run until the pack is loaded again, which makes a new session on a
     * new device (or on WebAssembly): load it, and add to the note that told the failure what runs now.
     */
    async restartAfterDeviceLoss(err: unknown, noteKey: 'notice' | 'skillNote') {
      const request = get().packRequest;
      if (!(err instanceof EngineError && err.code === 'device-lost') || !request) return;
      const failed = get()[noteKey];
      set({ [noteKey]: `${failed}. Starting the model again…` });
      await get().loadPack(request.source, request.preference);
      const pack = get().pack;
      if (get().packStatus === 'ready' && pack) set({ [noteKey]: `${failed}. The model was started again: ${pack.backendNote}.` });
    },
    async addAdapter(entry: AdapterEntry, notes: string[], noteKey: 'skillNote' | 'libraryNote') {
      if (!entry.active) {
        const slots = get().pack?.manifest.lora.slots ?? 0;
        notes.push(`All ${slots} adapter slots are in use, so "${entry.name}" was saved switched off: switch another adapter off, then tick this one.`);
      }
      set({ adapters: [...get().adapters, entry], [noteKey]: notes.join(' ') || null });
      // The write starts first: binding waits on the GPU, and the page may be closed meanwhile.
      await Promise.all([ctx.persist(`saving "${entry.name}"`, () => library.add(entry)), ctx.bindActive()]);
    },
  };
  return ctx;
}
