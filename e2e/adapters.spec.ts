import { COMMIT_SKILL, openApp } from './app';
import { expect, test } from './guard';
import type { Page } from '@playwright/test';

/** Reload once every library write has committed (the list says "Saving…" until then). */
async function reloadSaved(page: Page) {
  await expect(page.getByTestId('library-saved')).toHaveAttribute('data-saved', 'yes');
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
}

async function makeAdapter(page: Page, count: number) {
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(count);
}

test('adapters accumulate, survive a reload, rename, delete, export and import', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: 'Example' }).click();
  await makeAdapter(page, 1);
  await page.locator('#skill-text').fill(COMMIT_SKILL);
  await makeAdapter(page, 2);
  const adapters = page.getByTestId('adapter');
  await expect(adapters.getByRole('checkbox', { checked: true })).toHaveCount(2);
  await expect(page.getByText(/2 of 4 slots active/)).toBeVisible();

  // Saved in IndexedDB: both come back after a reload, still active.
  await reloadSaved(page);
  await expect(adapters).toHaveCount(2);
  await expect(page.getByLabel('Name of branch-names')).toHaveValue('branch-names');
  await expect(page.getByLabel('Name of commit-messages')).toHaveValue('commit-messages');
  await expect(adapters.getByRole('checkbox', { checked: true })).toHaveCount(2);
  await expect(page.getByText(/2 of 4 slots active/)).toBeVisible();

  // Search by skill text.
  await page.getByLabel('Search adapters').fill('imperative');
  await expect(adapters).toHaveCount(1);
  await expect(adapters.getByRole('textbox')).toHaveValue('commit-messages');
  await page.getByLabel('Search adapters').fill('');

  // Rename one.
  const name = page.getByLabel('Name of branch-names');
  await name.fill('Team branch names');
  await name.press('Enter');
  await expect(page.getByLabel('Name of Team branch names')).toBeVisible();

  // Export PEFT: a zip holding both PEFT files.
  const downloading = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export PEFT of Team branch names' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('Team-branch-names-peft.zip');
  const zip = await readAll(await download.createReadStream());
  expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
  expect(zip.includes('adapter_config.json') && zip.includes('adapter_model.safetensors')).toBe(true);

  const gguf = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export GGUF of commit-messages' }).click();
  expect((await gguf).suggestedFilename()).toBe('commit-messages.gguf');

  // Import the exported zip back: a third adapter with the same name and skill.
  await page.getByLabel('Import PEFT…').setInputFiles({ name: 'Team-branch-names-peft.zip', mimeType: 'application/zip', buffer: zip });
  await expect(adapters).toHaveCount(3);
  await expect(page.getByTestId('library-note')).toHaveText('Imported "Team branch names".');
  await expect(adapters.nth(2).getByTestId('adapter-stats')).toContainText('imported from Team-branch-names-peft.zip');

  // Delete the made commit adapter and the imported copy; the rename and the deletions persist.
  await page.getByRole('button', { name: 'Delete commit-messages' }).click();
  await expect(adapters).toHaveCount(2); // the list has re-rendered before nth(1) is picked
  await adapters.nth(1).getByRole('button', { name: /Delete/ }).click();
  await expect(adapters).toHaveCount(1);
  await reloadSaved(page);
  await expect(adapters).toHaveCount(1);
  await expect(adapters.getByRole('textbox')).toHaveValue('Team branch names');
  await expect(adapters.getByRole('checkbox')).toBeChecked();
});

test('a file that is not a PEFT adapter is refused with a clear message', async ({ page }) => {
  await openApp(page);
  await page.getByLabel('Import PEFT…').setInputFiles({ name: 'notes.zip', mimeType: 'application/zip', buffer: Buffer.from('not a zip') });
  await expect(page.getByTestId('library-note')).toHaveText('notes.zip could not be imported: notes.zip: not a zip archive (no end of central directory)');
  await expect(page.getByTestId('adapter')).toHaveCount(0);
});

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
