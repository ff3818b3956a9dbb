import { readFileSync } from 'node:fs';
import { expect, test } from './guard';

/** Reference logits from our PyTorch model and from transformers (training/export/make_test_pack.py). */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tiny-random.json', import.meta.url), 'utf8'));
const TOLERANCE = 1e-4;

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

// webgpu and wasm: onnxruntime-web on that backend; wgsl: our own WGSL engine (src/kernels/decode).
for (const backend of ['webgpu', 'wasm', 'wgsl'] as const) {
  test(`${backend === 'wgsl' ? 'WGSL engine' : `onnxruntime-web (${backend})`} logits equal PyTorch and transformers, with and without LoRA`, async ({ page }) => {
    await page.goto('/harness.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
    const loaded = await page.evaluate((b) => (window as any).harness.loadPack('/models/tiny-random/', b), backend);
    expect(loaded.backend).toBe(backend === 'wgsl' ? 'webgpu' : backend);
    expect(loaded.engine).toBe(backend === 'wgsl' ? 'wgsl' : 'ort');

    const base: number[] = await page.evaluate((ids) => (window as any).harness.logits(ids), fixture.inputIds);
    expect(maxAbsDiff(base, fixture.logits.base.pytorch)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(base, fixture.logits.base.transformers)).toBeLessThan(TOLERANCE);

    await page.evaluate((lora) => (window as any).harness.setLora(lora), fixture.lora);
    const adapted: number[] = await page.evaluate((ids) => (window as any).harness.logits(ids), fixture.inputIds);
    expect(maxAbsDiff(adapted, fixture.logits.lora.pytorch)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(adapted, fixture.logits.lora.transformers)).toBeLessThan(TOLERANCE);
    // The LoRA really changes the answer: the test would catch an adapter that is silently ignored.
    expect(maxAbsDiff(adapted, base)).toBeGreaterThan(1e-2);

    // Greedy decode through the KV cache gives PyTorch's tokens.
    const gen = await page.evaluate((fixture) => (window as any).harness.generate(fixture.messages, 12), fixture);
    expect(gen.promptTokens).toBe(fixture.inputIds.length);
    expect(gen.tokenIds).toEqual(fixture.greedy.lora);
  });
}
