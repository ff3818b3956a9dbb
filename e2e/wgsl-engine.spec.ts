import { readFileSync } from 'node:fs';
import { expect, test } from './guard';

/**
 * Our WGSL decode engine against independent references: PyTorch's and transformers' logits and greedy tokens
 * (fixture from training/export/make_test_pack.py), and onnxruntime-web (WebAssembly) on the same packs.
 */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tiny-random.json', import.meta.url), 'utf8'));
const TOLERANCE = 1e-4;

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

test('WGSL engine logits and greedy tokens equal PyTorch and transformers, with and without LoRA', async ({ page }) => {
  await page.goto('/harness.html');
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  const loaded = await page.evaluate(() => (window as any).harness.loadPack('/models/tiny-random/', 'wgsl'));
  expect(loaded.engine).toBe('wgsl');

  const base: number[] = await page.evaluate((ids) => (window as any).harness.logits(ids), fixture.inputIds);
  expect(maxAbsDiff(base, fixture.logits.base.pytorch)).toBeLessThan(TOLERANCE);
  expect(maxAbsDiff(base, fixture.logits.base.transformers)).toBeLessThan(TOLERANCE);

  await page.evaluate((lora) => (window as any).harness.setLora(lora), fixture.lora);
  const adapted: number[] = await page.evaluate((ids) => (window as any).harness.logits(ids), fixture.inputIds);
  expect(maxAbsDiff(adapted, fixture.logits.lora.pytorch)).toBeLessThan(TOLERANCE);
  expect(maxAbsDiff(adapted, fixture.logits.lora.transformers)).toBeLessThan(TOLERANCE);
  expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-2);

  const gen = await page.evaluate((fixture) => (window as any).harness.generate(fixture.messages, 12), fixture);
  expect(gen.promptTokens).toBe(fixture.inputIds.length);
  expect(gen.tokenIds).toEqual(fixture.greedy.lora);
});
