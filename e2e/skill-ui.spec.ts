import { expect, test } from './guard';

test('paste a skill, make an adapter, chat with it and compare three ways', async ({ page }, info) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  // The file's own record (training/export/make_test_pack.py wrote {kind: random-init, seed: 0}) tells the user what to expect.
  await expect(page.getByTestId('hypernet-info')).toHaveText('Hypernetwork: random weights (a test pack, seed 0); its adapters carry no skill.');
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  const adapter = page.getByTestId('adapter');
  await expect(adapter).toHaveCount(1);
  await expect(adapter.getByRole('checkbox')).toBeChecked();
  await expect(adapter.getByTestId('adapter-stats')).toContainText(info.project.name === 'webgpu' ? 'on webgpu' : 'on cpu');
  await expect(page.getByText(/1 of 4 slots active/)).toBeVisible();

  await page.getByLabel('Message', { exact: true }).fill('Branch name for: fix login timeout, ticket AB-12');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
  // The answer says what made it: the example skill's adapter (named from its front matter).
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-adapters')).toHaveText(`with ${await adapter.locator('.adapter-name').inputValue()}`);

  await page.locator('#compare-message').fill('Branch name for: add dark mode, ticket UI-7');
  await page.getByRole('button', { name: 'Compare' }).click();
  for (const mode of ['base', 'icl', 'adapter']) {
    await expect(page.getByTestId(`compare-${mode}`).locator('.stats')).toBeVisible();
  }
  // The skill in context makes a longer prompt than the adapter does: the adapter carries the skill in weights.
  const prompt = async (mode: string) => Number((await page.getByTestId(`compare-${mode}`).locator('.stats').textContent())!.split(' ')[0]);
  expect(await prompt('icl')).toBeGreaterThan(await prompt('adapter'));
  await page.screenshot({ path: `test-results/skill-${info.project.name}.png`, fullPage: true });

  // Switching the adapter off and deleting it keeps the app usable.
  await adapter.getByRole('checkbox').uncheck();
  await expect(page.getByText(/0 of 4 slots active/)).toBeVisible();
  await adapter.getByRole('button', { name: /Delete/ }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(0);
});

test('an empty skill is refused with a clear message', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('skill-note')).toContainText('The skill is empty');
  await expect(page.getByTestId('adapter')).toHaveCount(0);
});
