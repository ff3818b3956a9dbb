import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PackError } from '../errors';
import { graphRoles, hasCpuGraph } from './config';
import { loadPack, loadPackFrom, sha256Hex, type ByteCache, type LoadProgress } from './pack';

const dir = new URL('../../public/models/tiny-random/', import.meta.url);
const onDisk = new Map(readdirSync(dir).map((f) => [f, new Uint8Array(readFileSync(new URL(f, dir)))]));
const BASE = 'http://localhost/models/tiny-random/';

// Buffer.compare, not toEqual: deep equality element by element is slow on 400 KB arrays.
const sameBytes = (a?: Uint8Array, b?: Uint8Array) => !!a && !!b && Buffer.compare(a, b) === 0;

/** A server over the pack on disk; `spoil` changes what it sends for one file. */
function server(spoil: (name: string, bytes: Uint8Array) => Uint8Array | null = (_, b) => b) {
  const requests: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL) => {
    const name = String(input).slice(BASE.length);
    requests.push(name);
    const bytes = onDisk.get(name);
    const body = bytes && spoil(name, bytes);
    if (!body) return new Response('not found', { status: 404, statusText: 'Not Found' });
    return new Response(body as Uint8Array<ArrayBuffer>);
  }) as typeof fetch;
  return { fetchFn, requests };
}

function memoryCache(): ByteCache & { store: Map<string, Uint8Array> } {
  const store = new Map<string, Uint8Array>();
  return {
    store,
    match: async (k) => (store.has(k) ? new Response(store.get(k) as Uint8Array<ArrayBuffer>) : undefined),
    put: async (k, r) => void store.set(k, new Uint8Array(await r.arrayBuffer())),
  };
}

async function loadError(fetchFn: typeof fetch): Promise<PackError> {
  try {
    await loadPack(BASE, { fetchFn, cache: null });
  } catch (e) {
    if (e instanceof PackError) return e;
    throw e;
  }
  throw new Error('the pack loaded');
}

describe('loadPack', () => {
  it('loads every file byte for byte and reports progress up to the total', async () => {
    const progress: LoadProgress[] = [];
    const pack = await loadPack(BASE, { fetchFn: server().fetchFn, cache: null, onProgress: (p) => progress.push(p) });
    for (const f of pack.manifest.files) expect(sameBytes(pack.files.get(f.name), onDisk.get(f.name))).toBe(true);
    const total = pack.manifest.files.reduce((s, f) => s + f.bytes, 0);
    expect(progress.at(-1)).toMatchObject({ loadedBytes: total, totalBytes: total });
    for (let i = 1; i < progress.length; i++) expect(progress[i].loadedBytes).toBeGreaterThanOrEqual(progress[i - 1].loadedBytes);
  });

  it('serves a second load from the cache, downloading only the manifest', async () => {
    const cache = memoryCache();
    await (await loadPack(BASE, { fetchFn: server().fetchFn, cache })).stored;
    const again = server();
    const progress: LoadProgress[] = [];
    await loadPack(BASE, { fetchFn: again.fetchFn, cache, onProgress: (p) => progress.push(p) });
    expect(again.requests).toEqual(['manifest.json']);
    expect(progress.every((p) => p.fromCache)).toBe(true);
  });

  it('does not wait for the cache: a store that never answers or fails holds back no load', async () => {
    for (const put of [() => new Promise<void>(() => undefined), async () => Promise.reject(new DOMException('quota', 'QuotaExceededError'))]) {
      const cache: ByteCache = { match: async () => undefined, put };
      const pack = await loadPack(BASE, { fetchFn: server().fetchFn, cache });
      for (const f of pack.manifest.files) expect(sameBytes(pack.files.get(f.name), onDisk.get(f.name))).toBe(true);
    }
    const failing: ByteCache = { match: async () => undefined, put: async () => Promise.reject(new Error('disk full')) };
    await expect((await loadPack(BASE, { fetchFn: server().fetchFn, cache: failing })).stored).resolves.toBeUndefined();
  });

  it('downloads again when a cached file is corrupt', async () => {
    const cache = memoryCache();
    await (await loadPack(BASE, { fetchFn: server().fetchFn, cache })).stored;
    for (const [k, v] of cache.store) if (k.includes('weights')) v[100] ^= 0xff;
    const again = server();
    await loadPack(BASE, { fetchFn: again.fetchFn, cache });
    expect(again.requests).toContain('weights.safetensors');
  });

  it('names the file whose checksum does not match', async () => {
    const e = await loadError(server((name, b) => (name === 'model.onnx' ? b.map((x, i) => (i === 10 ? x ^ 1 : x)) : b)).fetchFn);
    expect(e.code).toBe('checksum-mismatch');
    expect(e.file).toBe('model.onnx');
  });

  it('names a truncated download', async () => {
    const e = await loadError(server((name, b) => (name === 'weights.safetensors' ? b.slice(0, 1000) : b)).fetchFn);
    expect(e.code).toBe('truncated');
    expect(e.message).toContain('1000 of');
  });

  it('names a missing file', async () => {
    const e = await loadError(server((name, b) => (name === 'tokenizer.json' ? null : b)).fetchFn);
    expect(e.code).toBe('file-missing');
    expect(e.file).toBe('tokenizer.json');
  });

  it('refuses a manifest that is not JSON', async () => {
    const e = await loadError(server((name, b) => (name === 'manifest.json' ? new TextEncoder().encode('{oops') : b)).fetchFn);
    expect(e.code).toBe('manifest-invalid');
  });
});

describe('loadPackFrom local files', () => {
  it('loads a picked folder without touching the network or the cache', async () => {
    const files = [...onDisk].map(([name, bytes]) => new File([bytes as Uint8Array<ArrayBuffer>], name));
    const pack = await loadPackFrom({ files });
    for (const f of pack.manifest.files) expect(sameBytes(pack.files.get(f.name), onDisk.get(f.name))).toBe(true);
  });

  it('names a file missing from the folder', async () => {
    const files = [...onDisk].filter(([name]) => name !== 'weights.safetensors').map(([name, bytes]) => new File([bytes as Uint8Array<ArrayBuffer>], name));
    await expect(loadPackFrom({ files })).rejects.toMatchObject({ code: 'file-missing', file: 'weights.safetensors' });
  });
});

describe('a pack with a WebAssembly graph (cpu-model, cpu-weights)', () => {
  // The tiny pack plus two more files under the CPU graph's roles, listed with their real sizes and digests.
  const extra = new Map([
    ['model-cpu.onnx', new Uint8Array([1, 2, 3, 4])],
    ['weights-cpu.bin', new Uint8Array(4096).fill(7)],
  ]);
  const files = new Map([...onDisk, ...extra]);
  async function serve() {
    const manifest = JSON.parse(new TextDecoder().decode(onDisk.get('manifest.json')));
    for (const [name, bytes] of extra) {
      const role = name.startsWith('model') ? 'cpu-model' : 'cpu-weights';
      manifest.files.push({ name, role, bytes: bytes.byteLength, sha256: await sha256Hex(bytes) });
    }
    const requests: string[] = [];
    const fetchFn = (async (input: RequestInfo | URL) => {
      const name = String(input).slice(BASE.length);
      requests.push(name);
      const body = name === 'manifest.json' ? new TextEncoder().encode(JSON.stringify(manifest)) : files.get(name);
      return body ? new Response(body as Uint8Array<ArrayBuffer>) : new Response('not found', { status: 404 });
    }) as typeof fetch;
    return { fetchFn, requests, manifest };
  }

  it('downloads only the graph the engine runs, and counts only its bytes', async () => {
    const roles = (m: { files: { name: string; role: string }[] }, names: string[]) => names.map((n) => m.files.find((f) => f.name === n)!.role).sort();
    for (const [graph, skipped] of [['cpu', ['model', 'weights']], ['gpu', ['cpu-model', 'cpu-weights']]] as const) {
      const s = await serve();
      const progress: LoadProgress[] = [];
      const pack = await loadPack(BASE, { fetchFn: s.fetchFn, cache: null, graph, onProgress: (p) => progress.push(p) });
      const fetched = s.requests.filter((n) => n !== 'manifest.json');
      expect(roles(s.manifest, s.manifest.files.map((f: { name: string }) => f.name).filter((n: string) => !fetched.includes(n)))).toEqual([...skipped].sort());
      for (const name of fetched) expect(sameBytes(pack.files.get(name), files.get(name))).toBe(true);
      const want = s.manifest.files.filter((f: { name: string }) => fetched.includes(f.name)).reduce((t: number, f: { bytes: number }) => t + f.bytes, 0);
      expect(progress.at(-1)).toMatchObject({ loadedBytes: want, totalBytes: want });
      expect(graphRoles(pack.manifest, graph)).toEqual(graph === 'cpu' ? { model: 'cpu-model', weights: 'cpu-weights' } : { model: 'model', weights: 'weights' });
    }
    // No graph named: every file, as before.
    const s = await serve();
    await loadPack(BASE, { fetchFn: s.fetchFn, cache: null });
    expect(s.requests.filter((n) => n !== 'manifest.json').sort()).toEqual(s.manifest.files.map((f: { name: string }) => f.name).sort());
  });

  it('a pack without one runs its own graph on either engine', async () => {
    const pack = await loadPack(BASE, { fetchFn: server().fetchFn, cache: null, graph: 'cpu' });
    expect(hasCpuGraph(pack.manifest)).toBe(false);
    expect([...pack.files.keys()].sort()).toEqual(pack.manifest.files.map((f) => f.name).sort());
    expect(graphRoles(pack.manifest, 'cpu')).toEqual({ model: 'model', weights: 'weights' });
  });
});
