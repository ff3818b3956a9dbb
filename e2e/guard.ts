import { expect, test as base } from '@playwright/test';

/** Every page test also fails on an uncaught page error or a Content-Security-Policy violation. */
export const test = base.extend<{ guard: void }>({
  guard: [
    async ({ page }, use) => {
      const problems: string[] = [];
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
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
