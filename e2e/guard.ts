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
      // Violations are relayed through the console as they happen (pages the test leaves) and also kept in the page,
      // read at the end, so one raised in the test's last moments is not lost in transit.
      await page.addInitScript(() => {
        const seen: string[] = ((window as unknown as { __cspViolations: string[] }).__cspViolations = []);
        document.addEventListener('securitypolicyviolation', (e) => {
          const text = `CSP violation: ${e.violatedDirective} ${e.blockedURI}`;
          seen.push(text);
          console.error(text);
        });
      });
      page.on('console', (m) => m.text().startsWith('CSP violation') && problems.push(m.text()));
      await use();
      const last = await page
        .evaluate(() => (window as unknown as { __cspViolations?: string[] }).__cspViolations ?? [])
        .catch(() => [] as string[]); // the page may be closed or crashed on purpose
      for (const v of last) if (!problems.includes(v)) problems.push(v);
      expect(problems).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
