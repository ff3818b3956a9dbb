import { describe, expect, it } from 'vitest';
import type { Engine, GenerateParams } from '../model/engine';
import { createAppStore } from './store';

function engine(truncatedTokens = 0): Engine & { calls: GenerateParams[] } {
  const calls: GenerateParams[] = [];
  return {
    calls,
    loadPack: async () => ({ manifest: { name: 'p' } as never, backend: 'webgpu', backendNote: 'WebGPU' }),
    async generate(p, onToken) {
      calls.push(p);
      onToken({ tokenId: 1, delta: 'Hel' });
      onToken({ tokenId: 2, delta: 'lo' });
      return { promptTokens: 3, generatedTokens: 2, truncatedTokens, prefillMs: 1, decodeMs: 1, stopReason: 'eos', text: 'Hello', tokenIds: [1, 2] };
    },
    stop: () => undefined,
    setLora: async () => undefined,
    logits: async () => new Float32Array(),
    makeAdapter: async () => {
      throw new Error('no hypernetwork in this test');
    },
    encodeSkill: async () => ({ hidden: new Float32Array(), shape: [0, 0, 0], chunks: 0, tokens: 0, droppedTokens: 0, ms: 0 }),
  };
}

describe('app store', () => {
  it('sends the whole conversation and streams the reply into the last turn', async () => {
    const e = engine();
    const store = createAppStore(e);
    await store.getState().loadPack('/m/', 'auto');
    await store.getState().send('  hi  ');
    await store.getState().send('again');
    const s = store.getState();
    expect(s.turns.map((t) => [t.role, t.content])).toEqual([['user', 'hi'], ['assistant', 'Hello'], ['user', 'again'], ['assistant', 'Hello']]);
    expect(e.calls[1].messages).toEqual([
      { role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'again' },
    ]);
    expect(s.generating).toBe(false);
  });

  it('refuses an empty message with a note and sends nothing', async () => {
    const e = engine();
    const store = createAppStore(e);
    await store.getState().loadPack('/m/', 'auto');
    await store.getState().send(' \n ');
    expect(store.getState().notice).toMatch(/Type a message/);
    expect(e.calls).toHaveLength(0);
  });

  it('tells the user when the conversation was cut to fit the context', async () => {
    const store = createAppStore(engine(42));
    await store.getState().loadPack('/m/', 'auto');
    await store.getState().send('long');
    expect(store.getState().notice).toContain('42 tokens');
  });

  it('shows a pack error without throwing', async () => {
    const e = engine();
    e.loadPack = async () => {
      throw new Error('manifest.json: 404 Not Found');
    };
    const store = createAppStore(e);
    await store.getState().loadPack('/m/', 'auto');
    expect(store.getState()).toMatchObject({ packStatus: 'error', error: 'manifest.json: 404 Not Found' });
  });
});
