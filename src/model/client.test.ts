import { describe, expect, it } from 'vitest';
import { EngineClient, type Port } from './client';
import type { PackInfo } from './engine';
import { EngineError } from '../errors';
import type { Request, Response } from './messages';

/** A stand-in for a Worker: records what it was sent, answers on demand, and can fail as a Worker does. */
class FakeWorker implements Port {
  onmessage: ((ev: MessageEvent<Response>) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  onmessageerror: ((ev: MessageEvent) => void) | null = null;
  sent: Request[] = [];
  terminated = false;
  postMessage(msg: Request) {
    this.sent.push(msg);
  }
  terminate() {
    this.terminated = true;
  }
  answer(r: Response) {
    this.onmessage?.({ data: r } as MessageEvent<Response>);
  }
  /** What a Worker fires for an uncaught error inside it (an ErrorEvent; Node has no ErrorEvent class). */
  crash(message: string) {
    this.onerror?.(Object.assign(new Event('error', { cancelable: true }), { message, filename: 'http://localhost/ort/ort.mjs', lineno: 3 }));
  }
}

const INFO = { manifest: { id: 'p' }, backend: 'wasm', backendNote: 'n' } as unknown as PackInfo;

function setup() {
  const workers: FakeWorker[] = [];
  const client = new EngineClient(() => {
    workers.push(new FakeWorker());
    return workers.at(-1)!;
  });
  const lost: EngineError[] = [];
  client.onWorkerLost = (e) => lost.push(e);
  return { client, workers, lost };
}

describe('EngineClient when its worker fails', () => {
  it('starts the worker at once', () => {
    expect(setup().workers).toHaveLength(1);
  });

  it('rejects every call in flight when the worker reports an uncaught error, and tells onWorkerLost', async () => {
    const { client, workers, lost } = setup();
    const load = client.loadPack('/m/', 'auto', () => undefined);
    const logits = client.logits([1]);
    workers[0].crash('Uncaught [object Event]');
    const expected = { name: 'EngineError', code: 'worker', message: 'the engine worker stopped: Uncaught [object Event] (http://localhost/ort/ort.mjs:3)' };
    await expect(load).rejects.toMatchObject(expected);
    await expect(logits).rejects.toMatchObject(expected);
    expect(workers[0].terminated).toBe(true);
    expect(lost).toEqual([expect.objectContaining(expected)]);
  });

  it('drops the worker when it reports a fatal failure (a wasm thread that could not start)', async () => {
    const { client, workers, lost } = setup();
    const load = client.loadPack('/m/', 'auto', () => undefined);
    workers[0].answer({ kind: 'fatal', id: 0, content: { name: 'EngineError', message: 'a WebAssembly thread failed to start or run (/ort/x.mjs): refused' } });
    await expect(load).rejects.toThrow('the engine worker stopped: a WebAssembly thread failed to start or run (/ort/x.mjs): refused');
    expect(workers[0].terminated).toBe(true);
    expect(lost).toHaveLength(1);
  });

  it('says so when the worker script itself cannot load (an error event with no message)', async () => {
    const { client, workers } = setup();
    const load = client.loadPack('/m/', 'auto', () => undefined);
    workers[0].onerror?.(new Event('error', { cancelable: true }));
    await expect(load).rejects.toThrow('the engine worker stopped: its script could not be loaded or run');
  });

  it('starts a new worker for the next call (Retry), which then answers', async () => {
    const { client, workers } = setup();
    const first = client.loadPack('/m/', 'auto', () => undefined);
    workers[0].crash('boom');
    await expect(first).rejects.toThrow('boom');
    const retry = client.loadPack('/m/', 'auto', () => undefined);
    expect(workers).toHaveLength(2);
    expect(workers[1].sent.map((r) => r.kind)).toEqual(['loadPack']);
    workers[1].answer({ kind: 'packLoaded', id: workers[1].sent[0].id, content: INFO });
    await expect(retry).resolves.toEqual(INFO);
  });

  it('ignores a late error from a worker it already replaced', async () => {
    const { client, workers, lost } = setup();
    workers[0].crash('first');
    const load = client.loadPack('/m/', 'auto', () => undefined);
    workers[0].crash('late');
    workers[1].answer({ kind: 'packLoaded', id: workers[1].sent[0].id, content: INFO });
    await expect(load).resolves.toEqual(INFO);
    expect(lost.map((e) => e.message)).toEqual(['the engine worker stopped: first (http://localhost/ort/ort.mjs:3)']);
  });

  it('loads again in a fresh worker after a failed load, and keeps the worker after a good one', async () => {
    const { client, workers } = setup();
    const failed = client.loadPack('/m/', 'auto', () => undefined);
    workers[0].answer({ kind: 'error', id: workers[0].sent[0].id, content: { name: 'Error', message: 'no available backend found' } });
    await expect(failed).rejects.toThrow('no available backend found');
    const retry = client.loadPack('/m/', 'auto', () => undefined);
    expect(workers[0].terminated).toBe(true);
    workers[1].answer({ kind: 'packLoaded', id: workers[1].sent[0].id, content: INFO });
    await retry;
    const other = client.loadPack('/other/', 'auto', () => undefined);
    expect(workers).toHaveLength(2);
    workers[1].answer({ kind: 'packLoaded', id: workers[1].sent[1].id, content: INFO });
    await other;
  });

  it('a stop sent to a worker that then dies is no unhandled rejection', async () => {
    const { client, workers } = setup();
    client.stop();
    workers[0].crash('gone');
    await new Promise((r) => setTimeout(r, 0)); // vitest fails the run on an unhandled rejection
  });
});
