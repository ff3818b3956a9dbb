/**
 * What a pack load would download, and the cached model files: read on the page from the same Cache API entries
 * the pack loader (src/model/pack.ts) writes, so the user can be asked before a large download and can free space.
 */
import { filesFor, type PackGraph } from '../model/config';
import { chooseBackend, detectWebGpu, type BackendPreference } from '../model/env';
import { CACHE_NAME, fetchManifest, openBrowserCache, packFileKey } from '../model/pack';

/** The graph a load with this preference will run, decided as the engines decide it (WebGPU only with an adapter; the
 * WGSL engine needs one too and otherwise hands over to onnxruntime), for the download estimate. */
export async function expectedGraph(preference: BackendPreference): Promise<PackGraph> {
  const { backend } = chooseBackend(preference === 'wgsl' ? 'auto' : preference, await detectWebGpu());
  return backend === 'wasm' ? 'cpu' : 'gpu';
}

/** Above this many bytes still to download, the app asks first (the Gemma pack: about 335 MB). */
export const LARGE_DOWNLOAD_BYTES = 100 * 1024 ** 2;

export interface DownloadNeed {
  /** Bytes of the files not in the browser's cache. */
  bytes: number;
  files: number;
  /** The whole pack, cached files included. */
  totalBytes: number;
  /** The browser's estimate of the connection in Mbit/s (Network Information API), null where it has none. */
  mbps: number | null;
}

function connectionMbps(): number | null {
  const downlink = (globalThis.navigator as { connection?: { downlink?: number } } | undefined)?.connection?.downlink;
  return typeof downlink === 'number' && downlink > 0 ? downlink : null;
}

/** What loading the pack at `baseUrl` would download for `graph` (config.filesFor; all files when absent); null when its
 * manifest cannot be read (the load then says why). */
export async function downloadNeed(baseUrl: string, graph?: PackGraph): Promise<DownloadNeed | null> {
  let manifest;
  try {
    manifest = await fetchManifest(baseUrl);
  } catch {
    return null;
  }
  const cache = await openBrowserCache();
  let bytes = 0;
  let files = 0;
  const needed = filesFor(manifest, graph);
  for (const f of needed) {
    const hit = cache ? await cache.match(packFileKey(baseUrl, f.name, f.sha256)).catch(() => undefined) : undefined;
    if (!hit) {
      bytes += f.bytes;
      files += 1;
    }
  }
  return { bytes, files, totalBytes: needed.reduce((s, f) => s + f.bytes, 0), mbps: connectionMbps() };
}

export interface CachedModels {
  files: number;
  bytes: number;
}

/** The model files in the browser's cache and their size; null where the page has no Cache API. */
export async function cachedModels(): Promise<CachedModels | null> {
  if (typeof caches === 'undefined') return null;
  try {
    if (!(await caches.has(CACHE_NAME))) return { files: 0, bytes: 0 };
    const cache = await caches.open(CACHE_NAME);
    let bytes = 0;
    const keys = await cache.keys();
    for (const key of keys) bytes += (await (await cache.match(key))?.blob())?.size ?? 0;
    return { files: keys.length, bytes };
  } catch {
    return null;
  }
}

/** Delete every cached model file; the model already loaded keeps running from memory. */
export async function clearCachedModels(): Promise<void> {
  if (typeof caches !== 'undefined') await caches.delete(CACHE_NAME);
}
