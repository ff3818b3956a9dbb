import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './guard';

const manifest = JSON.parse(readFileSync(new URL('../public/models/tiny-random/manifest.json', import.meta.url), 'utf8'));

/** Issue #24: the chat basics people expect from chat apps, in the real app on the tiny test pack. */

async function openApp(page: Page, query = '') {
  await page.goto(`/?pack=tiny-random${query}`);
  await expect(page.getByTestId('pack-ready')).toBeVisible();
}

async function ask(page: Page, message: string) {
  const before = await page.getByTestId('turn-assistant').count();
  await page.getByLabel('Message', { exact: true }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
  const reply = page.getByTestId('turn-assistant').nth(before);
  await expect(reply.getByTestId('turn-stats')).toBeVisible();
  return reply;
}

/** The store's record of the last answer. */
function lastStats(page: Page): Promise<{ generatedTokens: number; stopReason: string; promptTokens: number }> {
  return page.evaluate(() => (window as any).appStore.getState().turns.at(-1).stats);
}

test('stop reasons are said in words, the default leaves room for an answer, and tokens/s shows while it writes', async ({ page }) => {
  await openApp(page);
  // The default is a quarter of the pack's context (tiny-random: 512 tokens), not the 64 that cut answers short.
  const limit = manifest.generation.contextLength / 4;
  await expect(page.getByLabel('Max new tokens')).toHaveValue(String(limit));
  await expect(page.getByTestId('max-tokens-hint')).toHaveText('The pack’s default: a quarter of its context, at most 512.');
  // Record every live count the page showed while the answer was written.
  await page.evaluate(() => {
    const w = window as any;
    w.liveCounts = [];
    w.appStore.subscribe((s: any) => {
      const live = s.turns.at(-1)?.live;
      if (s.generating && live) w.liveCounts.push(live.tokens);
    });
    // And every live line the page drew: on WebAssembly the tiny pack can finish before a poll would see one.
    w.liveTexts = [];
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[data-testid="turn-assistant"] [data-testid="turn-live"]')) {
        const stats = el.closest('[data-testid="turn-assistant"]')!.querySelector('[data-testid="turn-stats"]');
        w.liveTexts.push({ text: el.textContent, withStats: stats !== null });
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByLabel('Message', { exact: true }).fill('Tell me a story.');
  await page.getByRole('button', { name: 'Send' }).click();
  const reply = page.getByTestId('turn-assistant').first();
  await expect(reply.getByTestId('turn-stats')).toBeVisible();
  await expect(reply.getByTestId('turn-live')).toHaveCount(0);
  // Live: tokens and tokens/s were on the page before the answer had finished (never next to the final stats).
  const liveTexts: { text: string; withStats: boolean }[] = await page.evaluate(() => (window as any).liveTexts);
  expect(liveTexts.length).toBeGreaterThan(0);
  // The first token has no rate yet (a dash); the later ones do.
  for (const t of liveTexts) expect(t.text).toMatch(/^\d+ tokens · ([\d.]+|–) tok\/s$/);
  expect(liveTexts.some((t) => /^\d+ tokens · [\d.]+ tok\/s$/.test(t.text))).toBe(true);
  expect(liveTexts.filter((t) => t.withStats)).toEqual([]);
  const stats = await lastStats(page);
  const counts: number[] = await page.evaluate(() => (window as any).liveCounts);
  // One live update per token, counted up to the number the engine reports.
  expect(counts.length).toBeGreaterThan(10);
  expect(counts.at(-1)).toBe(stats.generatedTokens);
  // The random test model never ends a turn: it is cut at the limit, and the stats say which limit in words.
  expect(stats.stopReason).toBe('max-tokens');
  expect(stats.generatedTokens).toBe(limit);
  await expect(reply.getByTestId('turn-stats')).toContainText(`${limit} tokens`);
  await expect(reply.getByTestId('turn-stats')).toContainText(`cut at the ${limit}-token limit (Settings: Max new tokens)`);
  await expect(reply.getByTestId('turn-stats')).not.toContainText('max-tokens');

  // Esc stops an answer, wherever the focus is.
  await page.getByLabel('Max new tokens').fill('400');
  await expect(page.getByRole('button', { name: `Back to the pack’s default (${limit})` })).toBeVisible();
  // Pressed at once after Send: WebAssembly writes the tiny pack's whole context in about 3 s, faster than a wait for
  // the first tokens on the page would leave time for.
  await page.getByLabel('Message', { exact: true }).fill('Tell me more.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('turn-assistant').nth(1).getByTestId('turn-stats')).toContainText('stopped by you');
  expect((await lastStats(page)).stopReason).toBe('stopped');
  expect((await lastStats(page)).generatedTokens).toBeLessThan(400);
});

test('the tagline says where the model runs: the GPU under WebGPU, the CPU under WebAssembly', async ({ page }) => {
  await openApp(page, '&backend=wasm');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('tagline')).toContainText('on your own CPU (WebAssembly)');
  await expect(page.getByTestId('tagline')).not.toContainText('GPU');
  const hasGpu = await page.evaluate(async () => !!(await (navigator as any).gpu?.requestAdapter()));
  await openApp(page);
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', hasGpu ? 'webgpu' : 'wasm');
  await expect(page.getByTestId('tagline')).toContainText(hasGpu ? 'on your own GPU (WebGPU)' : 'on your own CPU (WebAssembly)');
});

test('switching the engine says the model is loaded again, then what runs; the chat stays', async ({ page }) => {
  await openApp(page);
  await page.getByLabel('Max new tokens').fill('8');
  await ask(page, 'hello');
  const engine = page.getByLabel('Engine');
  await engine.selectOption({ label: 'onnxruntime-web, WebAssembly' });
  const note = page.getByTestId('engine-note');
  await expect(note).toContainText('Switching the engine: the model is loaded again');
  await expect(note).toContainText('Engine switched. Now running:');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
  const backendNote = await page.getByTestId('backend').textContent();
  await expect(note).toHaveText(`Engine switched. Now running: ${backendNote}.`);
  await expect(page.getByTestId('turn-user')).toHaveCount(1);
  await expect(page.getByTestId('tagline')).toContainText('CPU (WebAssembly)');
});

test('the chat survives a reload, per pack; Clear can be undone, and a cleared chat stays cleared', async ({ page }) => {
  await openApp(page);
  await page.getByLabel('Max new tokens').fill('8');
  await ask(page, 'first question');
  await ask(page, 'second question');
  const texts = () => page.locator('.turn .content').allTextContents();
  const before = await texts();
  expect(before).toHaveLength(4);
  // What IndexedDB holds for the pack (its turns' texts), read in the page.
  const savedTexts = () =>
    page.evaluate(
      () =>
        new Promise<string[] | null>((resolve, reject) => {
          const open = indexedDB.open('parametric-skills-chat');
          // Never create the app's database here: a missing one is a failure, not an empty store.
          open.onupgradeneeded = () => open.transaction?.abort();
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const get = open.result.transaction('chats').objectStore('chats').get('tiny-random');
            get.onerror = () => reject(get.error);
            get.onsuccess = () => {
              open.result.close();
              resolve(get.result ? get.result.turns.map((t: { content: string }) => t.content) : null);
            };
          };
        }),
    );
  // The answer is saved once it is done (a reload in the same instant may keep the question only).
  await expect.poll(savedTexts).toEqual(before);
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await expect(page.getByTestId('history-note')).toHaveCount(0);
  expect(await texts()).toEqual(before);
  await expect(page.getByTestId('turn-assistant').first().getByTestId('turn-stats')).toContainText('8 tokens');

  // Another pack keeps its own chat.
  await page.goto('/?pack=tiny-random-q8');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await expect(page.locator('.turn')).toHaveCount(0);
  await openApp(page);
  expect(await texts()).toEqual(before);

  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await expect(page.locator('.turn')).toHaveCount(0);
  await expect(page.getByTestId('chat-cleared')).toContainText('Chat cleared (4 messages).');
  await page.getByRole('button', { name: 'Undo' }).click();
  expect(await texts()).toEqual(before);
  await expect(page.getByTestId('chat-cleared')).toHaveCount(0);
  // The undone chat is saved again (the Clear's delete and then this write, in order): a reload still has it.
  await expect.poll(savedTexts).toEqual(before);
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  expect(await texts()).toEqual(before);

  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  await expect(page.locator('.turn')).toHaveCount(0);
  await expect.poll(savedTexts).toBeNull();
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await expect(page.locator('.turn')).toHaveCount(0);
  // What IndexedDB itself holds for the pack after the reload: still nothing.
  expect(await savedTexts()).toBeNull();
});

test('copy puts the answer on the clipboard; regenerate asks again in its place', async ({ page, context, baseURL }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  await openApp(page);
  await page.getByLabel('Max new tokens').fill('16');
  const reply = await ask(page, 'Branch name for: fix login timeout');
  const text: string = await page.evaluate(() => (window as any).appStore.getState().turns.at(-1).content);
  await reply.getByRole('button', { name: 'Copy answer' }).click();
  await expect(reply.getByRole('button', { name: 'Copy answer' })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(text);

  // Greedy decoding: the same conversation gives the same answer, in the same place, as a new turn.
  const firstId: number = await page.evaluate(() => (window as any).appStore.getState().turns.at(-1).id);
  await page.getByRole('button', { name: 'Regenerate' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
  await expect.poll(() => page.evaluate(() => (window as any).appStore.getState().turns.at(-1).id)).not.toBe(firstId);
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
  expect(await page.evaluate(() => (window as any).appStore.getState().turns.map((t: any) => t.role))).toEqual(['user', 'assistant']);
  expect(await page.evaluate(() => (window as any).appStore.getState().turns.at(-1).content)).toBe(text);
  // With fewer tokens allowed, the regenerated answer is the first one's beginning.
  await page.getByLabel('Max new tokens').fill('4');
  await page.getByRole('button', { name: 'Regenerate' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toContainText('4 tokens');
  const shorter: string = await page.evaluate(() => (window as any).appStore.getState().turns.at(-1).content);
  expect(text.startsWith(shorter)).toBe(true);
  expect(shorter.length).toBeLessThan(text.length);
});

test('a system prompt goes first in every chat and is kept for the next visit', async ({ page }) => {
  await openApp(page);
  await page.getByLabel('Max new tokens').fill('4');
  await ask(page, 'hello');
  const plain = (await lastStats(page)).promptTokens;
  await page.getByRole('button', { name: 'Clear', exact: true }).click();
  const system = 'You write branch names in kebab-case and nothing else.';
  await page.getByLabel('System prompt').fill(system);
  await ask(page, 'hello');
  const withSystem = (await lastStats(page)).promptTokens;
  // The prompt grows by at least one token a word of the system prompt (the test pack's tokenizer has 512 tokens).
  expect(withSystem - plain).toBeGreaterThanOrEqual(system.split(/\s+/).length);
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await expect(page.getByLabel('System prompt')).toHaveValue(system);
  await expect(page.getByLabel('Max new tokens')).toHaveValue('4');
});
