import AxeBuilder from '@axe-core/playwright';
import { expect, test } from './guard';

test('the main path works from the keyboard alone', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByLabel(/Paste a skill/).focus();
  await page.keyboard.type('# Branch names\nBranches are type/ticket-slug.');
  // Tab through: Open SKILL.md (file input), Example, Make adapter.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Make adapter' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('adapter')).toHaveCount(1);
  await page.getByLabel('Message', { exact: true }).focus();
  await page.keyboard.type('Branch name for: fix login');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
});

test('no serious accessibility violations (axe)', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(1);
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
});
