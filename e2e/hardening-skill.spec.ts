import { expect, test } from './guard';

/**
 * Bad skill input in the real app: each case gets a clear message, nothing is made from it, and the app stays usable
 * (an adapter is made from a good skill at the end). Files go through the same "Open SKILL.md…" path as a drop.
 */
test('bad skill input: whitespace, a binary file, invalid UTF-8, over 1 MB, broken front matter, longer than the context', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  const text = page.locator('#skill-text');
  const note = page.getByTestId('skill-note');
  const make = page.getByRole('button', { name: 'Make adapter' });
  const file = page.locator('.skill input[type=file]');
  const open = (name: string, buffer: Buffer) => file.setInputFiles({ name, mimeType: 'text/markdown', buffer });

  await text.fill('   \n\t \n');
  await make.click();
  await expect(note).toHaveText('The skill is empty: paste a SKILL.md or describe the skill in a few lines.');

  await open('SKILL.md', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
  await expect(note).toContainText('SKILL.md looks like a binary file, not a SKILL.md text.');
  await expect(text).toHaveValue('   \n\t \n'); // the text box keeps what it had

  await open('latin1.md', Buffer.from('Caf\xe9 names: use the accent\n', 'latin1'));
  await expect(note).toContainText('latin1.md is not valid UTF-8 text.');

  await open('huge.md', Buffer.alloc(1_100_000, 'a'));
  await expect(note).toContainText('huge.md is 1.0 MB; a skill may be at most 1 MB of text.');
  await text.fill('word '.repeat(220_000));
  await make.click();
  await expect(note).toContainText('The skill is larger than 1 MB of text; shorten it to what the model should follow.');
  await expect(page.getByTestId('adapter')).toHaveCount(0);

  // Front matter that is never closed: a warning, and the whole text is the skill.
  await text.fill('---\nname: broken\ndescription: never closed\n\nBranch names are lower case with hyphens.\n');
  await make.click();
  await expect(page.getByTestId('adapter')).toHaveCount(1);
  await expect(note).toContainText('The front matter opened by "---" is never closed; the whole text is used as the skill.');

  // Far longer than the tiny pack's context (512 tokens): read chunk by chunk, said so.
  await text.fill(`---\nname: long\ndescription: a long skill\n---\n${'Commit subjects are imperative and short. '.repeat(300)}`);
  await make.click();
  await expect(page.getByTestId('adapter')).toHaveCount(2);
  await expect(note).toContainText(/The skill is longer than one encoder chunk: it was read in \d+ chunks\./);

  // Still usable: chat with both adapters.
  await page.getByLabel('Message', { exact: true }).fill('Branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
});
