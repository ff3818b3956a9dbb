#!/usr/bin/env node
// Performance benchmark of the shipped browser path (docs/benchmark.md, "Performance").
// npm run bench:perf -- --out bench/results/perf.json [--pack ID]... [--reps N] [--tokens N]
// One headless chromium (SwiftShader WebGPU) run measures, side by side, our WGSL engine and onnxruntime-web
// (WebGPU, and WebAssembly for context) on each pack, and writes ratios with their raw timings:
//   wgsl_vs_ort_decode           decode tokens/s, ours over onnxruntime-web WebGPU
//   adapter_vs_plain_decode      decode tokens/s with an adapter bound over without (each engine)
//   adaptergen_vs_skill_prefill  time to make an adapter from a skill over time to prefill that skill in context
//   ttft_adapter_vs_icl          time to first token with the adapter over with the skill in context
// Each measure is repeated; the JSON has every repetition, the median and the spread (min, max).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { median, openHarness, root } from './browser.mjs';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/results/perf.json' },
    pack: { type: 'string', multiple: true, default: ['tiny-random', 'small-skills'] },
    reps: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '16' },
  },
});
const reps = Number(args.reps);
const tokens = Number(args.tokens);
const ENGINES = { wgsl: 'wgsl', ort_webgpu: 'webgpu', ort_wasm: 'wasm' };
const SKILL = `---
name: branch-names
description: How branches are named in this repository.
---
# Branch names
- Format: <type>/<ticket>-<short-description>, all lower case.
- type is one of feat, fix, docs, chore; the ticket is the tracker id such as PROJ-123 (lower-cased: proj-123).
- The description is at most five words joined by hyphens; drop articles and punctuation.
- Answer with the branch name only.
`;
const USER = [{ role: 'user', content: 'Name the branch for: fix the login timeout on slow networks (PROJ-481)' }];
const ICL = [{ role: 'system', content: SKILL }, ...USER];

const summary = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs });
const ratio = (num, den) => ({ median: median(num) / median(den), per_rep: num.map((x, i) => x / den[i]) });

const { page, close } = await openHarness({ webgpu: true });
const started = new Date();
const results = {};
try {
  for (const pack of args.pack) {
    const raw = {};
    for (const [name, preference] of Object.entries(ENGINES)) {
      const info = await page.evaluate(([p, b]) => window.harness.loadPack(`/models/${p}/`, b), [pack, preference]);
      const m = { engine: info.engine, backend: info.backend, note: info.note, decode_plain_tok_s: [], decode_adapter_tok_s: [], adaptergen_ms: [], icl_prefill_ms: [], ttft_adapter_ms: [], ttft_icl_ms: [] };
      const gen = (messages) => page.evaluate(([msgs, n]) => window.harness.generate(msgs, n, { ignoreEos: true }), [messages, tokens]);
      const tokS = (g) => (g.generatedTokens - 1) / (g.decodeMs / 1000);
      await gen(USER); // warm-up: pipelines, caches
      for (let r = 0; r < reps; r++) {
        await page.evaluate(() => window.harness.bindAdapters([]));
        m.decode_plain_tok_s.push(tokS(await gen(USER)));
        const icl = await page.evaluate((msgs) => window.harness.generate(msgs, 1), ICL);
        m.icl_prefill_ms.push(icl.prefillMs);
        m.ttft_icl_ms.push(icl.prefillMs);
        const made = await page.evaluate((text) => window.harness.makeAdapter('skill', text), SKILL);
        m.adaptergen_ms.push(made.encodeMs + made.hypernetMs);
        await page.evaluate(() => window.harness.bindAdapters(['skill']));
        const adapted = await gen(USER);
        m.decode_adapter_tok_s.push(tokS(adapted));
        m.ttft_adapter_ms.push(adapted.prefillMs);
      }
      raw[name] = m;
      console.log(pack, name, JSON.stringify({ plain: median(m.decode_plain_tok_s), adapter: median(m.decode_adapter_tok_s) }));
    }
    const w = raw.wgsl;
    const o = raw.ort_webgpu;
    results[pack] = {
      ratios: {
        wgsl_vs_ort_decode: ratio(w.decode_plain_tok_s, o.decode_plain_tok_s),
        wgsl_vs_ort_decode_adapter: ratio(w.decode_adapter_tok_s, o.decode_adapter_tok_s),
        wgsl_vs_ort_wasm_decode: ratio(w.decode_plain_tok_s, raw.ort_wasm.decode_plain_tok_s),
        adapter_vs_plain_decode: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, ratio(v.decode_adapter_tok_s, v.decode_plain_tok_s)])),
        adaptergen_vs_skill_prefill: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, ratio(v.adaptergen_ms, v.icl_prefill_ms)])),
        ttft_adapter_vs_icl: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, ratio(v.ttft_adapter_ms, v.ttft_icl_ms)])),
      },
      raw: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Object.fromEntries(Object.entries(v).map(([f, x]) => [f, Array.isArray(x) ? summary(x) : x]))])),
    };
  }
  const out = {
    format: 'perf-benchmark',
    version: 1,
    command: `npm run bench:perf -- ${process.argv.slice(2).join(' ')}`.trim(),
    started: started.toISOString(),
    wall_s: (Date.now() - started.getTime()) / 1000,
    device: 'headless Debian chromium, SwiftShader WebGPU (CPU-emulated); absolute times mean little, ratios are side by side in one run',
    repetitions: reps,
    decode_tokens: tokens,
    skill_chars: SKILL.length,
    packs: results,
  };
  mkdirSync(dirname(resolve(root, args.out)), { recursive: true });
  writeFileSync(resolve(root, args.out), `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${args.out}`);
} finally {
  await close();
}
