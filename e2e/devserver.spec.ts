import { expect, test } from './guard';

/**
 * npm start serves the app with vite's dev server, whose own middleware serves onnxruntime-web's files under /ort/:
 * the WebAssembly engine (with its threads) must start there as in the built app, with and without WebGPU.
 */
async function answers(page: import('@playwright/test').Page) {
  await page.getByLabel('Message', { exact: true }).fill('Write a branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').last().getByTestId('turn-stats')).toContainText(/\d+ tokens/);
}

test('the dev server loads a pack on WebAssembly (threads, cross-origin isolated) and answers', async ({ page }) => {
  await page.goto('/?pack=tiny-random&backend=wasm');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
  // Threads need isolation; a page that lost it would run single-threaded and hide a broken /ort/ worker script.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await answers(page);
});

test('the dev server opens a pack on the default engine and answers (WebAssembly where WebGPU is off)', async ({ page }, info) => {
  await page.goto('/?pack=tiny-random');
  const backend = page.getByTestId('backend');
  await expect(backend).toHaveAttribute('data-backend', info.project.name === 'devserver-no-webgpu' ? 'wasm' : 'webgpu');
  await answers(page);
});
