import { expect, test as base } from '@playwright/test';

/**
 * Every page test also fails on an uncaught page error, a Content-Security-Policy violation, or a request that
 * leaves the app's origin (baseURL): the app talks to nothing else unless the user types a pack URL, and the
 * tests' typed URLs are on that origin.
 */
export const test = base.extend<{ guard: void }>({
  guard: [
    async ({ page, baseURL }, use) => {
      const problems: string[] = [];
      const origin = new URL(baseURL!).origin;
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('request', (r) => {
        const url = new URL(r.url());
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
