/** Pack loading: manifest, byte-accurate progress, sha256 checks and the browser cache. */
import { fileOfRole, filesFor, PackManifest, type FileRole, type PackGraph, validateManifest } from './config';
import { PackError } from '../errors';

/**
 * Where a load stands. `files`: reading the pack's files (from the network or the browser cache, with their sha256
 * checks); `start`: the files are all here and the engine is making its model from them (onnxruntime's session, or
 * the WGSL engine's GPU buffers and warm-up), which takes seconds for a large pack with no bytes moving.
 */
export type LoadPhase = 'files' | 'start';

export interface LoadProgress {
  file: string;
  loadedBytes: number;
  totalBytes: number;
  fromCache: boolean;
  phase: LoadPhase;
}

/** The subset of the Cache API we use, so tests can pass a Map-backed cache. */
export interface ByteCache {
  match(key: string): Promise<Response | undefined>;
  put(key: string, response: Response): Promise<void>;
}

export interface LoadedPack {
  baseUrl: string;
  manifest: PackManifest;
  files: Map<string, Uint8Array>;
  /**
   * Downloaded files being copied into the browser cache. Never on the way to a loaded model: the copy of a large file
   * takes seconds, and a cache that does not answer must not hold the model back. Resolves (never rejects) when done.
   */
  stored: Promise<void>;
}

export interface LoadOptions {
  fetchFn?: typeof fetch;
  cache?: ByteCache | null;
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Only the files this graph needs (config.filesFor); all files when absent. */
  graph?: PackGraph;
}

/** Where a pack comes from: a base URL, or the files of a local folder the user picked. */
export type PackSource = string | { files: File[] };

export const LOCAL_BASE = 'local://pack/';

/** A fetch over picked files, by file name under LOCAL_BASE (folder paths are ignored: a pack is flat). */
export function localFilesFetch(files: File[]): typeof fetch {
  const byName = new Map(files.map((f) => [f.name, f]));
  return (async (input: RequestInfo | URL) => {
    const name = String(input).slice(LOCAL_BASE.length);
    const file = byName.get(name);
    return file ? new Response(file) : new Response(`${name} is not in the picked folder`, { status: 404, statusText: 'Not in the folder' });
  }) as typeof fetch;
}

export const CACHE_NAME = 'parametric-skills-packs-v1';

export async function openBrowserCache(): Promise<ByteCache | null> {
  if (typeof caches === 'undefined') return null;
  try {
    const c = await caches.open(CACHE_NAME);
    return { match: (k) => c.match(k), put: (k, r) => c.put(k, r) };
  } catch {
    return null; // storage disabled (private mode or policy): load from the network every time
  }
}

/** The Cache API key of a pack file: its absolute URL and its sha256 (a changed file is a new entry). */
export function packFileKey(baseUrl: string, name: string, sha256: string): string {
  return `${new URL(joinUrl(baseUrl, name), globalThis.location?.href ?? 'http://localhost/').href}?sha256=${sha256}`;
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function joinUrl(base: string, name: string): string {
  return base.endsWith('/') ? base + name : `${base}/${name}`;
}

/** Read a body into one buffer of the expected size (no second copy), reporting each chunk. */
async function readBody(res: Response, file: string, expected: number, onChunk: (n: number) => void): Promise<Uint8Array> {
  const out = new Uint8Array(expected);
  if (!res.body) throw new PackError('network', `${file}: response has no body`, file);
  const reader = res.body.getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (offset + value.byteLength > expected) {
      await reader.cancel();
      throw new PackError('checksum-mismatch', `${file}: larger than the ${expected} bytes the manifest states`, file);
    }
    out.set(value, offset);
    offset += value.byteLength;
    onChunk(value.byteLength);
  }
  if (offset !== expected) {
    throw new PackError('truncated', `${file}: download stopped at ${offset} of ${expected} bytes`, file);
  }
  return out;
}

export async function fetchManifest(baseUrl: string, fetchFn: typeof fetch = fetch, signal?: AbortSignal): Promise<PackManifest> {
  let res: Response;
  try {
    res = await fetchFn(joinUrl(baseUrl, 'manifest.json'), { cache: 'no-cache', signal });
  } catch (e) {
    throw new PackError('network', `manifest.json: could not be fetched from ${baseUrl} (${(e as Error).message})`, 'manifest.json');
  }
  if (!res.ok) throw new PackError('file-missing', `manifest.json: ${res.status} ${res.statusText} at ${baseUrl}`, 'manifest.json');
  let raw: unknown;
  try {
    raw = await res.json();
  } catch {
    throw new PackError('manifest-invalid', 'manifest.json: is not valid JSON', 'manifest.json');
  }
  return validateManifest(raw);
}

/** The bytes of the loaded file with this role (an engine asks only for roles of the graph it loaded). */
export function fileBytes(pack: LoadedPack, role: FileRole): Uint8Array {
  const name = fileOfRole(pack.manifest, role).name;
  const bytes = pack.files.get(name);
  if (!bytes) throw new PackError('file-missing', `${name}: not loaded for this engine`, name);
  return bytes;
}

/** Load every file of a pack; files already cached with the same sha256 are not downloaded again. */
export async function loadPackFrom(source: PackSource, opts: Omit<LoadOptions, 'fetchFn'> = {}): Promise<LoadedPack> {
  if (typeof source === 'string') return loadPack(source, opts);
  // Local files are already on this machine: no cache copy.
  return loadPack(LOCAL_BASE, { ...opts, fetchFn: localFilesFetch(source.files), cache: null });
}

/** loadPackFrom for an engine: once every file is here, says so (phase `start`) before the engine makes its model. */
export async function loadPackToStart(source: PackSource, onProgress: (p: LoadProgress) => void, graph?: PackGraph): Promise<LoadedPack> {
  let last: LoadProgress = { file: '', loadedBytes: 0, totalBytes: 0, fromCache: false, phase: 'files' };
  const pack = await loadPackFrom(source, { onProgress: (p) => onProgress((last = p)), graph });
  onProgress({ ...last, phase: 'start' });
  return pack;
}

export async function loadPack(baseUrl: string, opts: LoadOptions = {}): Promise<LoadedPack> {
  const fetchFn = opts.fetchFn ?? fetch;
  const cache = opts.cache === undefined ? await openBrowserCache() : opts.cache;
  const manifest = await fetchManifest(baseUrl, fetchFn, opts.signal);
  const needed = filesFor(manifest, opts.graph);
  const totalBytes = needed.reduce((s, f) => s + f.bytes, 0);
  let loadedBytes = 0;
  const files = new Map<string, Uint8Array>();
  const stores: Promise<void>[] = [];
  for (const f of needed) {
    const url = joinUrl(baseUrl, f.name);
    const key = packFileKey(baseUrl, f.name, f.sha256);
    const report = (fromCache: boolean) => opts.onProgress?.({ file: f.name, loadedBytes, totalBytes, fromCache, phase: 'files' });
    const cached = cache ? await cache.match(key) : undefined;
    if (cached) {
      const bytes = new Uint8Array(await cached.arrayBuffer());
      if (bytes.byteLength === f.bytes && (await sha256Hex(bytes)) === f.sha256) {
        files.set(f.name, bytes);
        loadedBytes += f.bytes;
        report(true);
        continue;
      }
    }
    let res: Response;
    try {
      res = await fetchFn(url, { signal: opts.signal });
    } catch (e) {
      throw new PackError('network', `${f.name}: could not be fetched (${(e as Error).message})`, f.name);
    }
    if (!res.ok) throw new PackError('file-missing', `${f.name}: ${res.status} ${res.statusText}`, f.name);
    const bytes = await readBody(res, f.name, f.bytes, (n) => {
      loadedBytes += n;
      report(false);
    });
    const digest = await sha256Hex(bytes);
    if (digest !== f.sha256) {
      throw new PackError('checksum-mismatch', `${f.name}: sha256 is ${digest.slice(0, 12)}…, the manifest expects ${f.sha256.slice(0, 12)}…`, f.name);
    }
    files.set(f.name, bytes);
    if (cache) {
      // Not awaited (see `stored`). A full quota must not fail the load either: the pack is in memory, only the next
      // visit downloads again.
      stores.push(cache.put(key, new Response(bytes as Uint8Array<ArrayBuffer>)).catch(() => undefined));
    }
  }
  return { baseUrl, manifest, files, stored: Promise.all(stores).then(() => undefined) };
}
