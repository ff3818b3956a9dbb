#!/usr/bin/env node
// The CPU path against llama.cpp in the browser, side by side in one headless chromium (WebGPU off).
// npm run bench:cpu -- [--out bench/results/perf-cpu.json] [--reps 3] [--tokens 64] [--threads 2] [--pack gemma-3-270m]
// Ours: the app's onnxruntime-web WebAssembly engine on our Gemma pack. wllama (llama.cpp compiled to WebAssembly,
// npm @wllama/wllama, a dev dependency for this benchmark only) on the GGUF of the same PyPI package the pack is
// built from. Same prompt (Gemma's chat template), greedy, a fixed number of new tokens (end-of-turn ignored), the
// same thread count; one warm-up each, then repetitions alternating which goes first.
// Writes per-repetition figures and ratios.ours_vs_wllama_{decode,prefill}.median (tokens/s, ours over wllama).
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median, openHarnessAt, root } from './browser.mjs';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/results/perf-cpu.json' },
    reps: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    pack: { type: 'string', default: 'gemma-3-270m' },
    port: { type: 'string', default: '4175' },
  },
});
const reps = Number(args.reps);
const tokens = Number(args.tokens);
const threads = Number(args.threads);
const MESSAGE = 'Write a short note about the history of the bicycle.';

const packDir = join(root, 'dist', 'models', args.pack);
if (!existsSync(join(packDir, 'manifest.json'))) throw new Error(`${packDir} holds no pack: build the app first (npm run bench:cpu builds it; npm start builds the Gemma pack)`);
const packManifest = JSON.parse(readFileSync(join(packDir, 'manifest.json'), 'utf8'));
const py = spawnSync(join(root, 'scripts/python.sh'), ['-c', 'from training.convert.gguf_to_hf import default_gguf_path; print(default_gguf_path())'], { cwd: root, encoding: 'utf8' });
if (py.status !== 0) throw new Error(`the GGUF of the Gemma package was not found: ${py.stderr}`);
const gguf = py.stdout.trim();
const wllamaDir = join(root, 'node_modules', '@wllama', 'wllama', 'esm');

// A static server: dist/ (the harness and our engine), wllama's module and wasm, the GGUF; cross-origin isolated so
// both sides can use threads. Not vite preview: the app's CSP refuses wllama's blob worker, rightly for the app.
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css' };
/** `path` under `dir`, never above it. */
const inside = (dir, path) => join(dir, normalize(path).replace(/^(\.\.[/\\])+/, ''));
function fileFor(pathname) {
  if (pathname === '/gguf/model.gguf') return gguf;
  if (pathname.startsWith('/wllama/')) return inside(wllamaDir, pathname.slice('/wllama/'.length));
  return inside(join(root, 'dist'), pathname);
}
const server = createServer((req, res) => {
  const file = fileFor(decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, {
    'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
    'Content-Length': statSync(file).size,
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
  });
  createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(Number(args.port), r));
const base = `http://localhost:${args.port}`;

const { page, close } = await openHarnessAt(base, { webgpu: false });
page.on('pageerror', (e) => console.error('page error:', e.message));
if (!(await page.evaluate(() => crossOriginIsolated))) throw new Error('the bench page is not cross-origin isolated: no threads');

const started = new Date();
const info = await page.evaluate((p) => window.harness.loadPack(`/models/${p}/`, 'wasm'), args.pack);
await page.evaluate(
  async ({ threads, base }) => {
    const { Wllama } = await import(`${base}/wllama/index.js`);
    const w = new Wllama({ default: `${base}/wllama/wasm/wllama.wasm` }, { suppressNativeLog: true });
    await w.loadModelFromUrl(`${base}/gguf/model.gguf`, { n_threads: threads, n_ctx: 1024, useCache: false });
    window.wllama = w;
  },
  { threads, base },
);

const ours = () =>
  page.evaluate(
    async ({ m, n }) => {
      const g = await window.harness.generate([{ role: 'user', content: m }], n, { ignoreEos: true });
      // Prefill gives the first token; each later token is one decode step.
      return { promptTokens: g.promptTokens, newTokens: g.generatedTokens, prefillMs: g.prefillMs, decodeMs: g.decodeMs, decodeSteps: g.generatedTokens - 1, text: g.text };
    },
    { m: MESSAGE, n: tokens },
  );
const theirs = () =>
  page.evaluate(
    async ({ m, n }) => {
      // The same prompt as the pack's chat template renders it (wllama adds the BOS token itself), processed anew each
      // time (cache_prompt off: llama.cpp would otherwise reuse the previous run's prefix).
      const prompt = `<start_of_turn>user\n${m}<end_of_turn>\n<start_of_turn>model\n`;
      const r = await window.wllama.createCompletion({ prompt, max_tokens: n, temperature: 0, ignore_eos: true, cache_prompt: false });
      const t = r.timings;
      return { promptTokens: t.prompt_n, newTokens: t.predicted_n, prefillMs: t.prompt_ms, decodeMs: t.predicted_ms, decodeSteps: t.predicted_n, text: r.choices[0].text };
    },
    { m: MESSAGE, n: tokens },
  );

const rate = (r) => ({ ...r, decodeTokensPerS: r.decodeSteps / (r.decodeMs / 1000), prefillTokensPerS: r.promptTokens / (r.prefillMs / 1000) });
console.log('warm-up');
await ours();
await theirs();
const runs = { ours: [], wllama: [] };
for (let rep = 0; rep < reps; rep++) {
  const order = rep % 2 === 0 ? ['ours', 'wllama'] : ['wllama', 'ours'];
  for (const who of order) {
    const r = rate(who === 'ours' ? await ours() : await theirs());
    runs[who].push(r);
    console.log(`rep ${rep} ${who}: decode ${r.decodeTokensPerS.toFixed(2)} tok/s, prefill ${r.prefillTokensPerS.toFixed(1)} tok/s (${r.promptTokens} tokens)`);
  }
}
await page.evaluate(() => window.wllama.exit());
await close();
server.close();

const ratio = (key) => {
  const perRep = runs.ours.map((r, i) => r[key] / runs.wllama[i][key]);
  return { median: median(perRep), per_rep: perRep };
};
// The bandwidth ceiling: each decode step reads every weight once (the tied head included); bytes of the weights file
// the WebAssembly engine runs (the CPU graph's where the pack has one: its float16 down projections are float32 in
// memory, so a step reads somewhat more) over a memory bandwidth measured here by a large copy.
const weightsBytes = (packManifest.files.find((f) => f.role === 'cpu-weights') ?? packManifest.files.find((f) => f.role === 'weights')).bytes;
const buf = new Float64Array(64 << 20 >> 3);
const dst = new Float64Array(buf.length);
let best = Infinity;
for (let i = 0; i < 5; i++) {
  const t = performance.now();
  dst.set(buf);
  best = Math.min(best, performance.now() - t);
}
const bandwidthGBs = (2 * buf.byteLength) / (best / 1000) / 1e9; // read + write
const ceiling = (bandwidthGBs * 1e9) / weightsBytes;
const result = {
  command: `npm run bench:cpu -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: started.toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadavg_at_start: loadavg() },
  browser: 'headless Debian chromium, WebGPU off, cross-origin isolated',
  threads,
  new_tokens: tokens,
  prompt: MESSAGE,
  // Which of the pack's graphs the WebAssembly engine ran: its CPU graph (int8 products) where it has one.
  ours: {
    engine: 'onnxruntime-web WebAssembly', pack: info.id ?? args.pack, backend: info.backend,
    graph: packManifest.files.find((f) => f.role === 'cpu-model')?.name ?? packManifest.files.find((f) => f.role === 'model')?.name,
  },
  wllama: { package: '@wllama/wllama', gguf: gguf.split('/').pop() },
  definitions: {
    decode: 'tokens/s over the decode steps after the first new token (ours: generated-1 steps in decodeMs; wllama: llama.cpp timings predicted_n over predicted_ms)',
    prefill: 'prompt tokens over the time to process them (ours: prefillMs, which includes the first sampling; wllama: prompt_n over prompt_ms)',
  },
  runs,
  ratios: { ours_vs_wllama_decode: ratio('decodeTokensPerS'), ours_vs_wllama_prefill: ratio('prefillTokensPerS') },
  bandwidth: {
    measured_GBs: bandwidthGBs,
    how: 'best of 5 copies of 64 MB in node (read + write bytes)',
    pack_weights_bytes: weightsBytes,
    ceiling_tokens_per_s: ceiling,
    ours_fraction: median(runs.ours.map((r) => r.decodeTokensPerS)) / ceiling,
    wllama_fraction_of_ceiling_for_our_bytes: median(runs.wllama.map((r) => r.decodeTokensPerS)) / ceiling,
  },
};
const out = resolve(root, args.out);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
console.log('ours:', JSON.stringify(runs.ours.at(-1).text.slice(0, 120)));
console.log('wllama:', JSON.stringify(runs.wllama.at(-1).text.slice(0, 120)));
console.log(`decode ours/wllama ${result.ratios.ours_vs_wllama_decode.median.toFixed(3)}, prefill ${result.ratios.ours_vs_wllama_prefill.median.toFixed(3)}; wrote ${args.out}`);
