import { readFileSync } from 'node:fs';
import { expect, test } from './guard';

/** Encoder states of a multi-chunk skill, made by training/skill_encoder.py on the same pack. */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tiny-random-hypernet.json', import.meta.url), 'utf8'));

for (const backend of ['webgpu', 'wasm'] as const) {
  test(`skill encoder (${backend}) matches PyTorch chunk by chunk`, async ({ page }) => {
    await page.goto('/harness.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
    await page.evaluate((b) => (window as any).harness.loadPack('/models/tiny-random/', b), backend);
    const enc = await page.evaluate(([text, n]) => (window as any).harness.encodeSkill(text, n), [fixture.skill, fixture.chunkTokens]);
    expect(enc.shape).toEqual(fixture.encoderHidden.shape);
    expect(enc.tokens).toBe(fixture.skillIds.length);
    expect(enc.chunks).toBeGreaterThan(1);
    const ref: number[] = fixture.encoderHidden.data;
    // allclose with atol = rtol = 1e-4: the residual stream reaches magnitudes of several units.
    const worst = ref.reduce((m, x, i) => Math.max(m, Math.abs(x - enc.hidden[i]) - 1e-4 * Math.abs(x)), 0);
    expect(worst).toBeLessThan(1e-4);
  });
}
