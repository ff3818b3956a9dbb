import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, test } from './guard';

/** Issue #24: a dark scheme when the system asks for one, and a layout that works on a phone-sized screen. */

/** The app with an adapter, a chat answer and a Compare result on screen: every panel filled. */
async function fillApp(page: Page) {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByLabel('Max new tokens').fill('24');
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(1);
  await page.getByLabel('Message', { exact: true }).fill('Branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
  await page.locator('#compare-message').fill('Branch name for: add dark mode');
  await page.getByRole('button', { name: 'Compare' }).click();
  for (const mode of ['base', 'icl', 'adapter']) await expect(page.getByTestId(`compare-${mode}`).locator('.stats')).toBeVisible();
}

/** axe's serious and critical findings, colour contrast included. */
async function seriousViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Relative luminance (WCAG) of a computed CSS colour. */
function luminance(css: string): number {
  const [r, g, b] = (css.match(/[\d.]+/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

test('dark mode follows prefers-color-scheme, with readable contrast everywhere (axe)', async ({ page }, info) => {
  test.setTimeout(180_000);
  await page.emulateMedia({ colorScheme: 'dark' });
  await fillApp(page);
  const colours = await page.evaluate(() => {
    const css = (sel: string, prop: string) => getComputedStyle(document.querySelector(sel)!).getPropertyValue(prop);
    return { page: css(':root', 'background-color'), text: css(':root', 'color'), panel: css('.chat', 'background-color') };
  });
  expect(luminance(colours.page)).toBeLessThan(0.05);
  expect(luminance(colours.panel)).toBeLessThan(0.05);
  expect(luminance(colours.text)).toBeGreaterThan(0.6);
  await page.screenshot({ path: `test-results/ui-dark-${info.project.name}.png`, fullPage: true });
  expect(await seriousViolations(page)).toEqual([]);

  // The light scheme is still light.
  await page.emulateMedia({ colorScheme: 'light' });
  expect(luminance(await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor))).toBeGreaterThan(0.8);
  expect(await seriousViolations(page)).toEqual([]);
});

test('on a narrow screen nothing scrolls sideways, the panels stack and every control is reachable', async ({ page }, info) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 360, height: 740 });
  await fillApp(page);
  // Nothing wider than the screen: no sideways scrolling, and no control cut off at the right edge.
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width).toBeLessThanOrEqual(360);
  const offside = await page.evaluate(() =>
    [...document.querySelectorAll('button, input, select, textarea, label.file-button')]
      .filter((el) => (el as HTMLElement).offsetParent !== null && !el.closest('.file-button input, .visually-hidden'))
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && (r.right > 360.5 || r.left < -0.5);
      })
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  expect(offside).toEqual([]);
  // The three Compare answers stack in one column, and Settings comes below the chat.
  const boxes = await Promise.all(['base', 'icl', 'adapter'].map(async (m) => (await page.getByTestId(`compare-${m}`).boundingBox())!));
  expect(new Set(boxes.map((b) => Math.round(b.x))).size).toBe(1);
  expect(boxes[1].y).toBeGreaterThan(boxes[0].y + boxes[0].height - 1);
  const chat = (await page.getByRole('region', { name: 'Chat' }).boundingBox())!;
  const settings = (await page.locator('fieldset.settings').first().boundingBox())!;
  expect(settings.y).toBeGreaterThan(chat.y);
  await page.screenshot({ path: `test-results/ui-narrow-${info.project.name}.png`, fullPage: true });
  expect(await seriousViolations(page)).toEqual([]);

  // Still usable there: send from the keyboard, and the Stop/Send button sits inside the screen.
  await page.getByLabel('Message', { exact: true }).fill('again');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('turn-assistant').nth(1).getByTestId('turn-stats')).toBeVisible();
  const send = (await page.getByRole('button', { name: 'Send' }).boundingBox())!;
  expect(send.x + send.width).toBeLessThanOrEqual(360);
});
