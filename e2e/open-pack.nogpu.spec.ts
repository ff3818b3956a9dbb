import { fileURLToPath } from 'node:url';
import { expect, test } from './guard';

test('a pack from a local folder loads, checks and chats', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByText('Open another model pack').click();
  const folder = fileURLToPath(new URL('../public/models/tiny-random', import.meta.url));
  await page.getByLabel('Pick a local pack folder…').setInputFiles(folder);
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByLabel('Message', { exact: true }).fill('hello');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
});

test('a pack URL that does not answer is named in the error', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByText('Open another model pack').click();
  await page.getByLabel('Pack URL').fill('http://localhost:4173/models/no-such-pack');
  await page.getByRole('button', { name: 'Load' }).click();
  await expect(page.getByTestId('pack-error')).toContainText('manifest.json');
});
