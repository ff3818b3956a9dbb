// Headless Debian chromium on the built app (vite preview), with SwiftShader WebGPU or with WebGPU switched off.
import { chromium } from '@playwright/test';
import { preview } from 'vite';

export const root = new URL('..', import.meta.url).pathname;
const webgpuFlags = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

/** Serve dist/ on `port`, open harness.html and return the page with a close() for both. */
export async function openHarness({ webgpu = true, port = 4174 } = {}) {
  const server = await preview({ root, preview: { port, strictPort: true }, logLevel: 'error' });
  const { page, browser, close } = await openHarnessAt(`http://localhost:${port}`, { webgpu });
  const closeAll = async () => {
    await close();
    server.httpServer.close();
  };
  return { page, browser, close: closeAll };
}

/** Open `origin`/harness.html (served by the caller) in a fresh headless chromium, once the harness is ready. */
export async function openHarnessAt(origin, { webgpu = true } = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', ...(webgpu ? webgpuFlags : ['--disable-webgpu'])],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(0);
  await page.goto(`${origin}/harness.html`);
  await page.waitForFunction(() => document.body.dataset.ready === 'true');
  return { page, browser, close: () => browser.close() };
}

/** The median of a list of numbers (the benchmarks' summary of repetitions). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
