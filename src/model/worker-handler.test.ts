import { describe, expect, it } from 'vitest';
import { EngineClient, type Port } from './client';
import type { Engine, GenerateParams, GenerateStats, TokenEvent } from './engine';
import { EngineError, PackError } from '../errors';
import type { Request, Response } from './messages';
import { EngineWorkerHandler } from './worker-handler';

const STATS: GenerateStats = {
  promptTokens: 5, generatedTokens: 2, truncatedTokens: 0, prefillMs: 1, decodeMs: 1, stopReason: 'eos', text: 'hi', tokenIds: [7, 8],
};

/** An engine double: streams two tokens, or fails the way a real engine does. */
function fakeEngine(fail?: Error): Engine & { lora: unknown; stopped: boolean } {
  return {
    lora: undefined,
    stopped: false,
    async loadPack(_url, _pref, onProgress) {
      onProgress({ file: 'weights.safetensors', loadedBytes: 5, totalBytes: 10, fromCache: false, phase: 'files' });
      if (fail) throw fail;
      return { manifest: { id: 'x' } as never, backend: 'wasm', backendNote: 'WebAssembly fallback: test' };
    },
    async generate(_p: GenerateParams, onToken: (e: TokenEvent) => void) {
      if (fail) throw fail;
      onToken({ tokenId: 7, delta: 'h' });
      onToken({ tokenId: 8, delta: 'i' });
      return STATS;
    },
    stop() {
      this.stopped = true;
    },
    async setLora(t) {
      this.lora = t;
    },
    async bindAdapters(adapters) {
      this.lora = adapters;
    },
    async forgetAdapter() {},
    async logits() {
      return Float32Array.from([1, 2, 3]);
    },
    async makeAdapter() {
      return { modules: { q_proj: { a: Float32Array.from([1]), b: Float32Array.from([2]) } }, tokens: 3, chunks: 1, droppedTokens: 0, encodeMs: 1, hypernetMs: 1, device: 'cpu' as const };
    },
    async encodeSkill(text) {
      return { hidden: Float32Array.from([text.length]), shape: [1, 1, 1], chunks: 1, tokens: 1, droppedTokens: 0, ms: 0 };
    },
  };
}

async function run(engine: Engine, req: Request): Promise<Response[]> {
  const out: Response[] = [];
  await new EngineWorkerHandler(engine, (m) => out.push(m)).onMessage(req);
  return out;
}

describe('EngineWorkerHandler', () => {
  it('streams tokens then one "generated" reply with the same id', async () => {
    const out = await run(fakeEngine(), { kind: 'generate', id: 4, content: { messages: [], maxNewTokens: 2, temperature: 0, topP: 1 } });
    expect(out.map((m) => m.kind)).toEqual(['token', 'token', 'generated']);
    expect(out.every((m) => m.id === 4)).toBe(true);
    expect(out[2].content).toEqual(STATS);
  });

  it('sends progress before packLoaded', async () => {
    const out = await run(fakeEngine(), { kind: 'loadPack', id: 1, content: { source: '/m/', preference: 'auto' } });
    expect(out.map((m) => m.kind)).toEqual(['progress', 'packLoaded']);
  });

  it('turns typed errors into plain error messages that keep code and file', async () => {
    const out = await run(fakeEngine(new PackError('checksum-mismatch', 'weights.safetensors: bad', 'weights.safetensors')), {
      kind: 'loadPack', id: 2, content: { source: '/m/', preference: 'auto' },
    });
    expect(out.at(-1)).toEqual({
      kind: 'error', id: 2, content: { name: 'PackError', code: 'checksum-mismatch', message: 'weights.safetensors: bad', file: 'weights.safetensors' },
    });
  });
});

describe('EngineClient over a port to the handler', () => {
  function connect(engine: Engine): EngineClient {
    let handler: EngineWorkerHandler;
    const port: Port = {
      onmessage: null,
      postMessage: (req) => queueMicrotask(() => void handler.onMessage(structuredClone(req))),
    };
    handler = new EngineWorkerHandler(engine, (msg) => queueMicrotask(() => port.onmessage?.({ data: structuredClone(msg) } as MessageEvent<Response>)));
    return new EngineClient(() => port);
  }

  it('resolves generate with the stats after streaming the tokens', async () => {
    const client = connect(fakeEngine());
    const tokens: string[] = [];
    const stats = await client.generate({ messages: [], maxNewTokens: 2, temperature: 0, topP: 1 }, (e) => tokens.push(e.delta));
    expect(tokens).toEqual(['h', 'i']);
    expect(stats.text).toBe('hi');
  });

  it('rejects with the same error class and code', async () => {
    const client = connect(fakeEngine(new EngineError('no-pack', 'no model pack is loaded')));
    await expect(client.generate({ messages: [], maxNewTokens: 1, temperature: 0, topP: 1 }, () => undefined)).rejects.toMatchObject({
      name: 'EngineError', code: 'no-pack',
    });
  });

  it('passes LoRA tensors and logits through', async () => {
    const engine = fakeEngine();
    const client = connect(engine);
    await client.setLora({ q_proj: { a: Float32Array.from([1]), b: Float32Array.from([2]) } });
    expect(engine.lora).toEqual({ q_proj: { a: Float32Array.from([1]), b: Float32Array.from([2]) } });
    expect(Array.from(await client.logits([1, 2]))).toEqual([1, 2, 3]);
  });
});
