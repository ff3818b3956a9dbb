// The SkillEngine's own logic on a scripted backend: the tiny pack's real tokenizer, manifest and hypernetwork, and a
// ForwardBackend double that answers a fixed continuation and records what it was asked.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateManifest } from './config';
import type { GenerateParams } from './engine';
import { EngineError } from '../errors';
import type { ForwardBackend, ForwardOptions, ForwardResult } from './forward-backend';
import { HypernetCpu, loadHypernet } from './hypernet';
import type { AdapterModules, LoraTensors } from './lora';
import { composeSlots } from './lora-slots';
import type { LoadedPack } from './pack';
import { SkillEngine } from './skill-engine';
import { ChatTokenizer } from './tokenizer';

const dir = new URL('../../public/models/tiny-random/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const manifest = validateManifest(JSON.parse(readFileSync(new URL('manifest.json', dir), 'utf8')));
const names = ['tokenizer.json', 'tokenizer_config.json', 'hypernet.safetensors'];
const tokenizer = ChatTokenizer.fromBytes(read('tokenizer.json'), read('tokenizer_config.json'));
const EOS = manifest.generation.eosTokenIds[0];
const { hiddenSize } = manifest.architecture;
const encoderLayers = manifest.encoder.layers.length;

interface Call {
  ids: number[];
  past: number;
  options: ForwardOptions;
}

/** Answers `script` one token per forward (then EOS); samples on its device or gives one-hot logits. */
function scripted(script: number[], o: { onDevice?: boolean; maxContext?: number; withHypernet?: boolean } = {}) {
  const calls: Call[] = [];
  const bound: (LoraTensors | null)[] = [];
  let resets = 0;
  let next = 0;
  /** Set to hold the next forward until released (busy tests). */
  let gate: Promise<void> | null = null;
  const pack: LoadedPack = {
    baseUrl: 'test://',
    manifest: { ...manifest, files: manifest.files.filter((f) => o.withHypernet !== false || f.role !== 'hypernet') },
    files: new Map(names.map((n) => [n, read(n)])),
    stored: Promise.resolve(),
  };
  const backend: ForwardBackend & { loaded: boolean; calls: Call[]; bound: typeof bound; resets: () => number; hold: () => () => void } = {
    kind: 'ort',
    loaded: false,
    maxContext: o.maxContext ?? manifest.generation.contextLength,
    samplesOnDevice: o.onDevice ?? false,
    calls,
    bound,
    resets: () => resets,
    hold() {
      let release = () => undefined as void;
      gate = new Promise((r) => (release = r));
      return release;
    },
    async load() {
      backend.loaded = true;
      return { pack, backend: 'wasm', note: 'scripted' };
    },
    async forward(ids, past, options = {}): Promise<ForwardResult> {
      calls.push({ ids: [...ids], past, options });
      if (gate) await gate;
      const token = script[next++] ?? EOS;
      const logits = options.logits ? new Float32Array(manifest.architecture.vocabSize) : null;
      if (logits) logits[token] = 10;
      const hidden = options.captureHidden ? Float32Array.from({ length: encoderLayers * ids.length * hiddenSize }, (_, i) => Math.sin(i)) : null;
      return { token: options.sample ? token : -1, logits, hidden };
    },
    resetCache() {
      resets++;
    },
    setLora(t) {
      bound.push(t);
    },
    async hypernetGpu() {
      return null;
    },
    async checkDevice() {},
    async unload() {
      backend.loaded = false;
    },
  };
  return backend;
}

async function loaded(backend: ReturnType<typeof scripted>): Promise<SkillEngine> {
  const engine = new SkillEngine({ ort: backend, wgsl: backend });
  await engine.loadPack('test://', 'wasm', () => undefined);
  return engine;
}

const params = (p: Partial<GenerateParams> = {}): GenerateParams => ({ messages: [{ role: 'user', content: 'hello' }], maxNewTokens: 32, temperature: 0, topP: 1, ...p });
const words = tokenizer.encode(' the quick brown fox');

describe('SkillEngine', () => {
  it('streams the scripted tokens, ends at EOS without keeping it, and gives the cache back', async () => {
    const backend = scripted([...words, EOS]);
    const engine = await loaded(backend);
    const deltas: string[] = [];
    const stats = await engine.generate(params(), (e) => deltas.push(e.delta));
    expect(stats.stopReason).toBe('eos');
    expect(stats.tokenIds).toEqual(words);
    expect(stats.text).toBe(tokenizer.decode(words));
    expect(deltas.join('')).toBe(stats.text);
    const prompt = tokenizer.encodeChat(params().messages);
    // The prompt once from position 0, then each token at the next position, logits read back for CPU sampling.
    expect(backend.calls[0]).toEqual({ ids: prompt, past: 0, options: { logits: true } });
    expect(backend.calls.slice(1).map((c) => [c.ids, c.past])).toEqual(words.map((w, i) => [[w], prompt.length + i]));
    expect(backend.resets()).toBe(1);
  });

  it('lets a backend that samples on its device choose, with a seed per step', async () => {
    const backend = scripted(words, { onDevice: true });
    const engine = await loaded(backend);
    const stats = await engine.generate(params({ maxNewTokens: words.length, temperature: 0.7, seed: 5 }), () => undefined);
    expect(stats.tokenIds).toEqual(words);
    expect(stats.stopReason).toBe('max-tokens');
    expect(backend.calls.every((c) => c.options.sample?.temperature === 0.7 && !c.options.logits)).toBe(true);
    expect(new Set(backend.calls.map((c) => c.options.sample!.seed)).size).toBe(words.length);
    // Nucleus sampling needs the logits on the CPU even there.
    const nucleus = scripted(words, { onDevice: true });
    await (await loaded(nucleus)).generate(params({ maxNewTokens: 2, temperature: 0.7, topP: 0.9 }), () => undefined);
    expect(nucleus.calls.every((c) => c.options.logits && !c.options.sample)).toBe(true);
  });

  it('stops between steps when asked', async () => {
    const engine = await loaded(scripted([...words, ...words]));
    let n = 0;
    const stats = await engine.generate(params(), () => {
      if (++n === 2) engine.stop();
    });
    expect(stats.stopReason).toBe('stopped');
    expect(stats.generatedTokens).toBe(2);
  });

  it('stops once a non-blank line has ended when asked', async () => {
    const line = tokenizer.encode('feat: add x\nmore text');
    const stats = await (await loaded(scripted(line))).generate(params({ stopAtLineEnd: true }), () => undefined);
    expect(stats.stopReason).toBe('line-end');
    expect(stats.text.trimEnd()).toBe('feat: add x');
  });

  it('keeps the end of a conversation longer than the backend holds, and answers no further than its cache', async () => {
    const long = params({ messages: [{ role: 'user', content: 'word '.repeat(200) }], maxNewTokens: 100 });
    const full = tokenizer.encodeChat(long.messages).length;
    const backend = scripted(Array(64).fill(words[0]), { maxContext: 64 });
    const stats = await (await loaded(backend)).generate(long, () => undefined);
    // Half of the 64 positions are kept for the answer, the prompt's start is dropped.
    expect(stats.promptTokens).toBe(32);
    expect(stats.truncatedTokens).toBe(full - 32);
    expect(stats.stopReason).toBe('max-tokens');
    expect(stats.promptTokens + stats.generatedTokens).toBe(64);
    expect(backend.calls[0].ids).toEqual(tokenizer.encodeChat(long.messages).slice(full - 32));
  });

  it('runs one sequence at a time: generate, encode and load wait for a running generation', async () => {
    const backend = scripted(words);
    const engine = await loaded(backend);
    const release = backend.hold();
    const running = engine.generate(params({ maxNewTokens: 2 }), () => undefined);
    const busy = { name: 'EngineError', code: 'busy' };
    await expect(engine.generate(params(), () => undefined)).rejects.toMatchObject(busy);
    await expect(engine.encodeSkill('a skill', 16)).rejects.toMatchObject(busy);
    await expect(engine.logits([1, 2])).rejects.toMatchObject(busy);
    await expect(engine.loadPack('test://', 'wasm', () => undefined)).rejects.toMatchObject(busy);
    release();
    expect((await running).generatedTokens).toBe(2);
    await expect(engine.logits([1, 2])).resolves.toHaveLength(manifest.architecture.vocabSize);
  });

  it('says no pack is loaded before a load', async () => {
    const engine = new SkillEngine({ ort: scripted([]), wgsl: scripted([]) });
    await expect(engine.logits([1])).rejects.toMatchObject({ code: 'no-pack' });
    await expect(engine.generate(params(), () => undefined)).rejects.toMatchObject({ code: 'no-pack' });
    await expect(engine.setLora(null)).rejects.toMatchObject({ code: 'no-pack' });
  });

  it('binds LoRA with every target module, zeros where none is given, and refuses other shapes', async () => {
    const backend = scripted([]);
    const engine = await loaded(backend);
    const { numHiddenLayers: layers, intermediateSize } = manifest.architecture;
    const rank = manifest.lora.rank * manifest.lora.slots;
    const q = { a: new Float32Array(layers * hiddenSize * rank).fill(1), b: new Float32Array(layers * rank * 64).fill(2) };
    await engine.setLora({ q_proj: q });
    const bound = backend.bound.at(-1)!;
    expect(Object.keys(bound).sort()).toEqual([...manifest.lora.targetModules].sort());
    expect(bound.q_proj).toBe(q);
    expect(bound.down_proj.a).toEqual(new Float32Array(layers * intermediateSize * rank));
    await engine.setLora({});
    expect(backend.bound.at(-1)).toBeNull();
    await expect(engine.setLora({ q_proj: { a: q.a.subarray(1), b: q.b } })).rejects.toThrow(EngineError);
    await expect(engine.setLora({ k_proj: q })).rejects.toMatchObject({ code: 'input' });
  });

  it('keeps adapters sent once and composes the slots from ids and scales; a pack load drops them', async () => {
    const backend = scripted([]);
    const engine = await loaded(backend);
    const { numHiddenLayers: layers } = manifest.architecture;
    const adapter = (v: number): AdapterModules =>
      Object.fromEntries(
        manifest.lora.targetModules.map((m) => {
          const [fanIn, fanOut] = m === 'down_proj' ? [manifest.architecture.intermediateSize, hiddenSize] : [hiddenSize, m === 'q_proj' ? 64 : 32];
          return [m, { a: new Float32Array(layers * fanIn * manifest.lora.rank).fill(v), b: new Float32Array(layers * manifest.lora.rank * fanOut).fill(v) }];
        }),
      );
    const a = adapter(1);
    const b = adapter(2);
    await engine.bindAdapters([{ id: 'a', scale: 1, modules: a }, { id: 'b', scale: 1, modules: b }]);
    await engine.bindAdapters([{ id: 'b', scale: 0.5 }, { id: 'a', scale: 2 }]);
    const want = composeSlots([{ modules: b, scale: 0.5 }, { modules: a, scale: 2 }], manifest.architecture, manifest.lora)!;
    for (const m of manifest.lora.targetModules) {
      expect(backend.bound.at(-1)![m].a).toEqual(want[m].a);
      expect(backend.bound.at(-1)![m].b).toEqual(want[m].b);
    }
    await engine.bindAdapters([]);
    expect(backend.bound.at(-1)).toBeNull();
    await engine.forgetAdapter('b');
    await expect(engine.bindAdapters([{ id: 'b', scale: 1 }])).rejects.toMatchObject({ code: 'input' });
    await engine.loadPack('test://', 'wasm', () => undefined);
    await expect(engine.bindAdapters([{ id: 'a', scale: 1 }])).rejects.toMatchObject({ code: 'input' });
  });

  it('encodes a skill chunk by chunk from a fresh cache and makes the adapter the hypernetwork gives for it', async () => {
    const backend = scripted([]);
    const engine = await loaded(backend);
    const file = loadHypernet(read('hypernet.safetensors'));
    const text = 'Name branches as type/short-description, lower case. '.repeat(12);
    const made = await engine.makeAdapter(text);
    const chunks = backend.calls.filter((c) => c.options.captureHidden);
    expect(chunks.length).toBe(made.chunks);
    expect(chunks.every((c) => c.past === 0 && c.ids.length <= file.chunkTokens && c.ids[0] === tokenizer.bosTokenId)).toBe(true);
    expect(made.device).toBe('cpu');
    const enc = await engine.encodeSkill(text, file.chunkTokens);
    expect(enc.shape).toEqual([encoderLayers, chunks.reduce((s, c) => s + c.ids.length, 0), hiddenSize]);
    const want = await new HypernetCpu(file).run(enc.hidden, enc.shape);
    for (const m of manifest.lora.targetModules) {
      expect(made.modules[m].a).toEqual(want[m].a);
      expect(made.modules[m].b).toEqual(want[m].b);
    }
  });

  it('says when the pack has no hypernetwork', async () => {
    const engine = await loaded(scripted([], { withHypernet: false }));
    await expect(engine.makeAdapter('a skill')).rejects.toMatchObject({ code: 'no-hypernet' });
  });
});
