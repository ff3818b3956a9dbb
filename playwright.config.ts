import { defineConfig } from '@playwright/test';

/** Debian's chromium: playwright's own browser download cannot run here. */
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const baseArgs = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const DEV_PORT = 5174; // not npm start's 5173, so a running npm start is not mistaken for the test server
const devURL = `http://localhost:${DEV_PORT}`;
const webgpuArgs = ['--enable-unsafe-webgpu', '--enable-unsafe-swiftshader', '--use-webgpu-adapter=swiftshader', '--enable-features=Vulkan'];

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: { baseURL: 'http://localhost:4173', trace: 'off' },
  webServer: [
    { command: 'npx vite preview --port 4173 --strictPort', url: 'http://localhost:4173/', reuseExistingServer: !process.env.CI, timeout: 60_000 },
    // The dev server of npm start (same vite.config.ts): its middleware serves /ort/ on its own, so it is tested too.
    { command: `npx vite --port ${DEV_PORT} --strictPort`, url: `${devURL}/`, reuseExistingServer: !process.env.CI, timeout: 60_000 },
  ],
  projects: [
    { name: 'webgpu', testIgnore: /(\.nogpu|gemma|devserver[\w-]*)\.spec\.ts/, use: { launchOptions: { executablePath, args: [...baseArgs, ...webgpuArgs] } } },
    // The same browser with WebGPU switched off: the app must fall back to WebAssembly and say so.
    { name: 'no-webgpu', testMatch: /(chat|skill-ui|a11y|gemma|nogpu)\.spec\.ts/, use: { launchOptions: { executablePath, args: [...baseArgs, '--disable-webgpu'] } } },
    // Under npm start (vite dev server), with and without WebGPU.
    { name: 'devserver', testMatch: /(devserver|worker-fail)[\w-]*\.spec\.ts/, use: { baseURL: devURL, launchOptions: { executablePath, args: [...baseArgs, ...webgpuArgs] } } },
    { name: 'devserver-no-webgpu', testMatch: /devserver[\w-]*\.spec\.ts/, use: { baseURL: devURL, launchOptions: { executablePath, args: [...baseArgs, '--disable-webgpu'] } } },
  ],
});
