import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { expect, test } from './guard';

/** Issue #24: asked before a large first download (size and time), and the cached model files can be deleted. */

const manifest = JSON.parse(readFileSync(new URL('../public/models/tiny-random/manifest.json', import.meta.url), 'utf8'));
const MiB = 1024 ** 2;

/** Serve tiny-random's manifest with its weights file stated as 300 MiB (a Gemma-sized download). */
async function inflateWeights(page: Page) {
  const big = { ...manifest, files: manifest.files.map((f: { role: string }) => (f.role === 'weights' ? { ...f, bytes: 300 * MiB } : f)) };
  await page.route('**/models/tiny-random/manifest.json*', (route) => route.fulfill({ json: big }));
  return big.files.reduce((s: number, f: { bytes: number }) => s + f.bytes, 0) as number;
}

/** Pack file requests (the manifest aside) made from now on, by the page or its worker. */
function packDownloads(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/models/tiny-random/') && !path.endsWith('manifest.json')) seen.push(path);
  });
  return seen;
}

test('a large first download is announced with its size and time, and starts only when the user says so', async ({ page }) => {
  const downloads = packDownloads(page);
  const total = await inflateWeights(page);
  await page.goto('/?pack=tiny-random');
  const prompt = page.getByTestId('download-prompt');
  await expect(prompt).toBeVisible();
  // The size is the manifest's own sum; the time is that size at the speed the browser reports (Network Information API).
  await expect(page.getByTestId('download-size')).toHaveText(`${(total / MiB).toFixed(1)} MB`);
  const mbps: number | null = await page.evaluate(() => (navigator as any).connection?.downlink ?? null);
  const minutes = (mbps_: number) => Math.round((total * 8) / (mbps_ * 1e6) / 60);
  if (mbps) await expect(prompt).toContainText(`about ${minutes(mbps)} min at ${mbps} Mbit/s`);
  else await expect(prompt).toContainText(`about ${minutes(10)} min at 10 Mbit/s`);

  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(prompt).toContainText('Nothing was downloaded');
  await page.waitForTimeout(500);
  expect(downloads).toEqual([]);
  await expect(page.getByTestId('pack-ready')).toHaveCount(0);

  // The real manifest again (the test's stand-in for a finished download), then Download: the pack loads.
  await page.unroute('**/models/tiny-random/manifest.json*');
  await page.getByRole('button', { name: /^Download / }).click();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  expect(downloads.some((p) => p.endsWith('weights.safetensors'))).toBe(true);
});

test('a pack whose files are all in the cache is not asked about, even when the manifest states a large size', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  // Every file is cached now under its URL and sha256. The same files stated as 300 MiB: nothing is left to download,
  // so the load goes ahead unasked (and the loader then refuses the size the manifest states, which is beside the point).
  await inflateWeights(page);
  await page.reload();
  await expect(page.getByTestId('pack-error')).toContainText('weights.safetensors');
  await expect(page.getByTestId('download-prompt')).toHaveCount(0);
});

test('cached model files can be listed and deleted; the next visit downloads them again', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  // What the Cache API itself holds, read directly.
  const cached = () =>
    page.evaluate(async () => {
      const names = await caches.keys();
      let files = 0;
      for (const n of names) files += (await (await caches.open(n)).keys()).length;
      return files;
    });
  const before = await cached();
  expect(before).toBe(manifest.files.length);
  const bytes = manifest.files.reduce((s: number, f: { bytes: number }) => s + f.bytes, 0);

  await page.getByRole('button', { name: 'Delete cached models…' }).click();
  const question = page.getByRole('group', { name: 'Delete cached models' });
  await expect(question).toContainText(`Delete ${before} cached model files (${(bytes / 1024).toFixed(1)} KB)?`);
  await question.getByRole('button', { name: 'Keep' }).click();
  expect(await cached()).toBe(before);

  await page.getByRole('button', { name: 'Delete cached models…' }).click();
  await question.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('cache-note')).toContainText(`Deleted ${before} cached model files`);
  expect(await cached()).toBe(0);
  // The model loaded now still answers.
  await page.getByLabel('Max new tokens').fill('8');
  await page.getByLabel('Message', { exact: true }).fill('hello');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();

  const downloads = packDownloads(page);
  await page.reload();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  expect(downloads.filter((p) => p.endsWith('weights.safetensors'))).toHaveLength(1);
  await page.getByRole('button', { name: 'Delete cached models…' }).click();
  await expect(question).toContainText(`Delete ${before} cached model files`);
});
