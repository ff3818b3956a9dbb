/**
 * Chat history kept in the browser (IndexedDB), one conversation per model pack, so a reload keeps the chat.
 * Its own database: the adapter library's schema and version stay untouched.
 */
import type { GenerateStats } from '../model/engine';
import { committed, openDatabase, pageIndexedDb, request } from '../adapters/idb';
import { toStorageError } from '../adapters/persistence';

export const HISTORY_DB_NAME = 'parametric-skills-chat';
const HISTORY_DB_VERSION = 1;
const STORE = 'chats';
/** Bump when a saved turn changes shape; older records are then skipped, never misread. */
export const HISTORY_RECORD_VERSION = 1;

/** A finished answer's numbers as saved (token ids are left out: they are only needed while decoding). */
export type SavedStats = Omit<GenerateStats, 'tokenIds'>;

export interface SavedTurn {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  stats?: SavedStats;
  adapters?: { name: string; scale: number }[];
  /** The Max new tokens setting the answer was asked with, so its stop reason can be told exactly. */
  maxNewTokens?: number;
}

export interface ChatHistory {
  /** The saved conversation of a pack ([] when none); rejects with a StorageError the user can read. */
  load(packId: string): Promise<SavedTurn[]>;
  /** Replace the pack's saved conversation ([] deletes it). */
  save(packId: string, turns: readonly SavedTurn[]): Promise<void>;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** One saved turn, checked field by field: a damaged record is dropped rather than shown half-read. */
function readTurn(raw: unknown): SavedTurn | null {
  const t = raw as Partial<SavedTurn> | null;
  if (!t || !isNum(t.id) || (t.role !== 'user' && t.role !== 'assistant') || typeof t.content !== 'string') return null;
  const turn: SavedTurn = { id: t.id, role: t.role, content: t.content };
  const s = t.stats;
  if (s && isNum(s.promptTokens) && isNum(s.generatedTokens) && isNum(s.prefillMs) && isNum(s.decodeMs) && typeof s.stopReason === 'string') {
    turn.stats = { ...s, text: typeof s.text === 'string' ? s.text : t.content, truncatedTokens: isNum(s.truncatedTokens) ? s.truncatedTokens : 0 };
  }
  if (Array.isArray(t.adapters)) turn.adapters = t.adapters.filter((a) => a && typeof a.name === 'string' && isNum(a.scale));
  if (isNum(t.maxNewTokens)) turn.maxNewTokens = t.maxNewTokens;
  return turn;
}

export function readTurns(record: unknown): SavedTurn[] {
  const r = record as { version?: unknown; turns?: unknown } | null;
  if (!r || r.version !== HISTORY_RECORD_VERSION || !Array.isArray(r.turns)) return [];
  return r.turns.map(readTurn).filter((t): t is SavedTurn => t !== null);
}

/** What is written: plain data, no token ids. */
export function toSaved(turns: readonly SavedTurn[]): SavedTurn[] {
  return turns.map(({ id, role, content, stats, adapters, maxNewTokens }) => {
    const out: SavedTurn = { id, role, content };
    if (stats) {
      const { tokenIds: _ids, ...rest } = stats as GenerateStats;
      out.stats = rest;
    }
    if (adapters) out.adapters = adapters.map(({ name, scale }) => ({ name, scale }));
    if (maxNewTokens !== undefined) out.maxNewTokens = maxNewTokens;
    return out;
  });
}

function open(factory: IDBFactory): Promise<IDBDatabase> {
  return openDatabase(
    factory,
    HISTORY_DB_NAME,
    HISTORY_DB_VERSION,
    (db) => {
      if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'packId' });
    },
    () => new DOMException('blocked by another tab', 'InvalidStateError'),
  );
}

export function createIndexedDbHistory(factory: IDBFactory | undefined = pageIndexedDb()): ChatHistory {
  let db: Promise<IDBDatabase> | null = null;
  const database = (): Promise<IDBDatabase> => {
    if (!factory) return Promise.reject(new DOMException('no IndexedDB', 'SecurityError'));
    db ??= open(factory).catch((e) => {
      db = null; // a later call tries again
      throw e;
    });
    return db;
  };
  // Writes run one after another, so an older conversation can never land after a newer one.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    async load(packId) {
      try {
        const record = await request((await database()).transaction(STORE, 'readonly').objectStore(STORE).get(packId));
        return readTurns(record);
      } catch (e) {
        throw toStorageError(e, 'loading the chat history');
      }
    },
    save(packId, turns) {
      const write = async () => {
        try {
          const tx = (await database()).transaction(STORE, 'readwrite');
          const done = committed(tx);
          if (turns.length === 0) tx.objectStore(STORE).delete(packId);
          else tx.objectStore(STORE).put({ packId, version: HISTORY_RECORD_VERSION, savedAt: Date.now(), turns: toSaved(turns) });
          await done;
        } catch (e) {
          throw toStorageError(e, 'saving the chat');
        }
      };
      const run = queue.then(write, write);
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

/** A history in memory (tests, and where the browser keeps no data). */
export function createMemoryHistory(): ChatHistory & { records: Map<string, unknown> } {
  const records = new Map<string, unknown>();
  return {
    records,
    async load(packId) {
      return readTurns(structuredClone(records.get(packId) ?? null));
    },
    async save(packId, turns) {
      if (turns.length === 0) records.delete(packId);
      else records.set(packId, structuredClone({ packId, version: HISTORY_RECORD_VERSION, turns: toSaved(turns) }));
    },
  };
}
