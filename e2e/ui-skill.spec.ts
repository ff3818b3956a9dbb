import type { Page } from '@playwright/test';
import { COMMIT_SKILL, openApp } from './app';
import { expect, test } from './guard';

/** Issue #24: the skill box's hint, a new adapter while every slot is taken, and Compare on one skill. */

async function makeAdapter(page: Page, skill: string, count: number) {
  await page.locator('#skill-text').fill(skill);
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(count);
  await expect(page.getByRole('button', { name: 'Make adapter' })).toBeEnabled();
}

/** The chat's answer to `message` with the current adapters and settings: the reference Compare must match. */
async function chatAnswer(page: Page, message: string): Promise<{ text: string; promptTokens: number }> {
  const before = await page.getByTestId('turn-assistant').count();
  await page.getByLabel('Message', { exact: true }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').nth(before).getByTestId('turn-stats')).toBeVisible();
  return page.evaluate(() => {
    const t = (window as any).appStore.getState().turns.at(-1);
    return { text: t.content, promptTokens: t.stats.promptTokens };
  });
}

test('the empty skill box shows a one-line hint, not the example, and says it is empty', async ({ page }) => {
  await openApp(page);
  const box = page.locator('#skill-text');
  await expect(box).toHaveValue('');
  const hint = (await box.getAttribute('placeholder')) ?? '';
  await page.getByRole('button', { name: 'Example' }).click();
  const example = await box.inputValue();
  // The hint is one short line that shares no line with the example, so an empty box cannot pass for a filled one.
  expect(hint).not.toContain('\n');
  expect(hint.length).toBeLessThan(80);
  for (const line of example.split('\n').filter((l) => l.trim().length > 3)) expect(hint).not.toContain(line.trim());
  expect(hint.toLowerCase()).toContain('empty');
  await box.fill('');
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('skill-note')).toContainText('The skill is empty');
});

test('an adapter made while every slot is taken is saved switched off, and the note says so', async ({ page }) => {
  test.setTimeout(240_000);
  await openApp(page);
  const slots: number = await page.evaluate(() => (window as any).appStore.getState().pack.manifest.lora.slots);
  for (let i = 1; i <= slots; i++) await makeAdapter(page, `---\nname: rule-${i}\ndescription: t\n---\nRule ${i}: use kebab-case.\n`, i);
  await expect(page.getByText(`${slots} of ${slots} slots active`)).toBeVisible();
  await expect(page.getByTestId('skill-note')).not.toContainText('slots');
  await makeAdapter(page, `---\nname: one-more\ndescription: t\n---\nOne more rule.\n`, slots + 1);
  await expect(page.getByTestId('skill-note')).toContainText(
    `All ${slots} adapter slots are in use, so "one-more" was saved switched off: switch another adapter off, then tick this one.`,
  );
  const last = page.getByTestId('adapter').last();
  await expect(last.getByRole('checkbox')).not.toBeChecked();
  // Freeing a slot lets it on.
  await page.getByTestId('adapter').first().getByRole('checkbox').uncheck();
  await last.getByRole('checkbox').check();
  await expect(last.getByRole('checkbox')).toBeChecked();
  await expect(page.getByText(`${slots} of ${slots} slots active`)).toBeVisible();
});

test('Compare answers from one skill: its adapter alone and its own text in context, streams, says what it skipped, and stops', async ({ page }) => {
  test.setTimeout(300_000);
  await openApp(page);
  await page.getByLabel('Max new tokens').fill('12');
  await page.getByRole('button', { name: 'Example' }).click();
  const example = await page.locator('#skill-text').inputValue();
  await makeAdapter(page, example, 1);
  await makeAdapter(page, COMMIT_SKILL, 2);
  const branch = page.getByTestId('adapter').first();
  const commit = page.getByTestId('adapter').nth(1);
  const question = 'Branch name for: add dark mode, ticket UI-7';
  const skillText: string = await page.evaluate(() => (window as any).appStore.getState().adapters[0].skillText);

  // References from the chat, an independent path: each adapter alone; the base with branch-names' skill text as
  // system prompt (the random test model writes the same text with or without it, so its prompt length tells them apart).
  const clear = () => page.getByRole('button', { name: 'Clear', exact: true }).click();
  await commit.getByRole('checkbox').uncheck();
  const withBranch = await chatAnswer(page, question);
  await clear();
  await branch.getByRole('checkbox').uncheck();
  await commit.getByRole('checkbox').check();
  const withCommit = await chatAnswer(page, question);
  await clear();
  await commit.getByRole('checkbox').uncheck();
  await page.getByLabel('System prompt').fill(skillText);
  const inContext = await chatAnswer(page, question);
  await clear();
  await page.getByLabel('System prompt').fill('');
  const base = await chatAnswer(page, question);
  await clear();
  expect(new Set([base.text, withBranch.text, withCommit.text]).size).toBe(3);
  expect(inContext.promptTokens).toBeGreaterThan(base.promptTokens);

  // Now the commit adapter is the one switched on and the text box holds the commit skill; Compare is asked for branch-names.
  await commit.getByRole('checkbox').check();
  await page.locator('#skill-text').fill(COMMIT_SKILL);
  await page.getByLabel('Skill to compare').selectOption({ label: 'adapter “branch-names” and its skill text' });
  await page.locator('#compare-message').fill(question);
  await page.getByRole('button', { name: 'Compare' }).click();
  for (const mode of ['base', 'icl', 'adapter']) await expect(page.getByTestId(`compare-${mode}`).locator('.stats')).toBeVisible();
  const answers = await page.evaluate(() => (window as any).appStore.getState().compare.answers);
  expect(answers.base.text).toBe(base.text);
  expect(answers.icl.stats.promptTokens).toBe(inContext.promptTokens);
  expect(answers.icl.text).toBe(inContext.text);
  expect(answers.adapter.text).toBe(withBranch.text);
  await expect(page.getByTestId('compare-skill')).toContainText('the skill of “branch-names”');

  // The text box as the source: no adapter, and the cell says so instead of waiting forever.
  await page.getByLabel('Skill to compare').selectOption({ label: 'the skill text box (no adapter)' });
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-adapter').getByTestId('compare-skipped')).toHaveText(
    'Skipped: no adapter is picked. Make an adapter from this skill first, then compare.',
  );
  await expect(page.getByTestId('compare-icl').locator('.stats')).toBeVisible();
  await expect(page.locator('.compare-cell .content', { hasText: /…|Waiting/ })).toHaveCount(0);

  // Streaming: the running answer grows in several updates while Compare runs; then Stop ends it and skips the rest.
  await page.getByLabel('Max new tokens').fill('400');
  await page.getByLabel('Skill to compare').selectOption({ label: 'adapter “branch-names” and its skill text' });
  await page.evaluate(() => {
    const w = window as any;
    w.compareUpdates = 0;
    w.appStore.subscribe((s: any, prev: any) => {
      const now = s.compare?.answers.base?.text ?? '';
      if (s.compare?.running === 'base' && now && now !== (prev.compare?.answers.base?.text ?? '')) w.compareUpdates++;
    });
  });
  await page.getByRole('button', { name: 'Compare' }).click();
  await expect(page.getByTestId('compare-base').locator('.live')).toContainText(/\d+ tokens · [\d.]+ tok\/s/);
  await expect.poll(() => page.evaluate(() => (window as any).compareUpdates)).toBeGreaterThan(3);
  await page.getByRole('region', { name: 'Compare' }).getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('compare-base').locator('.stats')).toContainText('stopped by you');
  for (const mode of ['icl', 'adapter']) {
    await expect(page.getByTestId(`compare-${mode}`).getByTestId('compare-skipped')).toHaveText('Not run: Compare was stopped.');
  }
  await expect(page.getByRole('button', { name: 'Compare' })).toBeEnabled();
});
