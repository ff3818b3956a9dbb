import { expect, test as base } from '@playwright/test';

/**
 * Every page test also fails on an uncaught page error, a Content-Security-Policy violation, or a request that
 * leaves the page's origin (the app talks to nothing else unless the user types a pack URL; the tests' typed URLs
 * are on the same origin).
 */
export const test = base.extend<{ guard: void }>({
  guard: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        const url = new URL(r.url());
        const origin = new URL(page.url() === 'about:blank' ? 'http://localhost:4173/' : page.url()).origin;
        if (/^(https?|wss?):$/.test(url.protocol) && url.origin !== origin) problems.push(`request off the origin: ${r.url()}`);
      });
      await page.addInitScript(() => {
        document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
      });
      page.on('console', (m) => m.text().startsWith('CSP violation') && problems.push(m.text()));
      await use();
      expect(problems).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
