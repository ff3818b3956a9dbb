import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleShape, validateManifest, type LoraModule } from '../model/config';
import type { AdapterModules } from '../model/engine';
import { parseSafetensors, writeSafetensors, type F32Tensor } from '../formats/safetensors';
import { exportGguf } from './gguf';
import { AdapterFormatError, exportPeft, exportPeftZip, importPeft, importPeftFiles, peftKey, type ExportableAdapter } from './peft';
import { readZip, writeZip } from '../formats/zip';

const manifest = validateManifest(JSON.parse(readFileSync(new URL('../../public/models/tiny-random/manifest.json', import.meta.url), 'utf8')));
const { architecture: arch, lora } = manifest;
const layers = arch.numHiddenLayers;
const FIXTURE = new URL('../../e2e/fixtures/adapter-export/', import.meta.url);

function randomModules(seed: number, size = 0.5): AdapterModules {
  let s = seed;
  const rnd = () => (((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5) * size;
  const out: AdapterModules = {};
  for (const m of lora.targetModules) {
    const [fanIn, fanOut] = moduleShape(arch, m);
    out[m] = { a: Float32Array.from({ length: layers * fanIn * lora.rank }, rnd), b: Float32Array.from({ length: layers * lora.rank * fanOut }, rnd) };
  }
  return out;
}

const adapter = (scale = 1, modules = randomModules(7)): ExportableAdapter => ({ name: 'branch-names', skillText: 'Branch names are <type>/<ticket>-<slug>.', packSha256: 'ab'.repeat(32), scale, modules });

const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const config = (patch: Record<string, unknown> = {}) => json({ peft_type: 'LORA', r: lora.rank, lora_alpha: lora.alpha, target_modules: lora.targetModules, ...patch });

/** PEFT tensors for `modules` of rank r, as another tool would save them (lora_A [r, in], lora_B [out, r]). */
function peftTensors(r: number, modules: LoraModule[], value: (module: LoraModule, layer: number, half: 'A' | 'B', i: number) => number): F32Tensor[] {
  return modules.flatMap((m) => {
    const [fanIn, fanOut] = moduleShape(arch, m);
    return Array.from({ length: layers }, (_, l) => [
      { name: peftKey(l, m, 'A'), shape: [r, fanIn], data: Float32Array.from({ length: r * fanIn }, (_, i) => value(m, l, 'A', i)) },
      { name: peftKey(l, m, 'B'), shape: [fanOut, r], data: Float32Array.from({ length: fanOut * r }, (_, i) => value(m, l, 'B', i)) },
    ]).flat();
  });
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AdapterFormatError);
    return (e as Error).message;
  }
  throw new Error('it was accepted');
}

describe('PEFT export', () => {
  it('writes the config PEFT reads and tensors named and shaped as PEFT saves them', () => {
    const { config: cfg, weights } = exportPeft(adapter(), manifest);
    expect(JSON.parse(new TextDecoder().decode(cfg))).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'],
      base_model_name_or_path: 'tiny-random', fan_in_fan_out: false, bias: 'none',
    });
    const file = parseSafetensors(weights);
    expect(file.metadata).toMatchObject({ format: 'pt', 'parametric_skills.name': 'branch-names', 'parametric_skills.pack_id': 'tiny-random' });
    expect(file.tensors.get('base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight')?.shape).toEqual([4, 64]);
    expect(file.tensors.get('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight')?.shape).toEqual([32, 4]);
    expect(file.tensors.get('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight')?.shape).toEqual([4, 128]);
    expect(file.tensors.size).toBe(layers * lora.targetModules.length * 2);
  });

  it('transposes to nn.Linear layout and folds only the user scale into lora_B', () => {
    const a = adapter(0.75);
    const file = parseSafetensors(exportPeft(a, manifest).weights);
    const [fanIn, fanOut] = moduleShape(arch, 'down_proj');
    const A = file.float32(peftKey(1, 'down_proj', 'A'));
    const B = file.float32(peftKey(1, 'down_proj', 'B'));
    const src = a.modules.down_proj;
    for (const [i, j] of [[0, 0], [5, 3], [fanIn - 1, 2]]) expect(A[j * fanIn + i]).toBe(src.a[(fanIn + i) * lora.rank + j]);
    for (const [j, o] of [[0, 0], [3, 7], [1, fanOut - 1]]) expect(B[o * lora.rank + j]).toBe(Math.fround(src.b[(lora.rank + j) * fanOut + o] * 0.75));
  });

  it('refuses an adapter whose tensors do not fit the pack', () => {
    const broken = adapter();
    broken.modules.v_proj = { a: new Float32Array(3), b: new Float32Array(3) };
    expect(refusal(() => exportPeft(broken, manifest))).toMatch(/no v_proj of shape A \[2, 64, 4\], B \[2, 4, 32\]/);
  });
});

describe('PEFT import', () => {
  it('gives back identical tensors, name and skill text (round trip)', () => {
    const a = adapter();
    const { config: cfg, weights } = exportPeft(a, manifest);
    const back = importPeft(cfg, weights, manifest);
    expect(back).toMatchObject({ name: a.name, skillText: a.skillText, packId: 'tiny-random', packSha256: a.packSha256, baseModel: 'tiny-random', notes: [] });
    for (const m of lora.targetModules) {
      expect(back.modules[m].a).toEqual(a.modules[m].a);
      expect(back.modules[m].b).toEqual(a.modules[m].b);
    }
  });

  it('keeps the exported scale in B: a scale of 0.5 comes back as B / 2 at scale 1', () => {
    const a = adapter(0.5);
    const { config: cfg, weights } = exportPeft(a, manifest);
    const back = importPeft(cfg, weights, manifest);
    expect(back.modules.q_proj.b).toEqual(a.modules.q_proj.b.map((v) => v * 0.5));
  });

  it('pads a lower rank and folds its alpha / r (or rsLoRA alpha / sqrt r) into B', () => {
    const value = (_m: LoraModule, l: number, half: 'A' | 'B', i: number) => (half === 'A' ? 1 + l : i % 2 ? 1 : -1);
    const weights = writeSafetensors(peftTensors(2, ['q_proj'], value));
    for (const [patch, scaling] of [[{ lora_alpha: 16 }, 16 / 2], [{ lora_alpha: 4, use_rslora: true }, 4 / Math.SQRT2]] as const) {
      const back = importPeft(config({ r: 2, target_modules: ['q_proj'], ...patch }), weights, manifest);
      const [fanIn, fanOut] = moduleShape(arch, 'q_proj');
      const { a, b } = back.modules.q_proj;
      // Rank columns 2 and 3 stay zero, so the pack's alpha / rank times B equals PEFT's scaling times lora_B.
      expect([a[(fanIn + 3) * lora.rank + 0], a[(fanIn + 3) * lora.rank + 1], a[(fanIn + 3) * lora.rank + 2], a[(fanIn + 3) * lora.rank + 3]]).toEqual([2, 2, 0, 0]);
      // lora_B (out 0, rank 0) is -1 and (out 0, rank 1) is +1.
      expect([b[0], b[fanOut]].map((v) => v * (lora.alpha / lora.rank))).toEqual([-scaling, scaling].map((v) => expect.closeTo(v, 5)));
      expect(b.subarray(2 * fanOut, 4 * fanOut).every((v) => v === 0)).toBe(true);
      expect(back.modules.v_proj.a.every((v) => v === 0)).toBe(true);
      expect(back.notes.join(' ')).toMatch(/does not change v_proj.*does not change down_proj.*rank 2 was padded to this pack's rank 4/);
    }
  });

  it('reads F16 and BF16 tensors, as adapters trained in half precision are saved', () => {
    const [fanIn, fanOut] = moduleShape(arch, 'q_proj');
    const header: Record<string, unknown> = {};
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (let l = 0; l < layers; l++) {
      for (const [half, shape, dtype, bits] of [['A', [lora.rank, fanIn], 'F16', 0x3c00], ['B', [fanOut, lora.rank], 'BF16', 0xbf80]] as const) {
        const data = new Uint16Array(shape[0] * shape[1]).fill(bits); // F16 1.0 and BF16 -1.0
        header[peftKey(l, 'q_proj', half)] = { dtype, shape, data_offsets: [offset, offset + data.byteLength] };
        chunks.push(new Uint8Array(data.buffer));
        offset += data.byteLength;
      }
    }
    const head = json(header);
    const bytes = new Uint8Array(8 + head.length + offset);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(head.length), true);
    bytes.set(head, 8);
    chunks.reduce((at, c) => (bytes.set(c, at), at + c.length), 8 + head.length);
    const back = importPeft(config({ target_modules: ['q_proj'] }), bytes, manifest);
    expect(back.modules.q_proj.a.every((v) => v === 1)).toBe(true);
    expect(back.modules.q_proj.b.every((v) => v === -1)).toBe(true);
  });

  it('refuses what does not fit the pack, saying what and why', () => {
    const { weights } = exportPeft(adapter(), manifest);
    const ones = () => 1;
    expect(refusal(() => importPeft(config({ r: 8 }), weights, manifest))).toMatch(/rank r=8 is larger than this pack's adapter rank \(4\)/);
    expect(refusal(() => importPeft(config({ peft_type: 'IA3' }), weights, manifest))).toMatch(/only LORA adapters/);
    expect(refusal(() => importPeft(config({ use_dora: true }), weights, manifest))).toMatch(/DoRA/);
    expect(refusal(() => importPeft(config({ modules_to_save: ['lm_head'] }), weights, manifest))).toMatch(/modules_to_save/);
    expect(refusal(() => importPeft(json([1]), weights, manifest))).toMatch(/adapter_config.json is not a JSON object/);
    expect(refusal(() => importPeft(config(), writeSafetensors(peftTensors(4, ['o_proj'], ones)), manifest))).toMatch(/changes o_proj, but this pack's slots carry only q_proj, v_proj, down_proj/);
    const wide = peftTensors(4, ['q_proj'], ones).map((t) => (t.name.endsWith('lora_A.weight') ? { ...t, shape: [4, 32], data: t.data.subarray(0, 128) } : t));
    expect(refusal(() => importPeft(config(), writeSafetensors(wide), manifest))).toMatch(/lora_A.weight" has shape \[4, 32\], but this pack needs \[4, 64\]/);
    const deeper = [{ name: peftKey(5, 'q_proj', 'A'), shape: [4, 64], data: new Float32Array(256) }];
    expect(refusal(() => importPeft(config(), writeSafetensors(deeper), manifest))).toMatch(/layer 5, but the model has 2 layers/);
    const halfOnly = peftTensors(4, ['q_proj'], ones).filter((t) => !t.name.includes('layers.1.') || t.name.includes('lora_A'));
    expect(refusal(() => importPeft(config(), writeSafetensors(halfOnly), manifest))).toMatch(/layer 1 q_proj has lora_A but not its other half/);
    const embedding = [{ name: 'base_model.model.model.embed_tokens.lora_embedding_A', shape: [1], data: new Float32Array(1) }];
    expect(refusal(() => importPeft(config(), writeSafetensors(embedding), manifest))).toMatch(/not a LoRA A\/B weight of a decoder layer/);
  });

  it('accepts a zip of both files (in a folder too) or the two files, and names what is missing', async () => {
    const a = adapter();
    const { config: cfg, weights } = exportPeft(a, manifest);
    const fromZip = await importPeftFiles([{ name: 'a.zip', bytes: exportPeftZip(a, manifest) }], manifest);
    const fromFiles = await importPeftFiles([{ name: 'adapter_config.json', bytes: cfg }, { name: 'adapter_model.safetensors', bytes: weights }], manifest);
    expect(fromZip.modules.down_proj.b).toEqual(a.modules.down_proj.b);
    expect(fromFiles.modules.down_proj.b).toEqual(a.modules.down_proj.b);
    const inFolder = writeZip([{ name: 'my-adapter/', data: new Uint8Array() }, { name: 'my-adapter/adapter_config.json', data: cfg }, { name: 'my-adapter/adapter_model.safetensors', data: weights }]);
    expect((await importPeftFiles([{ name: 'b.zip', bytes: inFolder }], manifest)).name).toBe(a.name);
    await expect(importPeftFiles([{ name: 'adapter_model.safetensors', bytes: weights }], manifest)).rejects.toThrow(/adapter_config.json is missing/);
    await expect(importPeftFiles([{ name: 'x.zip', bytes: cfg }], manifest)).rejects.toThrow(/x.zip: not a zip archive/);
  });
});

/** Exports of one fixed adapter, checked by the real tools in training/tests/test_adapter_export.py. */
describe('export fixture for the Python tests', () => {
  /** The fixed adapter of training/tests/test_adapter_export.py, with a scale that is not a power of two. */
  const fixtureAdapter = (): ExportableAdapter => ({ ...adapter(0.75, randomModules(2024, 0.4)), packSha256: manifest.files.find((f) => f.role === 'weights')!.sha256 });

  /** Write with UPDATE_ADAPTER_FIXTURE=1; otherwise the committed bytes must be what the code writes now. */
  function matchFixture(name: string, bytes: Uint8Array) {
    const url = new URL(name, FIXTURE);
    if (process.env.UPDATE_ADAPTER_FIXTURE) {
      mkdirSync(FIXTURE, { recursive: true });
      writeFileSync(url, bytes);
    }
    expect(existsSync(url), `${name} is missing: run UPDATE_ADAPTER_FIXTURE=1 npx vitest run src/adapters`).toBe(true);
    expect(Buffer.from(readFileSync(url)).equals(bytes), `${name} differs from what the code writes now`).toBe(true);
  }

  it('writes the same bytes as the committed fixture', () => {
    const a = fixtureAdapter();
    const source = {
      packId: manifest.id, packSha256: a.packSha256, name: a.name, skillText: a.skillText, scale: a.scale,
      modules: Object.fromEntries(Object.entries(a.modules).map(([m, p]) => [m, { A: Array.from(p.a), B: Array.from(p.b) }])),
    };
    matchFixture('adapter.json', new TextEncoder().encode(JSON.stringify(source) + '\n'));
    const { config: cfg, weights } = exportPeft(a, manifest);
    matchFixture('adapter_config.json', cfg);
    matchFixture('adapter_model.safetensors', weights);
    matchFixture('adapter-peft.zip', exportPeftZip(a, manifest));
    matchFixture('adapter.gguf', exportGguf(a, manifest));
    // The same tensors for a gemma3 base: llama.cpp keeps Hugging Face's q/k row order there.
    matchFixture('adapter-gemma3.gguf', exportGguf(a, { ...manifest, architecture: { ...arch, type: 'gemma3' } }));
  });

  it('reads back the committed zip', async () => {
    const files = await readZip(new Uint8Array(readFileSync(new URL('adapter-peft.zip', FIXTURE))));
    expect([...files.keys()]).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });
});
