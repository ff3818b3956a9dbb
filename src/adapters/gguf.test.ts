import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleShape, validateManifest, type PackManifest } from '../model/config';
import type { AdapterModules } from '../model/engine';
import { exportGguf, permuteRows } from './gguf';
import { GGUF_ALIGNMENT, GGUF_MAGIC } from '../formats/gguf';
import { toPeftLayout, type ExportableAdapter } from './peft';

const manifest = validateManifest(JSON.parse(readFileSync(new URL('../../public/models/tiny-random/manifest.json', import.meta.url), 'utf8')));
const { architecture: arch, lora } = manifest;

function modules(): AdapterModules {
  return Object.fromEntries(
    lora.targetModules.map((m) => {
      const [fanIn, fanOut] = moduleShape(arch, m);
      const n = (k: number) => Float32Array.from({ length: arch.numHiddenLayers * lora.rank * k }, (_, i) => Math.cos(i) / 4);
      return [m, { a: n(fanIn), b: n(fanOut) }];
    }),
  );
}

const adapter: ExportableAdapter = { name: 'semver', skillText: 'Bump minor for features.', packSha256: '0'.repeat(64), scale: 0.5, modules: modules() };

interface ParsedGguf {
  version: number;
  kv: Map<string, string | number>;
  tensors: { name: string; ne: number[]; type: number; offset: number }[];
  dataStart: number;
  view: DataView;
}

/** Just enough of a GGUF reader to check our writer (gguf-py's GGUFReader checks it in the Python tests). */
function parseGguf(bytes: Uint8Array): ParsedGguf {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = () => ((at += 4), view.getUint32(at - 4, true));
  const u64 = () => ((at += 8), Number(view.getBigUint64(at - 8, true)));
  const str = () => {
    const n = u64();
    at += n;
    return new TextDecoder().decode(bytes.subarray(at - n, at));
  };
  expect(u32()).toBe(GGUF_MAGIC);
  const version = u32();
  const tensorCount = u64();
  const kvCount = u64();
  const kv = new Map<string, string | number>();
  for (let i = 0; i < kvCount; i++) {
    const key = str();
    const type = u32();
    if (type === 8) kv.set(key, str());
    else if (type === 6) kv.set(key, ((at += 4), view.getFloat32(at - 4, true)));
    else throw new Error(`unexpected value type ${type}`);
  }
  const tensors = Array.from({ length: tensorCount }, () => {
    const name = str();
    const ne = Array.from({ length: u32() }, u64);
    return { name, ne, type: u32(), offset: u64() };
  });
  return { version, kv, tensors, dataStart: Math.ceil(at / GGUF_ALIGNMENT) * GGUF_ALIGNMENT, view };
}

function tensorData(g: ParsedGguf, name: string): Float32Array {
  const t = g.tensors.find((x) => x.name === name)!;
  const n = t.ne.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => g.view.getFloat32(g.dataStart + t.offset + 4 * i, true));
}

describe('GGUF LoRA export', () => {
  it('writes the header and metadata llama.cpp checks before loading an adapter', () => {
    const g = parseGguf(exportGguf(adapter, manifest));
    expect(g.version).toBe(3);
    expect(Object.fromEntries(g.kv)).toEqual({
      'general.architecture': 'llama', 'general.type': 'adapter', 'general.name': 'semver', 'adapter.type': 'lora', 'adapter.lora.alpha': 8,
    });
  });

  it('names and shapes lora_a as ne [in, r] and lora_b as ne [r, out], F32, 32-byte aligned', () => {
    const bytes = exportGguf(adapter, manifest);
    const g = parseGguf(bytes);
    expect(g.tensors).toHaveLength(arch.numHiddenLayers * lora.targetModules.length * 2);
    expect(g.tensors.slice(0, 6).map((t) => [t.name, t.ne])).toEqual([
      ['blk.0.attn_q.weight.lora_a', [64, 4]], ['blk.0.attn_q.weight.lora_b', [4, 64]],
      ['blk.0.attn_v.weight.lora_a', [64, 4]], ['blk.0.attn_v.weight.lora_b', [4, 32]],
      ['blk.0.ffn_down.weight.lora_a', [128, 4]], ['blk.0.ffn_down.weight.lora_b', [4, 64]],
    ]);
    for (const t of g.tensors) {
      expect(t.type).toBe(0);
      expect(t.offset % GGUF_ALIGNMENT).toBe(0);
    }
    const last = g.tensors.at(-1)!;
    expect(bytes.length).toBe(g.dataStart + Math.ceil((last.offset + 4 * last.ne[0] * last.ne[1]) / GGUF_ALIGNMENT) * GGUF_ALIGNMENT);
  });

  it('holds the PEFT tensors, with q rows permuted for llama and kept for gemma3', () => {
    const peft = toPeftLayout(adapter.modules, adapter.scale, arch, lora);
    const pair = (module: string, layer: number) => peft.find((p) => p.module === module && p.layer === layer)!;
    const llama = parseGguf(exportGguf(adapter, manifest));
    expect(tensorData(llama, 'blk.1.ffn_down.weight.lora_a')).toEqual(pair('down_proj', 1).loraA);
    expect(tensorData(llama, 'blk.1.attn_v.weight.lora_b')).toEqual(pair('v_proj', 1).loraB);
    expect(tensorData(llama, 'blk.1.attn_q.weight.lora_b')).toEqual(permuteRows(pair('q_proj', 1).loraB, arch.numAttentionHeads, lora.rank));
    const gemmaManifest: PackManifest = { ...manifest, architecture: { ...arch, type: 'gemma3' } };
    const gemma = parseGguf(exportGguf(adapter, gemmaManifest));
    expect(gemma.kv.get('general.architecture')).toBe('gemma3');
    expect(tensorData(gemma, 'blk.1.attn_q.weight.lora_b')).toEqual(pair('q_proj', 1).loraB);
  });

  it('permutes rows within each head from [half, pair] to [pair, half], as LlamaModel.permute does', () => {
    // Two heads of head dim 4, one column: row r holds r.
    expect([...permuteRows(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), 2, 1)]).toEqual([0, 2, 1, 3, 4, 6, 5, 7]);
    expect([...permuteRows(Float32Array.from([0, 10, 1, 11, 2, 12, 3, 13]), 1, 2)]).toEqual([0, 10, 2, 12, 1, 11, 3, 13]);
  });
});
