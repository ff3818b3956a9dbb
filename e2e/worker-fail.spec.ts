import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page, Route } from '@playwright/test';
import { expect, test } from './guard';

/**
 * Failures on the way to a loaded model end in an error naming what failed, with Retry where retrying can help:
 * never an endless "Loading", never a silent switch to another pack. Runs on the built app and on the dev server.
 */
const ORT_MODULE = '**/ort/ort-wasm-simd-threaded.asyncify.mjs*';
const ortSource = readFileSync(fileURLToPath(new URL('../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs', import.meta.url)), 'utf8');

/**
 * A route that fails until mended, then passes requests on. Not page.unroute: it waits for the handlers of requests
 * still in flight, and a request from a worker that was stopped meanwhile can hold it for minutes.
 */
async function breakRoute(page: Page, url: string | RegExp, fail: (route: Route) => Promise<void>): Promise<{ mend(): void }> {
  let broken = true;
  await page.route(url, (route) => (broken ? fail(route) : route.fallback()));
  return { mend: () => void (broken = false) };
}

test('an ORT module that does not load is named, and Retry loads the pack once it is back', async ({ page }) => {
  const fault = await breakRoute(page, ORT_MODULE, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/?pack=tiny-random&backend=wasm');
  await expect(page.getByTestId('pack-error')).toContainText('ort-wasm-simd-threaded.asyncify.mjs');
  // onnxruntime-web keeps a failed start for good, so this retry needs a fresh worker.
  fault.mend();
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
});

test('a wasm thread whose worker cannot start ends in an error with Retry, not an endless Loading', async ({ page }) => {
  // What the dev server did before its /ort/ files had COEP: the threads' worker script is refused. Here the module
  // (which starts itself as that worker) points its threads at a missing file instead; playwright cannot route a
  // worker's own workers, so this reaches the server and fails there.
  const threadStart = 'new Worker(new URL(import.meta.url)';
  expect(ortSource).toContain(threadStart);
  const broken = ortSource.replace(threadStart, 'new Worker(new URL("missing-thread-worker.mjs", import.meta.url)');
  const fault = await breakRoute(page, ORT_MODULE, (route) => route.fulfill({ status: 200, contentType: 'text/javascript', body: broken }));
  await page.goto('/?pack=tiny-random&backend=wasm');
  await expect(page.getByTestId('pack-error')).toContainText('the engine worker stopped');
  fault.mend();
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  await page.getByLabel('Message', { exact: true }).fill('hello');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
});

test('an engine worker whose script does not load ends in an error with Retry', async ({ page }) => {
  // The worker's script: assets/worker-<hash>.js in the built app, src/model/worker.ts on the dev server.
  const workerScript = /\/(assets\/worker-[\w-]+\.js|src\/model\/worker\.ts)(\?.*)?$/;
  const fault = await breakRoute(page, workerScript, (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/?pack=tiny-random');
  await expect(page.getByTestId('pack-error')).toContainText('the engine worker stopped: its script could not be loaded or run');
  fault.mend();
  await page.getByRole('button', { name: 'Retry' }).click();
  await expect(page.getByTestId('pack-ready')).toBeVisible();
});

for (const [what, body, status, message] of [
  ['missing', 'not found', 404, 'answered HTTP 404'],
  ['not JSON', '{"default": "tiny-', 200, 'is not valid JSON'],
] as const) {
  test(`a ${what} pack index is named in the error, and no other pack is opened`, async ({ page }) => {
    const packRequests: string[] = [];
    page.on('request', (r) => /\/models\/[^/]+\//.test(new URL(r.url()).pathname) && packRequests.push(r.url()));
    await page.route('**/models/index.json*', (route) => route.fulfill({ status, contentType: 'application/json', body }));
    await page.goto('/');
    const error = page.getByTestId('pack-error');
    await expect(error).toContainText(`the list of packs (/models/index.json) ${message}`);
    await expect(error).toContainText('open a pack below');
    expect(packRequests).toEqual([]);
  });
}
