import { expect, test } from './guard';

/**
 * Skill text and chat text are untrusted: they are shown as text, never parsed as HTML. A skill and a message full
 * of markup must appear literally and run nothing. (Answers are rendered by the same text node as messages.)
 */
test('markup in a skill or a message is shown as text and runs nothing', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  const img = '<img src=x onerror="window.__pwned = 1">';
  const skill = `---\nname: ${img}\ndescription: <script>window.__pwned = 2</script>\n---\n<b>Branch names</b> ${img} are lower case.\n`;
  await page.locator('#skill-text').fill(skill);
  await page.getByRole('button', { name: 'Make adapter' }).click();
  const adapter = page.getByTestId('adapter');
  await expect(adapter).toHaveCount(1);
  await expect(adapter.getByRole('textbox')).toHaveValue(img);

  const message = `Name this: <b>bold</b> ${img.replace('__pwned = 1', '__pwned = 3')}`;
  await page.getByLabel('Message', { exact: true }).fill(message);
  await page.getByRole('button', { name: 'Send' }).click();
  const user = page.getByTestId('turn-user');
  await expect(user.locator('.content')).toHaveText(message);
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();

  expect(await user.locator('b, img').count()).toBe(0);
  expect(await page.locator('main img, main script, .turns b').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
});
