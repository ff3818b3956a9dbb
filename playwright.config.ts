import { defineConfig } from '@playwright/test';

/** Debian's chromium: playwright's own browser download cannot run here. */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const baseArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const webgpuArgs = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: { baseURL: 'http://localhost:4173', trace: 'off' },
  webServer: {
    command: 'npx vite preview --port 4173 --strictPort',
    url: 'http://localhost:4173/',
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
  projects: [
    { name: 'webgpu', testIgnore: /(\.nogpu|gemma)\.spec\.ts/, use: { launchOptions: { executablePath, args: [...baseArgs, ...webgpuArgs] } } },
    // The same browser with WebGPU switched off: the app must fall back to WebAssembly and say so.
    { name: 'no-webgpu', testMatch: /(chat|skill-ui|a11y|gemma|nogpu)\.spec\.ts/, use: { launchOptions: { executablePath, args: [...baseArgs, '--disable-webgpu'] } } },
  ],
});
