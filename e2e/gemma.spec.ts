import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from './guard';

/** The real main pack in the browser against onnxruntime (Python) and transformers' own fp32 Gemma 3. */
const root = fileURLToPath(new URL('..', import.meta.url));
const pack = `${root}public/models/gemma-3-270m`;
const converted = `${root}.build/gemma-3-270m-hf`;
const MESSAGE = 'What is the capital of France?';

test('Gemma 3 270M pack (wasm): logits equal onnxruntime and agree with transformers fp32', async ({ page }) => {
  test.skip(!existsSync(`${pack}/manifest.json`), 'the Gemma pack is not built (npm start builds it from its PyPI package)');
  test.setTimeout(600_000);
  const args = ['-m', 'training.export.reference_logits', '--pack', pack, '--message', MESSAGE];
  if (existsSync(`${converted}/config.json`)) args.push('--transformers', converted);
  const ref = spawnSync(`${root}scripts/python.sh`, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  expect(ref.status, ref.stderr).toBe(0);
  const reference = JSON.parse(ref.stdout);

  await page.goto('/harness.html');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const info = await page.evaluate(() => (window as any).harness.loadPack('/models/gemma-3-270m/', 'wasm'));
  expect(info.id).toBe('gemma-3-270m');
  const gen = await page.evaluate((m) => (window as any).harness.generate([{ role: 'user', content: m }], 1), MESSAGE);
  expect(gen.promptTokens).toBe(reference.inputIds.length); // transformers.js renders Gemma's template as transformers does
  const logits: number[] = await page.evaluate((ids) => (window as any).harness.logits(ids), reference.inputIds);
  const maxDiff = logits.reduce((m, x, i) => Math.max(m, Math.abs(x - reference.onnxruntime[i])), 0);
  expect(maxDiff).toBeLessThan(1e-3); // same graph, wasm vs Python CPU kernels; logits reach about 30
  const argmax = (v: number[]) => v.reduce((b, x, i) => (x > v[b] ? i : b), 0);
  if (reference.transformers) expect(argmax(logits)).toBe(argmax(reference.transformers));
});
