import { createReadStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

const ORT_DIST = join(import.meta.dirname, 'node_modules/onnxruntime-web/dist');
// The WebGPU build of onnxruntime-web with its wasm loaded from /ort/ (see src/model/ort.ts).
const ORT_FILES = readdirSync(ORT_DIST).filter((f) => /^ort-wasm-simd-threaded\.asyncify\.(wasm|mjs)$/.test(f));

// Cross-origin isolation lets onnxruntime-web use wasm threads (SharedArrayBuffer).
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Serves onnxruntime-web's wasm binary under /ort/ in dev and emits it in the build: no CDN, no copy in git. */
function ortWasm(): Plugin {
  return {
    name: 'ort-wasm',
    configureServer(server) {
      server.middlewares.use('/ort/', (req, res, next) => {
        const name = (req.url ?? '').replace(/^\//, '').split('?')[0];
        if (!ORT_FILES.includes(name)) return next();
        res.setHeader('Content-Type', name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript');
        // This middleware runs before vite's own, which add server.headers: without COEP here the .mjs, which ORT
        // also starts as its wasm threads' worker script, is refused inside the isolated engine worker.
        for (const [key, value] of Object.entries(isolation)) res.setHeader(key, value);
        createReadStream(join(ORT_DIST, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const f of ORT_FILES) this.emitFile({ type: 'asset', fileName: `ort/${f}`, source: readFileSync(join(ORT_DIST, f)) });
    },
  };
}

/** Pack ids in the order the app prefers them as its default: the real model first, the test pack last. */
const PACK_PREFERENCE = ['gemma-3-270m', 'small-skills', 'tiny-random'];

/** /models/index.json lists the packs present under public/models and names the default (dev and build alike). */
function packIndex(): Plugin {
  const index = () => {
    const dir = join(import.meta.dirname, 'public/models');
    const packs = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'manifest.json')))
      .map((d) => d.name);
    const byPreference = [...PACK_PREFERENCE.filter((p) => packs.includes(p)), ...packs.filter((p) => !PACK_PREFERENCE.includes(p))];
    return JSON.stringify({ default: byPreference[0] ?? null, packs: byPreference });
  };
  return {
    name: 'pack-index',
    configureServer(server) {
      server.middlewares.use('/models/index.json', (_req, res) => {
        res.setHeader('Content-Type', 'application/json');
        res.end(index());
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: 'models/index.json', source: index() });
    },
  };
}

// The built app's policy: its own scripts and wasm only; fetches leave the origin only for a pack URL the user typed.
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** The HTML entry points of a build: the app, plus the harness pages in test builds. */
function pages(mode: string): Record<string, string> {
  const app = { main: 'index.html' };
  return mode === 'test' ? { ...app, harness: 'harness.html', kernels: 'kernels.html' } : app;
}

/**
 * `vite build` makes the app alone; `vite build --mode test` adds the harness pages (engine and kernel checks for the
 * browser tests and benchmarks) and the app's test hook (window.appStore, see src/main.tsx).
 */
export default defineConfig(({ mode }) => ({
  plugins: [react(), ortWasm(), packIndex()],
  // This export condition makes onnxruntime-web load its wasm from ort.env.wasm.wasmPaths instead of inlining a URL.
  resolve: { conditions: ['onnxruntime-web-use-extern-wasm'] },
  server: { headers: isolation, port: 5173, strictPort: false },
  preview: { headers: { ...isolation, 'Content-Security-Policy': contentSecurityPolicy }, port: 4173, strictPort: true },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    rollupOptions: { input: pages(mode) },
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  test: { include: ['src/**/*.test.ts', 'src/**/*.test.tsx'], environment: 'node' },
}));
