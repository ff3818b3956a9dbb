import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryLibrary, StorageError, type AdapterLibrary } from '../adapters/persistence';
import { readZip } from '../formats/zip';
import { moduleShape, validateManifest, type PackManifest } from '../model/config';
import type { AdapterModules, Engine, GenerateParams, GenerateStats, LoraTensors } from '../model/engine';
import { EngineError } from '../errors';
import { composeSlots } from '../adapters/slots';
import { createMemoryHistory, type ChatHistory } from './history';
import { BUSY_NOTICE, createAppStore, MAKING_NOTICE, maxNewTokensFor, type AppOptions } from './store';

const tinyRandom = validateManifest(JSON.parse(readFileSync(new URL('../../public/models/tiny-random/manifest.json', import.meta.url), 'utf8')));

/** The same pack with other weights (another sha256 of weights.safetensors). */
function retrained(m: PackManifest): PackManifest {
  return { ...m, files: m.files.map((f) => (f.role === 'weights' ? { ...f, sha256: 'f'.repeat(64) } : f)) };
}

/** Deterministic adapter tensors of the tiny-random shapes; `seed` tells adapters apart. */
function modulesFor(m: PackManifest, seed: number): AdapterModules {
  const { architecture: arch, lora } = m;
  return Object.fromEntries(
    lora.targetModules.map((mod) => {
      const [fanIn, fanOut] = moduleShape(arch, mod);
      const fill = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 100 + k * 10 + i) / 8);
      return [mod, { a: fill(arch.numHiddenLayers * fanIn * lora.rank, 1), b: fill(arch.numHiddenLayers * lora.rank * fanOut, 2) }];
    }),
  );
}

type FakeEngine = Engine & { calls: GenerateParams[]; bound: (LoraTensors | null)[] };

function engine(truncatedTokens = 0, manifest: PackManifest = tinyRandom): FakeEngine {
  const calls: GenerateParams[] = [];
  const bound: (LoraTensors | null)[] = [];
  let made = 0;
  return {
    calls,
    bound,
    loadPack: async () => ({ manifest, backend: 'webgpu', backendNote: 'WebGPU' }),
    async generate(p, onToken) {
      calls.push(p);
      onToken({ tokenId: 1, delta: 'Hel' });
      onToken({ tokenId: 2, delta: 'lo' });
      return { promptTokens: 3, generatedTokens: 2, truncatedTokens, prefillMs: 1, decodeMs: 1, stopReason: 'eos', text: 'Hello', tokenIds: [1, 2] };
    },
    stop: () => undefined,
    setLora: async (t) => void bound.push(t),
    bindAdapters: async (adapters) => void bound.push(composeSlots(adapters.map((a) => ({ modules: a.modules!, scale: a.scale })), manifest.architecture, manifest.lora)),
    forgetAdapter: async () => undefined,
    logits: async () => new Float32Array(),
    makeAdapter: async () => ({ modules: modulesFor(manifest, ++made), tokens: 5, chunks: 1, droppedTokens: 0, encodeMs: 1, hypernetMs: 1, device: 'cpu' }),
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

  it('answers one message at a time: a send while answering is refused with a note, which goes when the answer ends', async () => {
    const e = engine();
    let finish: (s: GenerateStats) => void = () => undefined;
    const generate = e.generate;
    e.generate = (p) => {
      e.calls.push(p);
      return new Promise((resolve) => (finish = resolve));
    };
    const store = createAppStore(e);
    await store.getState().loadPack('/m/', 'auto');
    const first = store.getState().send('first');
    await store.getState().send('second');
    await store.getState().send('');
    expect(store.getState().notice).toBe(BUSY_NOTICE);
    expect(e.calls).toHaveLength(1);
    expect(store.getState().turns.map((t) => t.content)).toEqual(['first', '']);
    finish({ promptTokens: 3, generatedTokens: 1, truncatedTokens: 0, prefillMs: 1, decodeMs: 1, stopReason: 'eos', text: 'A', tokenIds: [1] });
    await first;
    expect(store.getState()).toMatchObject({ generating: false, notice: null });
    e.generate = generate;
    await store.getState().send('second');
    expect(store.getState().turns.map((t) => t.content)).toEqual(['first', 'A', 'second', 'Hello']);
  });

  it('after a lost GPU device, ends the answer with a note, loads the pack again and says what runs now', async () => {
    const e = engine();
    let loads = 0;
    e.loadPack = async () => {
      loads += 1;
      return loads === 1
        ? { manifest: tinyRandom, backend: 'webgpu', backendNote: 'WebGPU on test' }
        : { manifest: tinyRandom, backend: 'wasm', backendNote: 'WebAssembly fallback: no WebGPU adapter is available' };
    };
    const generate = e.generate;
    e.generate = async () => {
      throw new EngineError('device-lost', 'the GPU device was lost (gone)');
    };
    const store = createAppStore(e);
    await store.getState().loadPack('/m/', 'auto');
    await store.getState().send('hi');
    expect(loads).toBe(2);
    expect(store.getState()).toMatchObject({
      packStatus: 'ready',
      generating: false,
      pack: { backend: 'wasm' },
      notice: 'Generation failed: the GPU device was lost (gone). The model was started again: WebAssembly fallback: no WebGPU adapter is available.',
    });
    e.generate = generate;
    await store.getState().send('again');
    expect(store.getState().turns.at(-1)?.content).toBe('Hello');
    // Other failures do not reload the pack.
    e.generate = async () => {
      throw new EngineError('input', 'bad input');
    };
    await store.getState().send('bad');
    expect(loads).toBe(2);
    expect(store.getState().notice).toBe('Generation failed: bad input');
  });

  it('refuses a message while an adapter is being made, says so, and clears the note when it is done', async () => {
    const e = engine();
    const makeAdapter = e.makeAdapter;
    let release!: () => void;
    e.makeAdapter = async (text) => {
      await new Promise<void>((r) => (release = r));
      return makeAdapter(text);
    };
    let generated = 0;
    const generate = e.generate;
    e.generate = async (p, on) => (generated++, generate(p, on));
    const store = createAppStore(e, { library: createMemoryLibrary() });
    await store.getState().loadPack('/m/', 'auto');
    const making = store.getState().makeAdapter(SKILL('branch-names', 'Use feat/ABC-1-slug.'));
    await store.getState().send('hello');
    expect(store.getState()).toMatchObject({ making: true, notice: MAKING_NOTICE, turns: [] });
    expect(generated).toBe(0);
    release();
    await making;
    expect(store.getState()).toMatchObject({ making: false, notice: null });
    await store.getState().send('hello');
    expect(generated).toBe(1);
  });

  it('says so when the adapter was made on the CPU although the pack runs on WebGPU', async () => {
    const e = engine();
    const makeAdapter = e.makeAdapter;
    e.makeAdapter = async (text) => ({ ...(await makeAdapter(text)), device: 'cpu' });
    const store = createAppStore(e, { library: createMemoryLibrary() });
    await store.getState().loadPack('/m/', 'auto');
    await store.getState().makeAdapter('---\nname: x\ndescription: test\n---\nUse feat/ABC-1-slug.\n');
    expect(store.getState().adapters).toHaveLength(1);
    expect(store.getState().skillNote).toMatch(/^The GPU could not run the hypernetwork \(it may be short of memory\), so this adapter was made on the CPU/);
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

const SKILL = (name: string, body: string) => `---\nname: ${name}\ndescription: test\n---\n${body}\n`;

async function openApp(library: AdapterLibrary, options: AppOptions = {}, manifest = tinyRandom) {
  const e = engine(0, manifest);
  const store = createAppStore(e, { library, ...options });
  await store.getState().loadPack('/m/', 'auto');
  return { store, e };
}

describe('adapter library in the store', () => {
  it('saves made adapters and restores them, still active and bound, after a reload', async () => {
    const library = createMemoryLibrary();
    const first = await openApp(library);
    await first.store.getState().makeAdapter(SKILL('branch-names', 'Use feat/ABC-1-slug.'));
    await first.store.getState().makeAdapter(SKILL('commit-style', 'Write commit subjects in the imperative.'));
    await first.store.getState().setAdapterScale(first.store.getState().adapters[1].id, 0.5);
    expect(library.records.size).toBe(2);

    const second = await openApp(library);
    const restored = second.store.getState().adapters;
    expect(restored.map((a) => [a.name, a.active, a.scale, a.mismatch])).toEqual([['branch-names', true, 1, null], ['commit-style', true, 0.5, null]]);
    expect(restored[0].modules.q_proj.a).toEqual(first.store.getState().adapters[0].modules.q_proj.a);
    // Reloading binds both saved adapters before the first chat.
    expect(second.e.bound.at(-1)?.q_proj.a.some((v) => v !== 0)).toBe(true);
  });

  it('records on each answer the adapters that were on when it was asked for', async () => {
    const { store } = await openApp(createMemoryLibrary());
    await store.getState().send('before');
    await store.getState().makeAdapter(SKILL('branch-names', 'Use feat/ABC-1-slug.'));
    await store.getState().makeAdapter(SKILL('commit-style', 'Write commit subjects in the imperative.'));
    const [a, b] = store.getState().adapters;
    await store.getState().setAdapterScale(b.id, 0.5);
    await store.getState().send('both');
    await store.getState().toggleAdapter(a.id);
    await store.getState().send('one');
    const answers = store.getState().turns.filter((t) => t.role === 'assistant');
    expect(answers.map((t) => t.adapters)).toEqual([[], [{ name: 'branch-names', scale: 1 }, { name: 'commit-style', scale: 0.5 }], [{ name: 'commit-style', scale: 0.5 }]]);
    expect(store.getState().turns.filter((t) => t.role === 'user').every((t) => t.adapters === undefined)).toBe(true);
  });

  it('renames, searches by name or skill text, and deletes from the library', async () => {
    const library = createMemoryLibrary();
    const { store } = await openApp(library);
    await store.getState().makeAdapter(SKILL('branch-names', 'Branches are feat/KEY-slug.'));
    await store.getState().makeAdapter(SKILL('semver', 'Bump the minor version for features.'));
    const [a, b] = store.getState().adapters;
    await store.getState().renameAdapter(a.id, '  Branch   names ');
    await store.getState().renameAdapter(b.id, '   ');
    expect(store.getState().libraryNote).toMatch(/needs a name/);
    expect(library.records.get(a.id)?.meta.name).toBe('Branch names');
    expect(library.records.get(b.id)?.meta.name).toBe('semver');

    store.getState().setAdapterQuery('MINOR');
    expect(store.getState().adapterQuery).toBe('MINOR');
    await store.getState().removeAdapter(a.id);
    expect(store.getState().adapters.map((x) => x.name)).toEqual(['semver']);
    expect([...library.records.keys()]).toEqual([b.id]);
  });

  it('counts library writes until they commit, and starts a delete before the engine has rebound', async () => {
    const library = createMemoryLibrary();
    const { store, e } = await openApp(library);
    await store.getState().makeAdapter(SKILL('branch-names', 'Branches are feat/KEY-slug.'));
    const [a] = store.getState().adapters;
    expect(store.getState().pendingWrites).toBe(0);
    // The GPU rebind hangs; the deletion must reach storage anyway, and the count says when it has.
    let release!: () => void;
    e.bindAdapters = () => new Promise<void>((r) => (release = r));
    let commit!: () => void;
    const remove = library.remove.bind(library);
    library.remove = (id) => new Promise<void>((r) => (commit = r)).then(() => remove(id));
    const removing = store.getState().removeAdapter(a.id);
    await Promise.resolve();
    expect(store.getState().pendingWrites).toBe(1);
    commit();
    await new Promise((r) => setTimeout(r, 0));
    expect(library.records.size).toBe(0);
    expect(store.getState().pendingWrites).toBe(0);
    release();
    await removing;
  });

  it('lists an adapter of another pack or other weights but refuses to switch it on', async () => {
    const library = createMemoryLibrary();
    const old = await openApp(library, {}, retrained(tinyRandom));
    await old.store.getState().makeAdapter(SKILL('old-weights', 'x'));
    const { store, e } = await openApp(library);
    const [entry] = store.getState().adapters;
    expect(entry.mismatch).toMatch(/other weights of the pack "tiny-random"/);
    // Saved as active for its own pack; here it takes no slot and is not bound.
    expect(e.bound.at(-1)).toBeNull();
    await store.getState().toggleAdapter(entry.id);
    expect(store.getState().libraryNote).toBe(entry.mismatch);
    expect(library.records.get(entry.id)?.meta.active).toBe(true);
    expect(store.getState().exportAdapter(entry.id, 'peft')).toBeNull();
    expect(store.getState().libraryNote).toMatch(/only be exported with that pack loaded/);
  });

  it('keeps what is saved and says so when storage is full', async () => {
    const library = createMemoryLibrary();
    const { store } = await openApp(library);
    await store.getState().makeAdapter(SKILL('kept', 'x'));
    const full: AdapterLibrary = {
      ...library,
      add: async () => {
        throw new DOMException('quota', 'QuotaExceededError');
      },
    };
    const again = await openApp(full);
    await again.store.getState().makeAdapter(SKILL('too-many', 'y'));
    expect(again.store.getState().libraryNote).toMatch(/storage for this page is full, so saving "too-many" failed; what was saved before is kept/);
    // The new adapter still works for this session; the saved one is untouched.
    expect(again.store.getState().adapters.map((a) => a.name)).toEqual(['kept', 'too-many']);
    expect([...library.records.values()].map((r) => r.meta.name)).toEqual(['kept']);
  });

  it('works without storage (private window) and says that adapters will not survive', async () => {
    const none: AdapterLibrary = {
      loadAll: async () => Promise.reject(new StorageError('unavailable', 'no storage here')),
      add: async () => Promise.reject(new StorageError('unavailable', 'no storage here')),
      update: async () => undefined,
      remove: async () => undefined,
    };
    const { store } = await openApp(none);
    expect(store.getState()).toMatchObject({ packStatus: 'ready', libraryNote: 'no storage here' });
    await store.getState().makeAdapter(SKILL('session-only', 'x'));
    expect(store.getState().adapters).toHaveLength(1);
  });

  it('exports PEFT as a zip and GGUF, and imports the PEFT zip back as the same adapter', async () => {
    const { store } = await openApp(createMemoryLibrary());
    await store.getState().makeAdapter(SKILL('branch names!', 'Branches are feat/KEY-slug.'));
    const [made] = store.getState().adapters;
    const saved = [store.getState().exportAdapter(made.id, 'peft')!, store.getState().exportAdapter(made.id, 'gguf')!];
    expect(store.getState().libraryNote).toBeNull();
    expect(saved.map((f) => [f.name, f.type])).toEqual([['branch-names-peft.zip', 'application/zip'], ['branch-names.gguf', 'application/octet-stream']]);
    expect([...(await readZip(saved[0].bytes)).keys()]).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    // The file goes to the given saver; a saver the browser refuses (a Blob too large) is said, and nothing is lost.
    const handed: string[] = [];
    expect(store.getState().exportAdapter(made.id, 'gguf', (f) => handed.push(f.name))?.name).toBe('branch-names.gguf');
    expect(handed).toEqual(['branch-names.gguf']);
    const refused = store.getState().exportAdapter(made.id, 'peft', () => {
      throw new RangeError('Array buffer allocation failed');
    });
    expect(refused).toBeNull();
    expect(store.getState().libraryNote).toBe('branch-names-peft.zip could not be saved: Array buffer allocation failed');
    expect(store.getState().adapters.map((a) => a.name)).toEqual(['branch names!']);
    store.setState({ libraryNote: null });

    const zip = saved[0].bytes;
    await store.getState().importAdapter([{ name: 'branch-names-peft.zip', arrayBuffer: async () => zip.slice().buffer }]);
    const imported = store.getState().adapters[1];
    expect(imported).toMatchObject({ name: 'branch names!', skillText: made.skillText, importedFrom: 'branch-names-peft.zip', mismatch: null, active: true });
    for (const m of tinyRandom.lora.targetModules) {
      expect(imported.modules[m].a).toEqual(made.modules[m].a);
      expect(imported.modules[m].b).toEqual(made.modules[m].b);
    }
    expect(store.getState().libraryNote).toBe('Imported "branch names!".');
  });

  it('refuses an import that does not fit with a message naming the file', async () => {
    const { store } = await openApp(createMemoryLibrary());
    const text = (s: string) => ({ name: 'adapter_config.json', arrayBuffer: async () => new TextEncoder().encode(s).buffer });
    await store.getState().importAdapter([text('{"peft_type": "LORA", "r": 4}')]);
    expect(store.getState().libraryNote).toMatch(/adapter_config.json could not be imported: .*adapter_model.safetensors is missing/);
    expect(store.getState().adapters).toHaveLength(0);
  });
});

describe('chat basics in the store', () => {
  const quiet = (): AppOptions => ({ library: createMemoryLibrary(), history: createMemoryHistory(), downloadCheck: async () => null });

  it('keeps the chat per pack across a reload, and Clear can be undone', async () => {
    const history = createMemoryHistory();
    const first = await openApp(createMemoryLibrary(), { ...quiet(), history });
    await first.store.getState().send('hi');
    await first.store.getState().send('again');
    const again = await openApp(createMemoryLibrary(), { ...quiet(), history });
    expect(again.store.getState().turns.map((t) => [t.role, t.content])).toEqual([['user', 'hi'], ['assistant', 'Hello'], ['user', 'again'], ['assistant', 'Hello']]);
    // A finished answer comes back with its numbers, without token ids.
    expect(again.store.getState().turns[1].stats).toMatchObject({ generatedTokens: 2, stopReason: 'eos' });
    expect(again.store.getState().turns[1].stats).not.toHaveProperty('tokenIds');
    // New turns get new ids after the restored ones.
    await again.store.getState().send('third');
    const ids = again.store.getState().turns.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);

    again.store.getState().clearChat();
    await Promise.resolve();
    expect(again.store.getState().turns).toEqual([]);
    expect(history.records.has(tinyRandom.id)).toBe(false);
    again.store.getState().undoClear();
    await new Promise((r) => setTimeout(r, 0));
    expect(again.store.getState().turns).toHaveLength(6);
    expect((await history.load(tinyRandom.id)).map((t) => t.content)).toEqual(['hi', 'Hello', 'again', 'Hello', 'third', 'Hello']);
    // Another pack has its own (empty) chat.
    const other = await openApp(createMemoryLibrary(), { ...quiet(), history }, { ...tinyRandom, id: 'another-pack' });
    expect(other.store.getState().turns).toEqual([]);
  });

  it('loading the same pack again (engine switch) keeps the chat on the page and says what runs now', async () => {
    const history = createMemoryHistory();
    const { store, e } = await openApp(createMemoryLibrary(), { ...quiet(), history });
    await store.getState().send('hi');
    e.loadPack = async () => ({ manifest: tinyRandom, backend: 'wasm', backendNote: 'onnxruntime-web on WebAssembly (chosen in Settings)' });
    const switching = store.getState().switchEngine('wasm');
    expect(store.getState().engineNote).toMatch(/^Switching the engine: the model is loaded again/);
    await switching;
    expect(store.getState().engineNote).toBe('Engine switched. Now running: onnxruntime-web on WebAssembly (chosen in Settings).');
    expect(store.getState().packRequest?.preference).toBe('wasm');
    expect(store.getState().turns.map((t) => t.content)).toEqual(['hi', 'Hello']);
  });

  it('a damaged saved chat is dropped turn by turn, never half-read', async () => {
    const history = createMemoryHistory();
    history.records.set(tinyRandom.id, {
      version: 1,
      turns: [{ id: 1, role: 'user', content: 'kept' }, { id: 2, role: 'robot', content: 'x' }, { id: 'x', role: 'user', content: 'y' }, null],
    });
    const { store } = await openApp(createMemoryLibrary(), { ...quiet(), history });
    expect(store.getState().turns.map((t) => t.content)).toEqual(['kept']);
  });

  it('says so when the chat cannot be saved, and the chat goes on', async () => {
    const history: ChatHistory = {
      load: async () => [],
      save: async () => Promise.reject(new StorageError('quota', 'The browser\'s storage for this page is full, so saving the chat failed.')),
    };
    const { store } = await openApp(createMemoryLibrary(), { ...quiet(), history });
    await store.getState().send('hi');
    expect(store.getState().historyNote).toMatch(/storage for this page is full/);
    expect(store.getState().turns).toHaveLength(2);
  });

  it('a saved chat that fails to load is tried again, and one that cannot be read is never saved over', async () => {
    const saved = createMemoryHistory();
    await saved.save(tinyRandom.id, [{ id: 1, role: 'user', content: 'old question' }]);
    let failures = 1;
    const flaky: ChatHistory = {
      load: async (id) => (failures-- > 0 ? Promise.reject(new StorageError('failed', 'Reading the chat history failed.')) : saved.load(id)),
      save: (id, turns) => saved.save(id, turns),
    };
    const once = await openApp(createMemoryLibrary(), { ...quiet(), history: flaky });
    expect(once.store.getState().turns.map((t) => t.content)).toEqual(['old question']);
    expect(once.store.getState().historyNote).toBeNull();

    failures = 100;
    const { store } = await openApp(createMemoryLibrary(), { ...quiet(), history: flaky });
    expect(store.getState().turns).toEqual([]);
    expect(store.getState().historyNote).toMatch(/^Reading the chat history failed. Messages sent now are not saved over it/);
    await store.getState().send('new question');
    expect(store.getState().turns).toHaveLength(2);
    expect((await saved.load(tinyRandom.id)).map((t) => t.content)).toEqual(['old question']);
    // Readable again: the saved chat comes back ahead of this visit's, and everything is saved.
    failures = 0;
    await store.getState().send('next question');
    const all = ['old question', 'new question', 'Hello', 'next question', 'Hello'];
    expect(store.getState().turns.map((t) => t.content)).toEqual(all);
    expect(new Set(store.getState().turns.map((t) => t.id)).size).toBe(5);
    expect((await saved.load(tinyRandom.id)).map((t) => t.content)).toEqual(all);
    expect(store.getState().historyNote).toBeNull();
  });

  it('no storage at all is said at once, without a second try', async () => {
    let reads = 0;
    const none: ChatHistory = {
      load: async () => {
        reads++;
        return Promise.reject(new StorageError('unavailable', 'no storage here'));
      },
      save: async () => Promise.reject(new StorageError('unavailable', 'no storage here')),
    };
    const { store } = await openApp(createMemoryLibrary(), { ...quiet(), history: none });
    expect(reads).toBe(1);
    expect(store.getState().historyNote).toMatch(/does not let the page save data/);
  });

  it('regenerate replaces the last answer, asked from the same conversation', async () => {
    const { store, e } = await openApp(createMemoryLibrary(), quiet());
    await store.getState().send('hi');
    const before = store.getState().turns;
    await store.getState().regenerate();
    const after = store.getState().turns;
    expect(after).toHaveLength(2);
    expect(after[1].id).not.toBe(before[1].id);
    expect(e.calls[1].messages).toEqual(e.calls[0].messages);
  });

  it('answers up to a quarter of the pack context by default (64 to 512 tokens), or the number the user set', async () => {
    expect([maxNewTokensFor(128), maxNewTokensFor(512), maxNewTokensFor(1536), maxNewTokensFor(32768)]).toEqual([64, 128, 384, 512]);
    const { store, e } = await openApp(createMemoryLibrary(), quiet());
    await store.getState().send('hi');
    expect(e.calls[0].maxNewTokens).toBe(tinyRandom.generation.contextLength / 4);
    expect(store.getState().turns[1].maxNewTokens).toBe(tinyRandom.generation.contextLength / 4);
    store.getState().updateSettings({ maxNewTokens: 300 });
    await store.getState().send('again');
    expect(e.calls[1].maxNewTokens).toBe(300);
  });

  it('sends the system prompt first, and keeps the settings for the next visit', async () => {
    let saved: unknown = null;
    const settingsStorage = { load: () => saved, save: (s: unknown) => void (saved = JSON.parse(JSON.stringify(s))) };
    const { store, e } = await openApp(createMemoryLibrary(), { ...quiet(), settingsStorage });
    store.getState().updateSettings({ systemPrompt: '  Answer in French.  ', maxNewTokens: 99 });
    await store.getState().send('hi');
    expect(e.calls[0].messages).toEqual([{ role: 'system', content: 'Answer in French.' }, { role: 'user', content: 'hi' }]);
    expect(e.calls[0]).toMatchObject({ maxNewTokens: 99 });
    expect(e.calls[0]).not.toHaveProperty('systemPrompt');
    const next = await openApp(createMemoryLibrary(), { ...quiet(), settingsStorage });
    expect(next.store.getState().settings).toMatchObject({ systemPrompt: '  Answer in French.  ', maxNewTokens: 99 });
    // Unreadable saved values fall back to the defaults.
    saved = { maxNewTokens: 'lots', temperature: -3, topP: null, systemPrompt: 7 };
    const bad = await openApp(createMemoryLibrary(), { ...quiet(), settingsStorage });
    expect(bad.store.getState().settings).toEqual({ maxNewTokens: null, temperature: 0, topP: 0.95, systemPrompt: '' });
  });

  it('a new adapter made while every slot is taken is saved switched off, and the note says so', async () => {
    const { store } = await openApp(createMemoryLibrary(), quiet());
    for (let i = 0; i < tinyRandom.lora.slots; i++) await store.getState().makeAdapter(SKILL(`s${i}`, `rule ${i}`));
    expect(store.getState().skillNote).not.toMatch(/slots/);
    expect(store.getState().adapters.every((a) => a.active)).toBe(true);
    await store.getState().makeAdapter(SKILL('one-more', 'rule'));
    expect(store.getState().adapters.at(-1)).toMatchObject({ name: 'one-more', active: false });
    expect(store.getState().skillNote).toContain(`All ${tinyRandom.lora.slots} adapter slots are in use, so "one-more" was saved switched off: switch another adapter off, then tick this one.`);
  });

  it('Compare puts the picked adapter\'s own skill in context, binds that adapter only, and says which modes it skipped', async () => {
    const { store, e } = await openApp(createMemoryLibrary(), quiet());
    await store.getState().makeAdapter(SKILL('branch-names', 'Use feat/ABC-1-slug.'));
    await store.getState().makeAdapter(SKILL('commit-style', 'Imperative subjects.'));
    const [branch, commit] = store.getState().adapters;
    e.bound.length = 0;
    await store.getState().runCompare('name it', { adapterId: branch.id });
    const c = store.getState().compare!;
    expect(c.skillName).toBe('branch-names');
    expect(e.calls.at(-2)!.messages[0]).toEqual({ role: 'system', content: branch.skillText.trim() });
    // base and in context: zeros; adapter: branch-names alone (its slot filled, the others zero); then both again.
    const adapterBound = e.bound[2]!;
    const alone = composeSlots([branch], tinyRandom.architecture, tinyRandom.lora)!;
    expect(adapterBound.q_proj.a).toEqual(alone.q_proj.a);
    expect(e.bound.slice(0, 2)).toEqual([null, null]);
    expect(e.bound[3]!.q_proj.a).toEqual(composeSlots([branch, commit], tinyRandom.architecture, tinyRandom.lora)!.q_proj.a);
    expect(Object.values(c.answers).map((a) => a!.text)).toEqual(['Hello', 'Hello', 'Hello']);

    await store.getState().runCompare('name it', { skillText: '  ' });
    expect(store.getState().compare!.answers).toMatchObject({
      base: { text: 'Hello' },
      icl: { skipped: 'Skipped: the skill text box is empty.' },
      adapter: { skipped: 'Skipped: no adapter is picked. Make an adapter from this skill first, then compare.' },
    });
  });

  it('Stop during Compare ends the running answer and skips the rest, saying so', async () => {
    const { store, e } = await openApp(createMemoryLibrary(), quiet());
    await store.getState().makeAdapter(SKILL('branch-names', 'Use feat/ABC-1-slug.'));
    const generate = e.generate;
    e.generate = async (p, onToken) => {
      store.getState().stop();
      return { ...(await generate(p, onToken)), stopReason: 'stopped' };
    };
    await store.getState().runCompare('name it', { adapterId: store.getState().adapters[0].id });
    const { answers, running } = store.getState().compare!;
    expect(running).toBeNull();
    expect(answers.base?.stats?.stopReason).toBe('stopped');
    expect(answers.icl).toEqual({ text: '', skipped: 'Not run: Compare was stopped.' });
    expect(answers.adapter).toEqual({ text: '', skipped: 'Not run: Compare was stopped.' });
    expect(store.getState().generating).toBe(false);
  });

  it('asks before a large download and downloads nothing until the user says yes', async () => {
    const e = engine();
    let loads = 0;
    const loadPack = e.loadPack;
    e.loadPack = async (...args) => (loads++, loadPack(...args));
    const need = { bytes: 335_000_000, files: 2, totalBytes: 335_500_000, mbps: 10 };
    const store = createAppStore(e, { ...quiet(), downloadCheck: async () => need });
    await store.getState().loadPack('/models/gemma/', 'auto');
    expect(store.getState()).toMatchObject({ packStatus: 'confirm', download: { ...need, source: '/models/gemma/', declined: false } });
    store.getState().declineDownload();
    expect(store.getState().download?.declined).toBe(true);
    expect(loads).toBe(0);
    await store.getState().confirmDownload();
    expect(loads).toBe(1);
    expect(store.getState()).toMatchObject({ packStatus: 'ready', download: null });
    // A small or cached pack loads without asking.
    const small = createAppStore(engine(), { ...quiet(), downloadCheck: async () => ({ ...need, bytes: 1000 }) });
    await small.getState().loadPack('/models/tiny/', 'auto');
    expect(small.getState().packStatus).toBe('ready');
  });
});
