import { readFileSync } from 'node:fs';
import { expect, test } from './guard';

/**
 * Our WGSL decode engine against onnxruntime-web (WebAssembly) on the same packs; against PyTorch and transformers
 * on the tiny pack in logits.spec.ts.
 */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tiny-random.json', import.meta.url), 'utf8'));
const TOLERANCE = 1e-4;

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);
}

/** Logits with and without a random LoRA, greedy tokens and skill-encoder states of one engine on one pack. */
async function run(page: import('@playwright/test').Page, pack: string, preference: 'wasm' | 'wgsl') {
  const loaded = await page.evaluate(([p, b]) => (window as any).harness.loadPack(`/models/${p}/`, b), [pack, preference]);
  expect(loaded.engine).toBe(preference === 'wgsl' ? 'wgsl' : 'ort');
  return page.evaluate(async (fixture) => {
    const h = (window as any).harness;
    await h.setLora(null);
    const base: number[] = await h.logits(fixture.inputIds);
    const skill = 'Branch names: type/short-description, lower case, words joined by hyphens.';
    const encoded = await h.encodeSkill(skill, 16);
    await h.setRandomLora(7);
    const adapted: number[] = await h.logits(fixture.inputIds);
    // The base model encodes skills: an active adapter must not change the encoding.
    const encodedWithAdapter = await h.encodeSkill(skill, 16);
    const gen = await h.generate(fixture.messages, 12);
    return { base, adapted, tokens: gen.tokenIds as number[], hidden: encoded.hidden as number[], hiddenWithAdapter: encodedWithAdapter.hidden as number[], chunks: encoded.chunks as number };
  }, fixture);
}

// The same 8-bit and 4-bit blocks (onnxruntime's MatMulNBits layout) run by onnxruntime-web's kernels and ours; the
// gemma3 pack has sliding-window (4) and global layers, QK-norm and sandwich norms, the qwen2 one q/k/v biases.
// onnxruntime-web runs the graphs that training/tests check against PyTorch and transformers.
for (const pack of ['tiny-random', 'tiny-random-q8', 'tiny-random-q4', 'tiny-gemma3-q8', 'tiny-qwen2-q4']) {
  test(`WGSL engine equals onnxruntime-web (wasm) on ${pack}: logits, greedy tokens, skill encoding`, async ({ page }) => {
    await page.goto('/harness.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
    const ort = await run(page, pack, 'wasm');
    const ours = await run(page, pack, 'wgsl');
    expect(maxAbsDiff(ours.base, ort.base)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(ours.adapted, ort.adapted)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(ours.adapted, ours.base)).toBeGreaterThan(1e-2);
    expect(ours.tokens).toEqual(ort.tokens);
    // The skill is longer than one 16-token chunk: several chunks through a fresh cache each.
    expect(ours.chunks).toBeGreaterThan(1);
    expect(ours.chunks).toBe(ort.chunks);
    expect(maxAbsDiff(ours.hidden, ort.hidden)).toBeLessThan(TOLERANCE);
    expect(maxAbsDiff(ours.hiddenWithAdapter, ours.hidden)).toBe(0);
    expect(maxAbsDiff(ort.hiddenWithAdapter, ort.hidden)).toBe(0);
  });
}

// Encoding a skill stops after the last encoder layer (no later layers, final norm, LM head or sampling): its states
// must equal the full plan's capture, over two prefill chunks through the cache, also where the encoder layers end
// early (layers 1-2 of 3 skipped), and it must leave no cache that a chat could continue.
for (const [pack, encoderLayers] of [['tiny-random', [0, 1]], ['tiny-gemma3-q8', [0]], ['tiny-qwen2-q4', [0, 1]]] as const) {
  test(`WGSL encode-only forward equals the full plan's capture on ${pack}, encoder layers [${encoderLayers}]`, async ({ page }) => {
    await page.goto('/kernels.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
    const skillIds = Array.from({ length: 45 }, (_, i) => (i * 37 + 11) % 500);
    const r = await page.evaluate((a) => (window as any).kernels.decoderEncode(a), { pack, encoderLayers: [...encoderLayers], skillIds, promptIds: fixture.inputIds });
    expect(r.full.length).toBeGreaterThan(0);
    expect(r.full.length % (encoderLayers.length * skillIds.length)).toBe(0);
    expect(r.full.some((v: number) => v !== 0)).toBe(true);
    // The same dispatches up to the capture, in the same order: equal to the bit.
    expect(r.encoded).toEqual(r.full);
    expect(r.fullToken).toBeGreaterThanOrEqual(0);
    expect(r.encodedToken).toBe(-1);
    expect(r.encodedLogits).toBeNull();
    expect(r.continued).toMatch(/45 cached positions asked, the cache holds 0/);
    expect(maxAbsDiff(r.afterLogits, r.freshLogits)).toBe(0);
  });
}
