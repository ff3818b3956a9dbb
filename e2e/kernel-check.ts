/** Shared by the kernel tests: seeded random inputs, a tolerance check that records the measured error, page calls. */
import { expect, test, type Page } from '@playwright/test';

/** mulberry32: a small seeded generator, so every run tests the same numbers. */
export function random(seed: number): (lo?: number, hi?: number) => number {
  let s = seed >>> 0;
  return (lo = -1, hi = 1) => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return lo + ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * (hi - lo));
  };
}

export function randomArray(rand: ReturnType<typeof random>, n: number, lo = -1, hi = 1): number[] {
  return Array.from({ length: n }, () => Math.fround(rand(lo, hi)));
}

/** Largest |got - want| and the worst excess over the tolerance (<= 0 passes). */
export function compare(got: ArrayLike<number>, want: ArrayLike<number>, tol: { atol: number; rtol: number }) {
  expect(got.length).toBe(want.length);
  let maxAbs = 0;
  let excess = -Infinity;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbs = Math.max(maxAbs, d);
    excess = Math.max(excess, d - tol.atol - tol.rtol * Math.abs(want[i]));
  }
  return { maxAbs, excess };
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: { atol: number; rtol: number }, what: string): void {
  const { maxAbs, excess } = compare(got, want, tol);
  // Recorded in the report (e.g. --reporter=json), so the measured error is visible, not just pass or fail.
  test.info().annotations.push({ type: 'max-abs-error', description: `${what}: ${maxAbs.toExponential(2)}` });
  expect(excess, `${what}: max |error| ${maxAbs.toExponential(2)} beyond atol ${tol.atol} + rtol ${tol.rtol} * |reference|`).toBeLessThanOrEqual(0);
}

/** Calls window.kernels[name](...args) in the page. */
export async function call<T>(page: Page, name: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(([n, a]) => (window as any).kernels[n as string](...(a as unknown[])), [name, args] as const) as Promise<T>;
}

