import { describe, expect, it } from 'vitest';
import {
  createIndexedDbLibrary,
  createMemoryLibrary,
  fromRecords,
  packMismatch,
  RECORD_VERSION,
  searchAdapters,
  StorageError,
  toMetaRecord,
  toStorageError,
  toTensorRecord,
  type StoredAdapter,
} from './persistence';

function stored(id: string, name: string, skillText: string, createdAt = 1): StoredAdapter {
  return {
    id, name, skillText, packId: 'tiny-random', packSha256: 'a'.repeat(64), createdAt, scale: 0.5, active: true,
    stats: { tokens: 3, chunks: 1, droppedTokens: 0, encodeMs: 2, hypernetMs: 1, bytes: 32, device: 'cpu' },
    importedFrom: null,
    modules: { q_proj: { a: Float32Array.from([1, 2, 3]), b: Float32Array.from([-1, 0.25]) } },
  };
}

describe('adapter records', () => {
  it('survive structured cloning (what IndexedDB does) with their tensors as ArrayBuffers', () => {
    const a = stored('x', 'branch names', 'feat/KEY-slug');
    const meta = structuredClone(toMetaRecord(a));
    const tensors = structuredClone(toTensorRecord(a.id, a.modules));
    expect(meta.recordVersion).toBe(RECORD_VERSION);
    expect(tensors.modules.q_proj.a).toBeInstanceOf(ArrayBuffer);
    expect(fromRecords(meta, tensors)).toEqual(a);
  });

  it('copy the tensors, so later edits of the live arrays do not reach the saved record', () => {
    const a = stored('x', 'n', 's');
    const tensors = toTensorRecord(a.id, a.modules);
    a.modules.q_proj.a[0] = 99;
    expect(new Float32Array(tensors.modules.q_proj.a)[0]).toBe(1);
  });

  it('are skipped when damaged or written by another version', () => {
    const a = stored('x', 'n', 's');
    const tensors = toTensorRecord(a.id, a.modules);
    expect(fromRecords({ ...toMetaRecord(a), recordVersion: RECORD_VERSION + 1 }, tensors)).toBeNull();
    expect(fromRecords({ ...toMetaRecord(a), name: 3 }, tensors)).toBeNull();
    expect(fromRecords(toMetaRecord(a), undefined)).toBeNull();
    expect(fromRecords(toMetaRecord(a), { ...tensors, id: 'other' })).toBeNull();
    expect(fromRecords(toMetaRecord(a), { id: 'x', modules: { q_proj: { a: new ArrayBuffer(3), b: new ArrayBuffer(4) } } })).toBeNull();
  });
});

describe('packMismatch', () => {
  const pack = { packId: 'tiny-random', packSha256: 'a'.repeat(64) };
  it('accepts the same pack and weights, and says why it refuses another pack or other weights', () => {
    expect(packMismatch(pack, pack)).toBeNull();
    expect(packMismatch({ ...pack, packId: 'gemma-3-270m' }, pack)).toMatch(/made for the pack "gemma-3-270m", not for "tiny-random"/);
    expect(packMismatch({ ...pack, packSha256: 'b'.repeat(64) }, pack)).toMatch(/other weights of the pack "tiny-random" \(weights bbbbbbbbbbbb…, loaded aaaaaaaaaaaa…\)/);
  });
});

describe('searchAdapters', () => {
  const list = [stored('1', 'Branch names', 'Use feat/KEY-slug for features.'), stored('2', 'semver', 'Bump the MINOR version for features.')];
  it('matches every word in the name or the skill text, in any case', () => {
    expect(searchAdapters(list, '').map((a) => a.id)).toEqual(['1', '2']);
    expect(searchAdapters(list, 'branch').map((a) => a.id)).toEqual(['1']);
    expect(searchAdapters(list, 'minor FEATURES').map((a) => a.id)).toEqual(['2']);
    expect(searchAdapters(list, 'features').map((a) => a.id)).toEqual(['1', '2']);
    expect(searchAdapters(list, 'branch minor')).toEqual([]);
  });
});

describe('storage errors', () => {
  it('tell the user what happened to their data', () => {
    expect(toStorageError(new DOMException('full', 'QuotaExceededError'), 'saving "x"')).toMatchObject({
      problem: 'quota',
      message: expect.stringMatching(/storage for this page is full, so saving "x" failed; what was saved before is kept/),
    });
    expect(toStorageError(new DOMException('no', 'InvalidStateError'), 'saving "x"').problem).toBe('unavailable');
    expect(toStorageError(new Error('disk on fire'), 'deleting the adapter').message).toBe('Deleting the adapter failed (disk on fire); what was saved before is kept.');
  });

  it('without IndexedDB (private window, or Node), every call rejects with a clear message', async () => {
    const library = createIndexedDbLibrary(undefined);
    await expect(library.loadAll()).rejects.toThrow(StorageError);
    await expect(library.add(stored('x', 'n', 's'))).rejects.toThrow(/does not let the page save data .* Export them to keep them/);
  });

  it('an IndexedDB that fails to open is reported as unavailable', async () => {
    const failing = { open: () => { throw new DOMException('private mode', 'InvalidStateError'); } } as unknown as IDBFactory;
    await expect(createIndexedDbLibrary(failing).loadAll()).rejects.toMatchObject({ problem: 'unavailable' });
  });
});

describe('memory library', () => {
  it('keeps adapters oldest first, updates metadata only, removes both records', async () => {
    const library = createMemoryLibrary();
    await library.add(stored('late', 'b', 's', 20));
    await library.add(stored('early', 'a', 's', 10));
    await library.update({ ...stored('late', 'renamed', 's', 20), modules: {} } as StoredAdapter);
    const { adapters, unreadable } = await library.loadAll();
    expect(unreadable).toBe(0);
    expect(adapters.map((a) => [a.id, a.name])).toEqual([['early', 'a'], ['late', 'renamed']]);
    expect(adapters[1].modules.q_proj.b).toEqual(Float32Array.from([-1, 0.25]));
    await library.remove('early');
    expect([...library.records.keys()]).toEqual(['late']);
  });
});
