import type { Page } from '@playwright/test';
import { expect } from './guard';

/** A small skill the adapter specs make adapters from. */
export const COMMIT_SKILL = `---
name: commit-messages
description: How we write commit messages.
---

Commit subjects are \`<type>(<scope>): <summary>\` in the imperative, at most 50 characters, no final period.
`;

/** The app on the tiny test pack, once the pack is ready. */
export async function openApp(page: Page): Promise<void> {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
}
