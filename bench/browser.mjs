// Headless Debian chromium on the built app (vite preview), with SwiftShader WebGPU or with WebGPU switched off.
import { chromium } from '@playwright/test';
import { preview } from 'vite';

export const root = new URL('..', import.meta.url).pathname;
const webgpuFlags = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/** Serve dist/ on `port`, open harness.html and return the page with a close() for both. */
export async function openHarness({ webgpu = true, port = 4174 } = {}) {
  const server = await preview({ root, preview: { port, strictPort: true }, logLevel: 'error' });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', ...(webgpu ? webgpuFlags : ['--disable-webgpu'])],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  await page.goto(`http://localhost:${port}/harness.html`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  const close = async () => {
    await browser.close();
    server.httpServer.close();
  };
  return { page, browser, close };
}
