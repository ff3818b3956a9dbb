import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, PackError } from '../errors';
import { HypernetCpu, loadHypernet, summarizeHypernet, type EncoderShape } from './hypernet';

const bytes = new Uint8Array(readFileSync(new URL('../../public/models/tiny-random/hypernet.safetensors', import.meta.url)));
/** Encoder states, pooled z and LoRA made by training/hypernet.py (training/export/make_test_pack.py). */
const fixture = JSON.parse(readFileSync(new URL('../../e2e/fixtures/tiny-random-hypernet.json', import.meta.url), 'utf8'));

/** PyTorch fp32 vs our float64-accumulated loops: every element within ATOL + RTOL * |reference|. */
const ATOL = 1e-4;
const RTOL = 1e-4;

function expectClose(got: Float32Array, want: number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  let worst = 0;
  got.forEach((g, i) => {
    worst = Math.max(worst, Math.abs(g - want[i]) - RTOL * Math.abs(want[i]));
  });
  expect(worst, `${what}: worst excess over ${RTOL} * |reference|`).toBeLessThanOrEqual(ATOL);
}

/** A safetensors file's JSON header, read here on its own (not through the loader under test), and its length. */
function headerOf(file: Uint8Array): { header: Record<string, any>; n: number } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  return { header: JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))), n };
}

/** The same file with its JSON header changed by `edit` (data bytes unchanged). */
function withHeader(edit: (header: Record<string, any>) => void): Uint8Array {
  const { header, n } = headerOf(bytes);
  edit(header);
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(bytes.subarray(8 + n), 8 + json.length);
  return out;
}

function loadError(b: Uint8Array): PackError {
  try {
    loadHypernet(b);
  } catch (e) {
    if (e instanceof PackError) return e;
    throw e;
  }
  throw new Error('the hypernetwork loaded');
}

describe('loadHypernet', () => {
  it('reads the config and every parameter', () => {
    const h = loadHypernet(bytes);
    expect(h.config).toMatchObject({ hidden_size: 64, num_encoder_layers: 2, num_layers: 2, rank: 4, d_model: 32, num_heads: 4, mlp_hidden: 64 });
    expect(h.config.modules).toEqual(['q_proj', 'v_proj', 'down_proj']);
    expect(h.chunkTokens).toBe(fixture.chunkTokens);
    expect(h.params.size).toBe(14 + 4 * 3);
  });

  it('summarizes what the file records of its making, from the file written by PyTorch', () => {
    expect(loadHypernet(bytes).summary).toEqual({ origin: 'random', seed: 0, storedAs: ['F32'] });
    // The small pack ships a trained hypernetwork: its header, read here on its own, says how many steps and which seed.
    const small = new Uint8Array(readFileSync(new URL('../../public/models/small-skills/hypernet.safetensors', import.meta.url)));
    const provenance = JSON.parse(headerOf(small).header.__metadata__.provenance);
    expect(loadHypernet(small).summary).toEqual({ origin: 'trained', steps: provenance.steps, seed: provenance.config.seed, storedAs: ['F32'] });
    expect(provenance.steps).toBeGreaterThan(0);
  });

  it('says float16 for the shipped Gemma hypernetwork (training.export.half_hypernet), whose weights it widens', () => {
    const file = new Uint8Array(readFileSync(new URL('../../training/hypernets/gemma-3-270m.safetensors', import.meta.url)));
    const provenance = JSON.parse(headerOf(file).header.__metadata__.provenance);
    const h = loadHypernet(file);
    expect(h.summary).toEqual({ origin: 'trained', steps: provenance.steps, seed: provenance.config.seed, storedAs: ['F16'] });
    expect([...h.params.values()].every((p) => p instanceof Float32Array)).toBe(true);
    expect(summarizeHypernet('{"steps": 500, "config": {"seed": 0}}', ['F16', 'F16', 'F32']).storedAs).toEqual(['F16', 'F32']);
  });

  it('a missing or garbled training record is unknown, never an error', () => {
    for (const p of [undefined, '', 'not json', '[1,2]', 'null', '{"steps": -1}', '{"steps": "500"}', '{"steps": 0}']) {
      expect(summarizeHypernet(p, ['F32'])).toEqual({ origin: 'unknown', storedAs: ['F32'] });
    }
    const e = withHeader((h) => delete h.__metadata__.provenance);
    expect(loadHypernet(e).summary.origin).toBe('unknown');
  });

  it('checks the format and version before anything else', () => {
    const e = loadError(withHeader((h) => (h.__metadata__.formatVersion = '2')));
    expect(e.code).toBe('format-version');
    expect(e.message).toMatch(/version "2"; this app reads parametric-skills-hypernet version 1/);
    expect(loadError(withHeader((h) => (h.__metadata__.format = 'other'))).code).toBe('format-version');
  });

  it('names what disagrees with the config', () => {
    const config = (edit: (c: Record<string, unknown>) => void) =>
      withHeader((h) => {
        const c = JSON.parse(h.__metadata__.config);
        edit(c);
        h.__metadata__.config = JSON.stringify(c);
      });
    expect(loadError(config((c) => (c.num_heads = 5))).message).toMatch(/config\.num_heads must divide config\.d_model/);
    expect(loadError(config((c) => (c.module_out = [64]))).message).toMatch(/config\.module_out must hold one positive size per module \(3\)/);
    expect(loadError(config((c) => (c.rank = 0))).message).toMatch(/config\.rank must be a positive integer/);
    expect(loadError(withHeader((h) => (h['fc1.weight'].shape = [32, 64]))).message).toMatch(/tensor "fc1\.weight" has shape \[32, 64\], the config needs \[64, 32\]/);
    expect(loadError(withHeader((h) => delete h.queries)).message).toMatch(/tensor "queries" is missing/);
    expect(loadError(withHeader((h) => ((h.extra = h.queries), delete h.queries))).message).toMatch(/tensor "extra" is not a parameter/);
    expect(loadError(withHeader((h) => (h.__metadata__.chunkTokens = 'x'))).message).toMatch(/"chunkTokens" must be a positive integer/);
  });
});

describe('HypernetCpu', () => {
  const hypernet = new HypernetCpu(loadHypernet(bytes));
  const hidden = Float32Array.from(fixture.encoderHidden.data as number[]);
  const shape = fixture.encoderHidden.shape as EncoderShape;

  it('pools like Hypernetwork.pool', async () => {
    expectClose(await hypernet.pool(hidden, shape), fixture.pooled.data, 'pooled z');
  });

  it("gives PyTorch's A and B for every module", async () => {
    const lora = await hypernet.run(hidden, shape);
    expect(Object.keys(lora)).toEqual(Object.keys(fixture.lora));
    for (const [module, want] of Object.entries<{ A: number[]; B: number[] }>(fixture.lora)) {
      expectClose(lora[module].a, want.A, `${module}.A`);
      expectClose(lora[module].b, want.B, `${module}.B`);
    }
  });

  it('rejects encoder states of the wrong shape', async () => {
    await expect(hypernet.run(hidden, [1, shape[1] * 2, shape[2]])).rejects.toThrow(EngineError);
    await expect(hypernet.run(hidden.subarray(1), shape)).rejects.toThrow(/holds \d+ values/);
  });
});
