import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from './guard';

/** The built app names an adapter as Python's parse_skill_md (yaml.safe_load) names the skill: fixture written by Python. */
type Case = { id: string; text: string; expected: { name?: string; error?: string } };
const cases = (JSON.parse(readFileSync(fileURLToPath(new URL('fixtures/front-matter/cases.json', import.meta.url)), 'utf8')) as { cases: Case[] }).cases;

test('adapters made from block-scalar and quoted front matter carry the name Python reads', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  const names = page.getByTestId('adapter').locator('input.adapter-name');
  const picked = ['folded-name', 'double-quoted-escapes', 'single-quoted'].map((id) => cases.find((c) => c.id === id)!);
  for (const [i, c] of picked.entries()) {
    await page.locator('#skill-text').fill(c.text);
    await page.getByRole('button', { name: 'Make adapter' }).click();
    await expect(page.getByTestId('adapter')).toHaveCount(i + 1);
    await expect.poll(() => names.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value))).toContain(c.expected.name);
  }
});
