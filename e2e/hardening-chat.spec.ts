import type { Page } from '@playwright/test';
import { expect, test } from './guard';

/** Chat input at its edges (issue #8). An empty message, and Stop then send again, are in chat.spec.ts. */

async function openApp(page: Page) {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
}

/** The store's view of the chat: what the turns hold and whether an answer is being written. */
interface ChatState {
  generating: boolean;
  turns: { role: string; length: number; stats: any }[];
}
function chatState(page: Page): Promise<ChatState> {
  return page.evaluate(() => {
    const s = (window as any).appStore.getState();
    return { generating: s.generating, turns: s.turns.map((t: any) => ({ role: t.role, length: t.content.length, stats: t.stats ?? null })) };
  });
}

test('a message longer than the context is cut with a note, and the answer still comes', async ({ page }) => {
  await openApp(page);
  const context: number = await page.evaluate(() => (window as any).appStore.getState().pack.manifest.generation.contextLength);
  // Far more tokens than the context (tiny-random: 512) whatever the tokenizer does with them.
  const message = Array.from({ length: 800 }, (_, i) => `item ${i} of the list`).join(', ');
  await page.getByLabel('Message', { exact: true }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
  const reply = page.getByTestId('turn-assistant');
  await expect(reply.getByTestId('turn-stats')).toBeVisible();
  await expect(page.getByText(/^The conversation was longer than the model's context: the oldest \d+ tokens were left out\.$/)).toBeVisible();
  // The page keeps the whole message; the model got the newest tokens only, with room left to answer.
  await expect(page.getByTestId('turn-user').locator('.content')).toHaveText(message);
  const { turns } = await chatState(page);
  const stats = turns[1].stats;
  expect(stats.truncatedTokens).toBeGreaterThan(context);
  expect(stats.promptTokens + 64).toBeLessThanOrEqual(context);
  expect(stats.generatedTokens).toBeGreaterThan(0);
  expect(turns[1].length).toBeGreaterThan(0);
});

test('rapid sends start one answer only; a send while answering is refused with a note and keeps the draft', async ({ page }, testInfo) => {
  // The test needs an answer still running while it clicks and types: WebAssembly writes the tiny pack's whole
  // context (512 tokens) in about 3 s here, faster than the steps below.
  test.skip(testInfo.project.name === 'no-webgpu', 'WebAssembly finishes the answer before Stop can be pressed');
  await openApp(page);
  await page.getByLabel('Max new tokens').fill('400');
  const input = page.getByLabel('Message', { exact: true });
  const send = page.getByRole('button', { name: 'Send' });
  await input.fill('Tell me a long story.');
  // Three clicks at a person's quick pace on the spot where Send is: the first sends, the others must neither send
  // again nor stop the answer (Stop takes Send's place while it answers).
  const box = (await send.boundingBox())!;
  for (let i = 0; i < 3; i++) {
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(100);
  }
  // Still answering and the answer growing: no second click landed on Stop.
  await expect.poll(async () => (await chatState(page)).turns[1]?.length ?? 0).toBeGreaterThan(10);
  let state = await chatState(page);
  expect(state.generating).toBe(true);
  expect(state.turns.map((t) => t.role)).toEqual(['user', 'assistant']);
  await expect(page.getByRole('button', { name: 'Stop' })).toBeEnabled();

  // Enter pressed again and again while it answers: refused, said, and the draft stays in the box.
  await input.fill('A second question');
  await input.press('Enter');
  await input.press('Enter');
  await expect(page.getByText('One answer at a time: wait for this one to finish, or press Stop, then send your message.')).toBeVisible();
  await expect(input).toHaveValue('A second question');
  state = await chatState(page);
  expect(state.turns.map((t) => t.role)).toEqual(['user', 'assistant']);
  expect(state.generating).toBe(true);

  // Stop, then the kept draft goes out as the second message and gets its own answer.
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('turn-assistant').first().getByTestId('turn-stats')).toContainText('stopped');
  await expect(page.getByText(/One answer at a time/)).toHaveCount(0);
  await page.getByLabel('Max new tokens').fill('16');
  await send.click();
  await expect(page.getByTestId('turn-assistant').nth(1).getByTestId('turn-stats')).toBeVisible();
  state = await chatState(page);
  expect(state.turns.map((t) => t.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
  expect(state.turns[2].length).toBe('A second question'.length);
  expect(state.turns[3].stats.stopReason).not.toBe('stopped');
});
