// What a scale change costs between the page and the engine worker, counted in the bytes of typed arrays posted, on
// adapters of Gemma 3 270M's sizes: the old path (slots composed on the page, setLora) against bindAdapters.
import { describe, expect, it } from 'vitest';
import { EngineClient, type Port } from './client';
import type { Architecture, LoraConfig } from './config';
import type { AdapterModules, PackInfo } from './engine';
import { composeSlots } from './lora-slots';
import type { Request, Response } from './messages';

/** A Worker double that answers every request at once (ok, or packLoaded) and records what it was sent. */
class AnsweringWorker implements Port {
  onmessage: ((ev: MessageEvent<Response>) => void) | null = null;
  sent: Request[] = [];
  postMessage(msg: Request) {
    this.sent.push(msg);
    const content = msg.kind === 'loadPack' ? ({ manifest: { id: 'p' }, backend: 'webgpu', backendNote: '' } as unknown as PackInfo) : null;
    queueMicrotask(() => this.onmessage?.({ data: { kind: msg.kind === 'loadPack' ? 'packLoaded' : 'ok', id: msg.id, content } } as MessageEvent<Response>));
  }
  terminate() {}
}

/** Bytes of typed arrays in a message, as structured cloning copies them. */
function tensorBytes(v: unknown): number {
  if (ArrayBuffer.isView(v)) return v.byteLength;
  if (!v || typeof v !== 'object') return 0;
  return Object.values(v).reduce((n: number, x) => n + tensorBytes(x), 0);
}

/** Gemma 3 270M's pack: 18 layers, hidden 640, 4 query heads and 1 key/value head of 256, MLP 2048; rank 8 x 4 slots. */
const arch = { numHiddenLayers: 18, hiddenSize: 640, numAttentionHeads: 4, numKeyValueHeads: 1, headDim: 256, intermediateSize: 2048 } as Architecture;
const lora: LoraConfig = { rank: 8, alpha: 16, targetModules: ['q_proj', 'v_proj', 'down_proj'], slots: 4 };
const shapes: Record<string, [number, number]> = { q_proj: [640, 1024], v_proj: [640, 256], down_proj: [2048, 640] };
const adapter = (): AdapterModules =>
  Object.fromEntries(Object.entries(shapes).map(([m, [fanIn, fanOut]]) => [m, { a: new Float32Array(18 * fanIn * 8).fill(0.01), b: new Float32Array(18 * 8 * fanOut).fill(0.02) }]));

function setup() {
  const workers: AnsweringWorker[] = [];
  const client = new EngineClient(() => {
    workers.push(new AnsweringWorker());
    return workers.at(-1)!;
  });
  /** Bytes posted (to any worker) while `step` runs. */
  const posted = async (step: () => Promise<unknown>) => {
    const before = workers.map((w) => w.sent.length);
    await step();
    return workers.reduce((n, w, i) => n + w.sent.slice(before[i] ?? 0).reduce((m, r) => m + tensorBytes(r), 0), 0);
  };
  return { client, workers, posted };
}

describe('adapter slots where the engine runs', () => {
  const a = { id: 'a', scale: 1, modules: adapter() };
  const b = { id: 'b', scale: 1, modules: adapter() };
  const adapterBytes = 18 * 4 * 8 * (640 + 640 + 2048 + 1024 + 256 + 640);

  it('a scale change moved 12 MB of composed slots through setLora; through bindAdapters it moves no tensor', async () => {
    const { client, posted } = setup();
    // The old path: every change composes all slots on the page and posts them.
    const old = await posted(() => client.setLora(composeSlots([a, { ...b, scale: 0.5 }], arch, lora)));
    expect(old).toBe(4 * adapterBytes);
    expect(old).toBe(12_091_392);
    // The new one: each adapter's unscaled tensors once, then ids and scales.
    expect(await posted(() => client.bindAdapters([a, b]))).toBe(2 * adapterBytes);
    expect(await posted(() => client.bindAdapters([a, { ...b, scale: 0.5 }]))).toBe(0);
    expect(await posted(() => client.bindAdapters([b]))).toBe(0);
    expect(await posted(() => client.bindAdapters([]))).toBe(0);
    expect(await posted(() => client.bindAdapters([a, b]))).toBe(0);
  });

  it('sends an adapter again to a new worker or after a pack load, and tells the worker to drop a deleted one', async () => {
    const { client, workers, posted } = setup();
    await client.bindAdapters([a]);
    expect(await posted(() => client.loadPack('/m/', 'auto', () => undefined))).toBe(0);
    expect(await posted(() => client.bindAdapters([a]))).toBe(adapterBytes);
    // The worker dies: the next one holds nothing.
    workers[0].onmessage?.({ data: { kind: 'fatal', id: 0, content: { name: 'EngineError', code: 'worker', message: 'gone' } } } as MessageEvent<Response>);
    expect(await posted(() => client.bindAdapters([a, b]))).toBe(2 * adapterBytes);
    // Changed tensors under the same id are sent again.
    expect(await posted(() => client.bindAdapters([{ ...a, modules: adapter() }]))).toBe(adapterBytes);
    await client.forgetAdapter('b');
    expect(workers[1].sent.at(-1)).toMatchObject({ kind: 'forgetAdapter', content: { id: 'b' } });
    const count = workers[1].sent.length;
    await client.forgetAdapter('never-sent');
    expect(workers[1].sent).toHaveLength(count);
    expect(await posted(() => client.bindAdapters([b]))).toBe(adapterBytes);
  });
});
