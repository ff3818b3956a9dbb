// The production build holds the app alone: the harness pages and the page's test hook (window.appStore) are only
// in test builds (`vite build --mode test`, which the other browser tests run on).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { build } from 'vite';

/** The text of every JavaScript file the build wrote. */
function scripts(dir: string): string {
  return readdirSync(join(dir, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(dir, 'assets', f), 'utf8'))
    .join('\n');
}

for (const mode of ['production', 'test'] as const) {
  test(`a ${mode} build ${mode === 'production' ? 'leaves out' : 'holds'} the harness pages and the test hook`, async () => {
    test.setTimeout(180_000);
    const outDir = mkdtempSync(join(tmpdir(), `app-${mode}-`));
    try {
      // publicDir off: the packs under public/ are not what this checks (and Gemma's would be copied).
      await build({ mode, publicDir: false, logLevel: 'error', build: { outDir, emptyOutDir: true } });
      const testBuild = mode === 'test';
      expect(existsSync(join(outDir, 'index.html'))).toBe(true);
      expect(existsSync(join(outDir, 'harness.html'))).toBe(testBuild);
      expect(existsSync(join(outDir, 'kernels.html'))).toBe(testBuild);
      expect(scripts(outDir).includes('appStore')).toBe(testBuild);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
}
