// A scale change and a switch on/off of an adapter send the engine worker ids and scales, not tensors: the worker keeps
// each adapter's A/B and composes the slots itself. Measured here on the tiny pack in the app, by counting the bytes of
// typed arrays in every message posted to the worker and timing each change until the worker's answer.
import { COMMIT_SKILL, openApp } from './app';
import { expect, test } from './guard';
import type { Page } from '@playwright/test';

/** Records every message to a worker: its kind, the bytes of typed arrays in it, when it was sent and answered. */
function watchWorkerMessages() {
  type Sent = { kind: string; id: number; bytes: number; t0: number; t1: number | null };
  const sent: Sent[] = [];
  (window as unknown as { sentToWorker: Sent[] }).sentToWorker = sent;
  const typedBytes = (v: unknown, seen: Set<unknown>): number => {
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return v.byteLength;
    if (!v || typeof v !== 'object' || seen.has(v)) return 0;
    seen.add(v);
    return Object.values(v).reduce((n: number, x) => n + typedBytes(x, seen), 0);
  };
  const watched = new WeakSet<Worker>();
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: Worker, msg: { kind?: string; id?: number }, ...rest: unknown[]) {
    if (!watched.has(this)) {
      watched.add(this);
      this.addEventListener('message', (ev: MessageEvent<{ kind: string; id: number }>) => {
        if (ev.data.kind === 'progress' || ev.data.kind === 'token') return;
        const s = sent.find((x) => x.id === ev.data.id && x.t1 === null);
        if (s) s.t1 = performance.now();
      });
    }
    sent.push({ kind: String(msg?.kind), id: Number(msg?.id), bytes: typedBytes(msg, new Set()), t0: performance.now(), t1: null });
    return (post as (...a: unknown[]) => void).call(this, msg, ...rest);
  } as typeof Worker.prototype.postMessage;
}

/** Move the first adapter's scale slider to `value`; resolves with the bytes posted and the ms until the engine answered. */
async function changeScale(page: Page, value: number): Promise<{ bytes: number; ms: number; kinds: string[] }> {
  return page.evaluate(async (v) => {
    const sent = (window as unknown as { sentToWorker: { kind: string; bytes: number; t0: number; t1: number | null }[] }).sentToWorker;
    const from = sent.length;
    const slider = document.querySelector<HTMLInputElement>('input[type=range]')!;
    const start = performance.now();
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(slider, String(v));
    slider.dispatchEvent(new Event('input', { bubbles: true }));
    for (;;) {
      const mine = sent.slice(from).filter((s) => s.kind !== 'stop');
      if (mine.length > 0 && mine.every((s) => s.t1 !== null)) {
        return { bytes: mine.reduce((n, s) => n + s.bytes, 0), ms: Math.max(...mine.map((s) => s.t1!)) - start, kinds: mine.map((s) => s.kind) };
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }, value);
}

test('a scale change sends the worker no tensors, only ids and scales', async ({ page }) => {
  await page.addInitScript(watchWorkerMessages);
  await openApp(page);
  await page.getByRole('button', { name: 'Example' }).click();
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(1);
  await page.locator('#skill-text').fill(COMMIT_SKILL);
  await page.getByRole('button', { name: 'Make adapter' }).click();
  await expect(page.getByTestId('adapter')).toHaveCount(2);
  const changes = [];
  for (let i = 0; i < 12; i++) changes.push(await changeScale(page, i % 2 ? 1 : 0.5));
  const ms = changes.map((c) => c.ms).sort((a, b) => a - b);
  const bytes = changes.map((c) => c.bytes);
  console.log(`scale change, 2 adapters active: ${bytes[0]} bytes posted (${changes[0].kinds.join(', ')}), median ${ms[6].toFixed(1)} ms, max ${ms[11].toFixed(1)} ms`);
  expect(Math.max(...bytes)).toBe(0);
});
