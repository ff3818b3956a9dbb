import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from './guard';

/** The real main pack (8-bit blocks) on our WGSL engine, in SwiftShader WebGPU, against onnxruntime (Python). */
const root = fileURLToPath(new URL('..', import.meta.url));
const pack = `${root}public/models/gemma-3-270m`;
const MESSAGE = 'What is the capital of France?';

test('Gemma 3 270M pack on the WGSL engine: logits equal onnxruntime, greedy tokens equal onnxruntime-web', async ({ page }) => {
  test.skip(!existsSync(`${pack}/manifest.json`), 'the Gemma pack is not built (npm start builds it from its PyPI package)');
  test.setTimeout(600_000);
  const ref = spawnSync(`${root}scripts/python.sh`, ['-m', 'training.export.reference_logits', '--pack', pack, '--message', MESSAGE], {
    cwd: root, encoding: 'utf8', maxBuffer: 1 << 28,
  });
  expect(ref.status, ref.stderr).toBe(0);
  const reference = JSON.parse(ref.stdout);

  await page.goto('/harness.html');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const generate = () => page.evaluate((m) => (window as any).harness.generate([{ role: 'user', content: m }], 4), MESSAGE);
  const ort = await page.evaluate(() => (window as any).harness.loadPack('/models/gemma-3-270m/', 'wasm'));
  expect(ort.engine).toBe('ort');
  const ortGen = await generate();

  const ours = await page.evaluate(() => (window as any).harness.loadPack('/models/gemma-3-270m/', 'wgsl'));
  expect(ours.engine).toBe('wgsl');
  const logits: number[] = await page.evaluate((ids) => (window as any).harness.logits(ids), reference.inputIds);
  const maxDiff = logits.reduce((m, x, i) => Math.max(m, Math.abs(x - reference.onnxruntime[i])), 0);
  // Same dequantized weights in fp32; logits reach about 30, and 18 layers of different summation orders add up.
  expect(maxDiff).toBeLessThan(1e-3);
  const gen = await generate();
  expect(gen.tokenIds).toEqual(ortGen.tokenIds);
  console.log(`gemma wgsl: max |logit diff| ${maxDiff.toExponential(2)}; decode ${(gen.generatedTokens / (gen.decodeMs / 1000)).toFixed(2)} tok/s ours vs ${(ortGen.generatedTokens / (ortGen.decodeMs / 1000)).toFixed(2)} tok/s onnxruntime-web wasm`);
});
