#!/usr/bin/env node
// The skill benchmark on the shipped browser path (docs/benchmark.md).
// npm run bench:skills -- --out bench/results/skills.json [--skills DIR] [--pack ID] [--limit N] [--backend webgpu|wasm]
// Chromium answers every case under each condition with the pack's own hypernetwork; the family checkers
// (Python, training/skills) then score the answers, and the PyTorch reference runs the same cases so the
// JSON also reports how often the two paths gave the same answer.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
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
    'max-new-tokens': { type: 'string', default: '48' },
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
const plan = JSON.parse(python(planArgs));

const { page, close } = await openHarness({ webgpu: args.backend !== 'wasm' });
const t0 = Date.now();
try {
  const info = await page.evaluate(([url, b]) => window.harness.loadPack(url, b), [`/models/${args.pack}/`, args.backend]);
  const made = {};
  for (const [id, text] of Object.entries(plan.skills)) made[id] = await page.evaluate(([i, t]) => window.harness.makeAdapter(i, t), [id, text]);
  const outputs = [];
  for (const job of plan.jobs) {
    await page.evaluate((ids) => window.harness.bindAdapters(ids), job.adapters);
    const gen = await page.evaluate(([m, n]) => window.harness.generate(m, n), [job.messages, Number(args['max-new-tokens'])]);
    outputs.push({ case_id: job.case_id, condition: job.condition, output: gen.text });
  }
  const rawPath = args.out.replace(/\.json$/, '.outputs.json');
  mkdirSync(dirname(resolve(root, args.out)), { recursive: true });
  writeFileSync(resolve(root, rawPath), JSON.stringify({ backend: info.backend, outputs, adapters: made }));
  // Score with the family checkers and run the PyTorch reference on the same plan for agreement.
  const scoreArgs = ['-m', 'training.bench_skills', '--pack', `public/models/${args.pack}`, '--limit', args.limit, '--seed', args.seed,
    '--browser-outputs', rawPath, '--out', args.out, '--max_new_tokens', args['max-new-tokens'], '--command', `npm run bench:skills -- ${process.argv.slice(2).join(' ')}`];
  if (args.skills) scoreArgs.push('--skills', args.skills);
  python(scoreArgs);
  const result = JSON.parse(readFileSync(resolve(root, args.out), 'utf8'));
  console.log(JSON.stringify({ agreement: result.browser_vs_python_agreement, wall_s: (Date.now() - t0) / 1000 }));
} finally {
  await close();
}
