import type { Page } from '@playwright/test';
import { expect, test } from './guard';

/** The adapter library when the browser's storage is full or denied (issue #8); the store's side is in store.test.ts. */

const COMMIT_SKILL = `---
name: commit-messages
description: How we write commit messages.
---

Commit subjects are \`<type>(<scope>): <summary>\` in the imperative, at most 50 characters, no final period.
`;

async function openApp(page: Page, url = '/?pack=tiny-random') {
  await page.goto(url);
  await expect(page.getByTestId('pack-ready')).toBeVisible();
}

async function makeExampleAdapter(page: Page) {
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(1);
  await expect(page.getByTestId('library-note')).toHaveCount(0);
}

test('storage full: saving a new adapter fails with a message, and what was saved before is still there after a reload', async ({ page }) => {
  await openApp(page);
  await makeExampleAdapter(page);
  await expect(page.getByRole('button', { name: 'Make adapter' })).toBeEnabled(); // saved
  const savedAt = Date.now();
  const adapters = page.getByTestId('adapter');
  // Chatting meanwhile: after a write, Chromium lets the next ones through unchecked while its cached free space
  // lasts, which decays over 30 s (BucketContext::kBucketSpaceCacheTimeLimit); only then does a new quota bite.
  await page.getByLabel('Message', { exact: true }).fill('Branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
  await page.waitForTimeout(Math.max(0, savedAt + 32_000 - Date.now()));

  // A real quota: Chromium's own QuotaExceededError once the origin would use more than it does now.
  const cdp = await page.context().newCDPSession(page);
  const origin = new URL(page.url()).origin;
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage });
  await page.locator('#skill-text').fill(COMMIT_SKILL);
  await page.getByRole('button', { name: 'Make adapter' }).click();
  // Kept for this session, and the user is told it was not saved.
  await expect(adapters).toHaveCount(2);
  await expect(page.getByTestId('library-note')).toHaveText(
    `The browser's storage for this page is full, so saving "commit-messages" failed; what was saved before is kept. Delete or export adapters you no longer need.`,
  );
  await expect(adapters.getByRole('checkbox', { checked: true })).toHaveCount(2);

  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await expect(adapters).toHaveCount(1);
  await expect(page.getByLabel('Name of branch-names')).toHaveValue('branch-names');
  await expect(adapters.getByRole('checkbox')).toBeChecked();
  await expect(page.getByTestId('library-note')).toHaveCount(0);
});

test('storage denied (private window, site data blocked): the user is told, adapters work for the session, saved ones survive', async ({ page }) => {
  // Where storage is denied, Chromium throws a SecurityError from indexedDB.open(); here only when the URL asks.
  await page.addInitScript(() => {
    if (!new URLSearchParams(location.search).has('deny-storage')) return;
    IDBFactory.prototype.open = () => {
      throw new DOMException("Failed to execute 'open' on 'IDBFactory': access to the Indexed Database API is denied in this context.", 'SecurityError');
    };
  });
  await openApp(page);
  await makeExampleAdapter(page);

  await openApp(page, '/?pack=tiny-random&deny-storage');
  const note = page.getByTestId('library-note');
  const denied =
    'This browser does not let the page save data (a private window, or site storage switched off): adapters last until the page is closed. Export them to keep them.';
  await expect(note).toHaveText(denied);
  const adapters = page.getByTestId('adapter');
  await expect(adapters).toHaveCount(0);
  await page.locator('#skill-text').fill(COMMIT_SKILL);
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(adapters).toHaveCount(1);
  await expect(page.getByLabel('Name of commit-messages')).toBeVisible();
  await expect(note).toHaveText(denied);
  await expect(adapters.getByRole('checkbox')).toBeChecked();
  await page.getByLabel('Message', { exact: true }).fill('Write a commit subject for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();

  // Storage allowed again: the adapter saved before is there, untouched; the session-only one is gone.
  await openApp(page);
  await expect(adapters).toHaveCount(1);
  await expect(page.getByLabel('Name of branch-names')).toHaveValue('branch-names');
  await expect(note).toHaveCount(0);
});
