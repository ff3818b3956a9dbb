#!/usr/bin/env node
// The skill benchmark on the shipped browser path (docs/benchmark.md).
// npm run bench:skills -- --out bench/results/skills.json [--skills DIR] [--pack ID] [--limit N] [--backend webgpu|wasm]
//     [--hypernet FILE]... [--over-context F]
// Chromium answers every case under each condition with the pack's own hypernetwork, or with each --hypernet file
// in turn (one per training seed: the pack is served again with that file in place of its own); the family
// checkers (Python, training/skills) then score the answers, and the PyTorch reference runs the same cases with
// the same files, so the JSON also reports how often the two paths gave the same answer. --over-context F pads every
// skill past F times the pack's context (training/bench_skills.py --over_context): the plan carries the padded skills.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openHarness, root } from './browser.mjs';

const { values: args } = parseArgs({
  options: {
    out: { type: 'string', default: 'bench/results/skills.json' },
    skills: { type: 'string' },
    pack: { type: 'string', default: 'small-skills' },
    limit: { type: 'string', default: '25' },
    backend: { type: 'string', default: 'webgpu' },
    seed: { type: 'string', default: '0' },
    hypernet: { type: 'string', multiple: true, default: [] },
    'max-new-tokens': { type: 'string', default: '48' },
    'over-context': { type: 'string' },
  },
});
const python = (argv) => {
  const r = spawnSync(join(root, 'scripts/python.sh'), argv, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`python ${argv.join(' ')} failed`);
  return r.stdout;
};

// The same case selection and condition plan as the PyTorch reference (training/bench_skills.py --plan).
const planArgs = ['-m', 'training.bench_skills', '--pack', `public/models/${args.pack}`, '--limit', args.limit, '--seed', args.seed, '--plan'];
if (args.skills) planArgs.push('--skills', args.skills);
if (args['over-context']) planArgs.push('--over_context', args['over-context']);
if (args.hypernet.length) planArgs.push('--hypernets', ...args.hypernet); // the conditions depend on having one
const plan = JSON.parse(python(planArgs));

/**
 * The built pack (dist/models/ID) served again under another id with `file` as its hypernetwork; returns that id.
 * Its other files are links to the built pack's; training.export.add_hypernet checks the file against the pack,
 * copies it in and lists it in the manifest (both real files here, so the original pack is left untouched).
 */
function packWithHypernet(file, i) {
  const from = join(root, 'dist/models', args.pack);
  const id = `${args.pack}.bench-hypernet-${i}`;
  const to = join(root, 'dist/models', id);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(from, 'manifest.json'), 'utf8'));
  const own = new Set(manifest.files.filter((f) => f.role === 'hypernet').map((f) => f.name));
  for (const name of readdirSync(from)) if (name !== 'manifest.json' && !own.has(name)) symlinkSync(join(from, name), join(to, name));
  copyFileSync(join(from, 'manifest.json'), join(to, 'manifest.json'));
  python(['-m', 'training.export.add_hypernet', '--pack', to, '--hypernet', resolve(root, file)]);
  return id;
}

const runs = args.hypernet.length ? args.hypernet.map((file, i) => ({ file, id: packWithHypernet(file, i) })) : [{ file: null, id: args.pack }];
const { page, close } = await openHarness({ webgpu: args.backend !== 'wasm' });
const t0 = Date.now();
try {
  const results = [];
  let backend = null;
  for (const run of runs) {
    const info = await page.evaluate(([url, b]) => window.harness.loadPack(url, b), [`/models/${run.id}/`, args.backend]);
    backend = info.backend;
    const made = {};
    for (const [id, text] of Object.entries(plan.skills)) made[id] = await page.evaluate(([i, t]) => window.harness.makeAdapter(i, t), [id, text]);
    const outputs = [];
    for (const job of plan.jobs) {
      await page.evaluate((ids) => window.harness.bindAdapters(ids), job.adapters);
      const gen = await page.evaluate(([m, n]) => window.harness.generate(m, n, { stopAtLineEnd: true }), [job.messages, Number(args['max-new-tokens'])]);
      outputs.push({ case_id: job.case_id, condition: job.condition, output: gen.text });
    }
    results.push({ hypernet: run.file ?? `${args.pack}/hypernet.safetensors`, outputs, adapters: made });
    console.error(`${run.file ?? args.pack}: ${plan.jobs.length} jobs (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  // The browser's own answering time; the scoring call's wall_s is its own (it reruns the PyTorch reference).
  const wallS = Math.round((Date.now() - t0) / 100) / 10;
  const rawPath = args.out.replace(/\.json$/, '.outputs.json');
  mkdirSync(dirname(resolve(root, args.out)), { recursive: true });
  writeFileSync(resolve(root, rawPath), JSON.stringify({ backend, wall_s: wallS, runs: results }));
  // Score with the family checkers and run the PyTorch reference on the same plan for agreement.
  const scoreArgs = ['-m', 'training.bench_skills', '--pack', `public/models/${args.pack}`, '--limit', args.limit, '--seed', args.seed,
    '--browser-outputs', rawPath, '--out', args.out, '--max_new_tokens', args['max-new-tokens'], '--command', `npm run bench:skills -- ${process.argv.slice(2).join(' ')}`];
  if (args.skills) scoreArgs.push('--skills', args.skills);
  if (args['over-context']) scoreArgs.push('--over_context', args['over-context']);
  if (args.hypernet.length) scoreArgs.push('--hypernets', ...args.hypernet);
  python(scoreArgs);
  const result = JSON.parse(readFileSync(resolve(root, args.out), 'utf8'));
  console.log(JSON.stringify({ agreement: result.browser_vs_python_agreement, wall_s: (Date.now() - t0) / 1000 }));
} finally {
  await close();
  for (const run of runs) if (run.file) rmSync(join(root, 'dist/models', run.id), { recursive: true, force: true });
}
