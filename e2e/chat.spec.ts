import { expect, test } from './guard';

test('loads the default pack, streams an answer and can be stopped', async ({ page }, info) => {
  const webgpu = info.project.name === 'webgpu';
  await page.goto('/?pack=tiny-random');
  const backend = page.getByTestId('backend');
  await expect(backend).toBeVisible();
  await expect(backend).toHaveAttribute('data-backend', webgpu ? 'webgpu' : 'wasm');
  if (!webgpu) await expect(backend).toContainText('WebAssembly fallback');

  // Count the store updates in which the reply grew while generation was still running: streaming, not one final write.
  await page.evaluate(() => {
    const w = window as any;
    w.streamedUpdates = 0;
    w.appStore.subscribe((s: any, prev: any) => {
      const last = s.turns.at(-1);
      if (s.generating && last?.role === 'assistant' && last.content !== prev.turns.at(-1)?.content && last.content) w.streamedUpdates++;
    });
  });
  const input = page.getByLabel('Message', { exact: true });
  await input.fill('Write a branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  const reply = page.getByTestId('turn-assistant').last();
  await expect(reply.getByTestId('turn-stats')).toContainText(/\d+ tokens/);
  expect((await reply.locator('.content').textContent())?.trim().length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as any).streamedUpdates)).toBeGreaterThan(1);
  await page.screenshot({ path: `test-results/chat-${info.project.name}.png`, fullPage: true });

  // Stop on a long answer: it ends early, says so, and the chat is usable again. WebAssembly can finish 400
  // tokens before a click lands, so there the Stop intent follows the send in the same task (what the button calls).
  await page.getByLabel('Max new tokens').fill('400');
  if (info.project.name === 'webgpu') {
    await input.fill('Tell me more.');
    await input.press('Enter');
    await page.getByRole('button', { name: 'Stop' }).click();
  } else {
    await page.evaluate(() => {
      const s = (window as any).appStore.getState();
      void s.send('Tell me more.');
      s.stop();
    });
  }
  const second = page.getByTestId('turn-assistant').nth(1);
  await expect(second.getByTestId('turn-stats')).toContainText('stopped');
  await expect(page.getByRole('button', { name: 'Send' })).toBeEnabled();
  await input.fill('And again?');
  await input.press('Enter');
  await expect(page.getByTestId('turn-assistant').nth(2).getByTestId('turn-stats')).toBeVisible();
});

test('an empty message is refused with a note, nothing is sent', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByLabel('Message', { exact: true }).fill('   ');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByText('Type a message first.')).toBeVisible();
  await expect(page.getByTestId('turn-user')).toHaveCount(0);
});
