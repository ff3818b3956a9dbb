/**
 * The adapter library kept in the browser (IndexedDB), so adapters survive reloads.
 *
 * Two object stores keyed by adapter id: `adapters` holds the small record the list shows (name, skill
 * text, pack id and weights checksum, time, scale, active flag, stats) and `tensors` holds A/B as
 * ArrayBuffers, so renaming or moving a scale slider never rewrites the tensors. Every write is one
 * transaction: a failed write (storage full) leaves what was saved before untouched.
 */
import { fileOfRole, type PackManifest } from '../model/config';
import { committed, openDatabase, pageIndexedDb, request } from './idb';
import type { AdapterModules } from '../model/engine';
import { StorageError, type StorageProblem } from '../errors';

export const LIBRARY_DB_NAME = 'parametric-skills';
/** Bump with a migration in `upgrade` when the stores or records change shape. */
export const LIBRARY_DB_VERSION = 1;
export const RECORD_VERSION = 1;
const META_STORE = 'adapters';
const TENSOR_STORE = 'tensors';

export interface AdapterStats {
  tokens: number;
  chunks: number;
  droppedTokens: number;
  encodeMs: number;
  hypernetMs: number;
  bytes: number;
  device: string;
}

/** Everything saved about an adapter except its tensors. */
export interface AdapterMeta {
  id: string;
  name: string;
  skillText: string;
  packId: string;
  /** sha256 of the pack's weights file: the same pack id with other weights is another base model. */
  packSha256: string;
  createdAt: number;
  scale: number;
  active: boolean;
  stats: AdapterStats;
  /** The file names it was imported from; null when it was made here. */
  importedFrom: string | null;
}

export interface StoredAdapter extends AdapterMeta {
  /** Per target module A [layers, in, rank] and B [layers, rank, out], unscaled. */
  modules: AdapterModules;
}

/** On disk: the meta record carries a version so a later app can migrate or skip it. */
export interface MetaRecord extends AdapterMeta {
  recordVersion: number;
}
export interface TensorRecord {
  id: string;
  modules: Record<string, { a: ArrayBuffer; b: ArrayBuffer }>;
}

export { StorageError, type StorageProblem };

export interface LoadedLibrary {
  adapters: StoredAdapter[];
  /** Records that could not be read (damaged, or written by a newer app); they stay on disk. */
  unreadable: number;
}

/** Where adapters are kept: IndexedDB in the app, a Map in tests. */
export interface AdapterLibrary {
  /** Every saved adapter, oldest first. */
  loadAll(): Promise<LoadedLibrary>;
  /** Save a new adapter with its tensors (or replace one with the same id). */
  add(adapter: StoredAdapter): Promise<void>;
  /** Save changed name, scale or active flag; the tensors are not rewritten. */
  update(meta: AdapterMeta): Promise<void>;
  remove(id: string): Promise<void>;
}

export function metaOf(adapter: AdapterMeta): AdapterMeta {
  const { id, name, skillText, packId, packSha256, createdAt, scale, active, stats, importedFrom } = adapter;
  return { id, name, skillText, packId, packSha256, createdAt, scale, active, stats: { ...stats }, importedFrom };
}

export function toMetaRecord(adapter: AdapterMeta): MetaRecord {
  return { ...metaOf(adapter), recordVersion: RECORD_VERSION };
}

/** Tensors as ArrayBuffers of their own (a copy: the record must not alias live arrays). */
export function toTensorRecord(id: string, modules: AdapterModules): TensorRecord {
  const out: TensorRecord['modules'] = {};
  for (const [m, p] of Object.entries(modules)) out[m] = { a: p.a.slice().buffer, b: p.b.slice().buffer };
  return { id, modules: out };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A saved adapter from its two records, or null when they are damaged or of another version. */
export function fromRecords(meta: unknown, tensors: unknown): StoredAdapter | null {
  if (!isRecord(meta) || meta.recordVersion !== RECORD_VERSION || !isRecord(tensors) || !isRecord(tensors.modules)) return null;
  const strings = ['id', 'name', 'skillText', 'packId', 'packSha256'] as const;
  const numbers = ['createdAt', 'scale'] as const;
  if (!strings.every((k) => typeof meta[k] === 'string') || !numbers.every((k) => Number.isFinite(meta[k]))) return null;
  if (typeof meta.active !== 'boolean' || !isRecord(meta.stats) || tensors.id !== meta.id) return null;
  const modules: AdapterModules = {};
  for (const [m, p] of Object.entries(tensors.modules)) {
    if (!isRecord(p) || !(p.a instanceof ArrayBuffer) || !(p.b instanceof ArrayBuffer) || p.a.byteLength % 4 || p.b.byteLength % 4) return null;
    modules[m] = { a: new Float32Array(p.a), b: new Float32Array(p.b) };
  }
  const importedFrom = typeof meta.importedFrom === 'string' ? meta.importedFrom : null;
  return { ...metaOf({ ...(meta as unknown as AdapterMeta), importedFrom }), modules };
}

export interface PackIdentity {
  packId: string;
  packSha256: string;
}

export function packIdentity(manifest: PackManifest): PackIdentity {
  return { packId: manifest.id, packSha256: fileOfRole(manifest, 'weights').sha256 };
}

/** Why an adapter cannot run on the loaded pack, or null when it can. */
export function packMismatch(adapter: PackIdentity, pack: PackIdentity): string | null {
  if (adapter.packId !== pack.packId) return `This adapter was made for the pack "${adapter.packId}", not for "${pack.packId}": load that pack to use it.`;
  if (adapter.packSha256 !== pack.packSha256) {
    return `This adapter was made for other weights of the pack "${pack.packId}" (weights ${adapter.packSha256.slice(0, 12)}…, loaded ${pack.packSha256.slice(0, 12)}…): it would not do what it did there.`;
  }
  return null;
}

/** Adapters whose name or skill text holds every word of `query` (any case); all of them for an empty query. */
export function searchAdapters<T extends { name: string; skillText: string }>(adapters: readonly T[], query: string): T[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...adapters];
  return adapters.filter((a) => {
    const haystack = `${a.name}\n${a.skillText}`.toLowerCase();
    return words.every((w) => haystack.includes(w));
  });
}

const UNAVAILABLE =
  'This browser does not let the page save data (a private window, or site storage switched off): adapters last until the page is closed. Export them to keep them.';

/** A StorageError that says what happened to the user's data, from whatever IndexedDB threw. */
export function toStorageError(err: unknown, doing: string): StorageError {
  if (err instanceof StorageError) return err;
  const name = (err as { name?: string } | null)?.name;
  if (name === 'QuotaExceededError') {
    return new StorageError('quota', `The browser's storage for this page is full, so ${doing} failed; what was saved before is kept. Delete or export adapters you no longer need.`);
  }
  if (name === 'SecurityError' || name === 'InvalidStateError') return new StorageError('unavailable', UNAVAILABLE);
  return new StorageError('failed', `${doing[0].toUpperCase()}${doing.slice(1)} failed (${(err as Error | null)?.message ?? String(err)}); what was saved before is kept.`);
}

function open(factory: IDBFactory): Promise<IDBDatabase> {
  return openDatabase(
    factory,
    LIBRARY_DB_NAME,
    LIBRARY_DB_VERSION,
    (db) => {
      if (!db.objectStoreNames.contains(META_STORE)) db.createObjectStore(META_STORE, { keyPath: 'id' });
      if (!db.objectStoreNames.contains(TENSOR_STORE)) db.createObjectStore(TENSOR_STORE, { keyPath: 'id' });
    },
    () => new StorageError('failed', 'The adapter library is being upgraded in another tab: close the other tabs of this app and reload.'),
  );
}

/** The library in IndexedDB; every method rejects with a StorageError when the browser has no usable IndexedDB. */
export function createIndexedDbLibrary(factory: IDBFactory | undefined = pageIndexedDb()): AdapterLibrary {
  let db: Promise<IDBDatabase> | null = null;
  const database = (doing: string): Promise<IDBDatabase> => {
    if (!factory) return Promise.reject(new StorageError('unavailable', UNAVAILABLE));
    db ??= open(factory).catch((e) => {
      db = null; // a later call tries again (the other tab may have closed)
      throw e instanceof StorageError ? e : new StorageError('unavailable', UNAVAILABLE);
    });
    return db.catch((e) => Promise.reject(toStorageError(e, doing)));
  };
  const write = async (doing: string, stores: string[], body: (tx: IDBTransaction) => void) => {
    const db = await database(doing);
    try {
      const tx = db.transaction(stores, 'readwrite');
      const done = committed(tx);
      try {
        body(tx);
      } catch (e) {
        done.catch(() => undefined); // the abort below rejects it; the caller gets `e`
        tx.abort(); // a request that failed to queue must not leave the other half committed
        throw e;
      }
      await done;
    } catch (e) {
      throw toStorageError(e, doing);
    }
  };
  let askedToPersist = false;
  return {
    async loadAll() {
      const tx = (await database('loading the saved adapters')).transaction([META_STORE, TENSOR_STORE], 'readonly');
      const [metas, tensors] = await Promise.all([request(tx.objectStore(META_STORE).getAll()), request(tx.objectStore(TENSOR_STORE).getAll())]).catch(
        (e) => Promise.reject(toStorageError(e, 'loading the saved adapters')),
      );
      const byId = new Map((tensors as TensorRecord[]).map((t) => [t.id, t]));
      const adapters = metas.map((m) => fromRecords(m, byId.get((m as { id?: string }).id ?? '')));
      const readable = adapters.filter((a): a is StoredAdapter => a !== null).sort((a, b) => a.createdAt - b.createdAt);
      return { adapters: readable, unreadable: adapters.length - readable.length };
    },
    async add(adapter) {
      // Ask once that the browser not evict the library under storage pressure; it may say no, silently.
      if (!askedToPersist && typeof navigator !== 'undefined' && navigator.storage?.persist) {
        askedToPersist = true;
        void navigator.storage.persist().catch(() => undefined);
      }
      await write(`saving "${adapter.name}"`, [META_STORE, TENSOR_STORE], (tx) => {
        tx.objectStore(META_STORE).put(toMetaRecord(adapter));
        tx.objectStore(TENSOR_STORE).put(toTensorRecord(adapter.id, adapter.modules));
      });
    },
    async update(meta) {
      await write(`saving the changes to "${meta.name}"`, [META_STORE], (tx) => {
        tx.objectStore(META_STORE).put(toMetaRecord(meta));
      });
    },
    async remove(id) {
      await write('deleting the adapter', [META_STORE, TENSOR_STORE], (tx) => {
        tx.objectStore(META_STORE).delete(id);
        tx.objectStore(TENSOR_STORE).delete(id);
      });
    },
  };
}

/** A library in memory with IndexedDB's copy-on-write semantics (tests, and a stand-in for storage-less browsers). */
export function createMemoryLibrary(): AdapterLibrary & { records: Map<string, { meta: MetaRecord; tensors: TensorRecord }> } {
  const records = new Map<string, { meta: MetaRecord; tensors: TensorRecord }>();
  return {
    records,
    async loadAll() {
      const adapters = [...records.values()].map((r) => fromRecords(structuredClone(r.meta), structuredClone(r.tensors)));
      const readable = adapters.filter((a): a is StoredAdapter => a !== null).sort((a, b) => a.createdAt - b.createdAt);
      return { adapters: readable, unreadable: adapters.length - readable.length };
    },
    async add(adapter) {
      records.set(adapter.id, { meta: toMetaRecord(adapter), tensors: toTensorRecord(adapter.id, adapter.modules) });
    },
    async update(meta) {
      const r = records.get(meta.id);
      if (r) r.meta = toMetaRecord(meta);
    },
    async remove(id) {
      records.delete(id);
    },
  };
}
