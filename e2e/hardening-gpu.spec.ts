import type { Page, Worker } from '@playwright/test';
import { expect, test } from './guard';

/**
 * GPU failures (issue #8) in the real engine worker: a device lost while answering or while idle, the hypernetwork
 * running out of GPU memory, and a refused adapter. The worker's script is served with a prelude (below) that
 * records the GPUDevices it gets and can refuse adapters or report an out-of-memory error: the app is unchanged.
 */

interface Faults {
  /** requestAdapter() resolves to null, as where the GPU is blocked. */
  refuseAdapter?: boolean;
  /** How many hypernetwork submissions report an out-of-memory error from their error scope. */
  hypernetOutOfMemory?: number;
}

/** Runs in the worker before the app's code: `self.faults` is the state a test reads and changes. */
function workerPrelude(faults: Faults): string {
  const body = (t: Faults & { devices: GPUDevice[] }) => {
    (self as any).faults = t;
    const requestAdapter = GPU.prototype.requestAdapter;
    GPU.prototype.requestAdapter = function (this: GPU, ...args) {
      return t.refuseAdapter ? Promise.resolve(null) : requestAdapter.apply(this, args);
    };
    const requestDevice = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, ...args) {
      const device = await requestDevice.apply(this, args);
      t.devices.push(device);
      return device;
    };
    // Error scopes as a stack per device, so that the scope open when a hypernetwork submission is recorded can fail.
    const scopes = new WeakMap<GPUDevice, { filter: GPUErrorFilter; outOfMemory: boolean }[]>();
    const stack = (d: GPUDevice) => scopes.get(d) ?? scopes.set(d, []).get(d)!;
    const push = GPUDevice.prototype.pushErrorScope;
    GPUDevice.prototype.pushErrorScope = function (this: GPUDevice, filter) {
      stack(this).push({ filter, outOfMemory: false });
      return push.call(this, filter);
    };
    const createCommandEncoder = GPUDevice.prototype.createCommandEncoder;
    GPUDevice.prototype.createCommandEncoder = function (this: GPUDevice, descriptor) {
      const scope = stack(this).findLast((s) => s.filter === 'out-of-memory');
      if (descriptor?.label?.startsWith('hypernet.') && scope && (t.hypernetOutOfMemory ?? 0) > 0) {
        t.hypernetOutOfMemory! -= 1;
        scope.outOfMemory = true;
      }
      return createCommandEncoder.call(this, descriptor);
    };
    const pop = GPUDevice.prototype.popErrorScope;
    GPUDevice.prototype.popErrorScope = async function (this: GPUDevice) {
      const scope = stack(this).pop();
      const error = await pop.call(this);
      return scope?.outOfMemory ? new GPUOutOfMemoryError('Not enough memory left (made by the test).') : error;
    };
  };
  return `(${body.toString()})(${JSON.stringify({ ...faults, devices: [] })});\n`;
}

async function openApp(page: Page, faults: Faults = {}, backend = 'auto'): Promise<Worker> {
  await page.route('**/assets/worker-*.js', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, body: workerPrelude(faults) + (await response.text()) });
  });
  await page.goto(`/?pack=tiny-random&backend=${backend}`);
  await expect(page.getByTestId('pack-ready')).toBeVisible();
  const worker = page.workers().find((w) => /\/assets\/worker-/.test(w.url()));
  expect(worker).toBeDefined();
  expect(await worker!.evaluate(() => typeof (self as any).faults)).toBe('object');
  return worker!;
}

const deviceCount = (worker: Worker) => worker.evaluate(() => (self as any).faults.devices.length as number);
const destroyLastDevice = (worker: Worker) => worker.evaluate(() => (self as any).faults.devices.at(-1).destroy());

// auto runs our WGSL engine where WebGPU exists; webgpu runs onnxruntime-web on it.
for (const preference of ['auto', 'webgpu']) {
  test(`a GPU device lost mid-answer or while idle (${preference}): the answer ends with a message, the model restarts, the next message is answered`, async ({ page }) => {
    const worker = await openApp(page, {}, preference);
    const backend = page.getByTestId('backend');
    await expect(backend).toHaveAttribute('data-backend', 'webgpu');
    expect(await deviceCount(worker)).toBe(1);
    const input = page.getByLabel('Message', { exact: true });
    const notice = page.locator('.chat .notice');
    const lastReply = () => page.getByTestId('turn-assistant').last();

    // Lost in the middle of decoding.
    await page.getByLabel('Max new tokens').fill('400');
    await input.fill('Tell me a long story.');
    await input.press('Enter');
    await expect(lastReply().locator('.content')).not.toHaveText(/^…?$/);
    await destroyLastDevice(worker);
    await expect(notice).toHaveText(/^Generation failed: the GPU device was lost \(Device was destroyed\.\)\. The model was started again: (WGSL engine on )?WebGPU/);
    await expect(lastReply().getByTestId('turn-stats')).toHaveCount(0);
    await expect(backend).toHaveAttribute('data-backend', 'webgpu');
    expect(await deviceCount(worker)).toBe(2);
    // The next message is answered on the new device, and adapters are made on it.
    await page.getByLabel('Max new tokens').fill('16');
    await input.fill('And now?');
    await input.press('Enter');
    await expect(lastReply().getByTestId('turn-stats')).toBeVisible();
    await page.getByRole('button', { name: 'Example' }).click();
    await page.getByRole('button', { name: 'Make adapter' }).click();
    await expect(page.getByTestId('adapter-stats')).toContainText('on webgpu');

    // Lost while idle, and now the browser refuses a new adapter: WebAssembly, said in the note and the badge.
    await worker.evaluate(() => {
      (self as any).faults.refuseAdapter = true;
    });
    await destroyLastDevice(worker);
    await input.fill('Still there?');
    await input.press('Enter');
    await expect(notice).toHaveText(
      'Generation failed: the GPU device was lost (Device was destroyed.). The model was started again: WebAssembly fallback: no WebGPU adapter is available (GPU blocked or disabled).',
    );
    await expect(backend).toHaveAttribute('data-backend', 'wasm');
    await expect(backend).toContainText('WebAssembly fallback: no WebGPU adapter is available');
    await input.fill('And on WebAssembly?');
    await input.press('Enter');
    await expect(lastReply().getByTestId('turn-stats')).toBeVisible();
    // The adapter made before the loss is still listed and switched on.
    await expect(page.getByTestId('adapter').getByRole('checkbox')).toBeChecked();
  });
}

test('the hypernetwork out of GPU memory: the adapter is made on the CPU (the same one) and said; the GPU path works again after', async ({ page }) => {
  const worker = await openApp(page, { hypernetOutOfMemory: 1 });
  await expect(page.getByTestId('backend')).toHaveAttribute('data-backend', 'webgpu');
  const adapters = page.getByTestId('adapter');
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(adapters).toHaveCount(1);
  expect(await worker.evaluate(() => (self as any).faults.hypernetOutOfMemory)).toBe(0);
  await expect(adapters.getByTestId('adapter-stats')).toContainText('on cpu');
  await expect(page.getByTestId('skill-note')).toContainText('The GPU could not run the hypernetwork (it may be short of memory), so this adapter was made on the CPU');

  // The same skill again, with the GPU's memory back: made on the GPU, and equal to the one the CPU made. (The first is
  // switched off for that: the skill encoder runs with the active adapters bound, so they would change the encoding.)
  await adapters.getByRole('checkbox').uncheck();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(adapters).toHaveCount(2);
  await expect(adapters.nth(1).getByTestId('adapter-stats')).toContainText('on webgpu');
  await expect(page.getByText(/made on the CPU/)).toHaveCount(0);
  const maxDiff = await page.evaluate(() => {
    const [cpu, gpu] = (window as any).appStore.getState().adapters;
    let diff = 0;
    for (const [module, pair] of Object.entries<any>(cpu.modules)) {
      for (const side of ['a', 'b']) {
        const x: Float32Array = pair[side];
        const y: Float32Array = gpu.modules[module][side];
        if (x.length !== y.length) return Infinity;
        for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]));
      }
    }
    return diff;
  });
  expect(maxDiff).toBeLessThan(1e-4);
  await adapters.first().getByRole('checkbox').check();
  await expect(page.getByText(/2 of 4 slots active/)).toBeVisible();

  // The app is usable: a message is answered with both adapters on.
  await page.getByLabel('Message', { exact: true }).fill('Branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
});

test('a refused GPU adapter (requestAdapter gives null) falls back to WebAssembly with the reason shown', async ({ page }) => {
  await openApp(page, { refuseAdapter: true });
  const backend = page.getByTestId('backend');
  await expect(backend).toHaveAttribute('data-backend', 'wasm');
  await expect(backend).toHaveText('WebAssembly fallback: no WebGPU adapter is available (GPU blocked or disabled)');
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter-stats')).toContainText('on cpu');
  await page.getByLabel('Message', { exact: true }).fill('Branch name for: fix login timeout');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('turn-assistant').getByTestId('turn-stats')).toBeVisible();
});
