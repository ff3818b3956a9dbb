import { expect, test } from './guard';

/** Bad packs are refused with a message naming the file; a retry after the cause is gone loads the pack. */
test('a corrupt weights file is named, and Retry loads the pack once it is whole again', async ({ page }) => {
  let corrupt = true;
  await page.route('**/models/tiny-random/weights.safetensors*', async (route) => {
    const response = await route.fetch();
    const body = await response.body();
    if (corrupt) body[body.length - 1] ^= 0xff;
    await route.fulfill({ response, body });
  });
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-error')).toContainText('weights.safetensors: sha256');
  corrupt = false;
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
});

test('a truncated download and a missing file are named', async ({ page }) => {
  await page.route('**/models/tiny-random/model.onnx*', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: (await response.body()).subarray(0, 1000) });
  });
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-error')).toContainText('model.onnx: download stopped at 1000 of');
  await page.unroute('**/models/tiny-random/model.onnx*');
  await page.route('**/models/tiny-random/tokenizer.json*', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('pack-error')).toContainText('tokenizer.json: 404');
});

test('a manifest of an unknown format version is refused with a message', async ({ page }) => {
  await page.route('**/models/tiny-random/manifest.json*', async (route) => {
    const response = await route.fetch();
    const manifest = await response.json();
    await route.fulfill({ response, json: { ...manifest, formatVersion: 7 } });
  });
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-error')).toContainText('pack format version 7 is not supported');
});

test('without WebGPU the app says it falls back to WebAssembly', async ({ page }) => {
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByTestId('backend')).toContainText('WebAssembly fallback');
});
