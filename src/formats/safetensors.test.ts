import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PackError } from '../errors';
import { parseSafetensors } from './safetensors';

const packDir = new URL('../../public/models/tiny-random/', import.meta.url);
const hypernetBytes = new Uint8Array(readFileSync(new URL('hypernet.safetensors', packDir)));
const weightsBytes = new Uint8Array(readFileSync(new URL('weights.safetensors', packDir)));
const manifest = JSON.parse(readFileSync(new URL('manifest.json', packDir), 'utf8'));

/** A safetensors file from a header object and raw data bytes. */
function build(header: Record<string, unknown>, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function parseError(bytes: Uint8Array): PackError {
  try {
    parseSafetensors(bytes, 'test.safetensors');
  } catch (e) {
    if (e instanceof PackError) return e;
    throw e;
  }
  throw new Error('the file parsed');
}

describe('parseSafetensors', () => {
  it('reads the hypernetwork: metadata, shapes and values', () => {
    const f = parseSafetensors(hypernetBytes);
    expect(f.metadata.format).toBe('parametric-skills-hypernet');
    expect(f.metadata.formatVersion).toBe('1');
    expect(JSON.parse(f.metadata.config).modules).toEqual(['q_proj', 'v_proj', 'down_proj']);
    expect(f.tensors.get('in_proj.weight')).toMatchObject({ dtype: 'F32', shape: [32, 64] });
    expect(f.tensors.get('head_a.2.weight')?.shape).toEqual([512, 32]);
    expect(f.tensors.get('queries')?.shape).toEqual([6, 32]);
    // training/hypernet.py initialises these to constants, so any offset error shows up as other numbers.
    // make_test_pack.py draws the norms from U(0.5, 1.5) and the layer mix from N(0, 1); B biases stay at zero.
    for (const norm of ['in_norm', 'out_norm']) {
      const values = [...f.float32(norm)];
      expect(values.every((v) => v >= 0.5 && v <= 1.5)).toBe(true);
      expect(new Set(values).size).toBeGreaterThan(1);
    }
    expect([...f.float32('head_b.1.bias')].every((v) => v === 0)).toBe(true);
    expect(f.float32('layer_mix')).toHaveLength(2);
    const inBias = f.float32('in_proj.bias');
    expect(inBias.length).toBe(32);
    expect(inBias.some((v) => v !== 0)).toBe(true);
  });

  it('returns views into the bytes when aligned, and equal copies when not', () => {
    const aligned = parseSafetensors(hypernetBytes).float32('fc1.weight');
    expect(aligned.buffer).toBe(hypernetBytes.buffer);
    const shifted = new Uint8Array(hypernetBytes.length + 1);
    shifted.set(hypernetBytes, 1);
    const copy = parseSafetensors(shifted.subarray(1)).float32('fc1.weight');
    expect(copy.buffer).not.toBe(shifted.buffer);
    expect(copy).toEqual(aligned);
  });

  it('reads the model weights with the shapes the manifest implies', () => {
    const a = manifest.architecture;
    const f = parseSafetensors(weightsBytes);
    expect(f.tensors.get('model.embed_tokens.weight')?.shape).toEqual([a.vocabSize, a.hiddenSize]);
    for (let l = 0; l < a.numHiddenLayers; l++) {
      expect(f.tensors.get(`model.layers.${l}.self_attn.q_proj.weight`)?.shape).toEqual([a.numAttentionHeads * a.headDim, a.hiddenSize]);
      expect(f.tensors.get(`model.layers.${l}.mlp.down_proj.weight`)?.shape).toEqual([a.hiddenSize, a.intermediateSize]);
    }
    for (const t of f.tensors.values()) expect(f.float32(t.name).length).toBe(t.shape.reduce((n, d) => n * d, 1));
  });

  it('widens F16 and BF16 tensors to f32 (IEEE bit patterns: normal, subnormal, signed zero, infinity, largest)', () => {
    const f16 = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x8000, 0x7bff, 0x7c00, 0xfc00];
    const f16Values = [1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, -0, 65504, Infinity, -Infinity];
    const bf16 = [0x3f80, 0xc040, 0x3eab, 0x0001, 0x7f7f];
    const bf16Values = [1, -3, 0.333984375, 2 ** -133, 3.3895313892515355e38];
    const data = new Uint8Array(2 * (f16.length + bf16.length) + 1); // the odd byte leaves `b` unaligned
    const view = new DataView(data.buffer);
    f16.forEach((h, i) => view.setUint16(2 * i, h, true));
    bf16.forEach((h, i) => view.setUint16(2 * f16.length + 1 + 2 * i, h, true));
    const file = parseSafetensors(
      build(
        {
          a: { dtype: 'F16', shape: [f16.length], data_offsets: [0, 2 * f16.length] },
          b: { dtype: 'BF16', shape: [bf16.length], data_offsets: [2 * f16.length + 1, data.length] },
        },
        data,
      ),
      'test.safetensors',
    );
    expect(Array.from(file.float32('a'))).toEqual(f16Values);
    expect(Object.is(file.float32('a')[5], -0)).toBe(true);
    expect(Array.from(file.float32('b'))).toEqual(Array.from(Float32Array.from(bf16Values)));
    const nan = parseSafetensors(build({ n: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, new Uint8Array([0x01, 0x7e])), 'test.safetensors');
    expect(Number.isNaN(nan.float32('n')[0])).toBe(true);
  });

  it('names the file and the tensor in its errors', () => {
    const four = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    expect(parseError(new Uint8Array(4)).code).toBe('truncated');
    expect(parseError(build({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, four).subarray(0, 20)).message).toMatch(/test\.safetensors: header of \d+ bytes runs past the end/);
    const notJson = build({});
    notJson[8] = 0x7b + 1;
    expect(parseError(notJson).message).toMatch(/header is not JSON/);
    expect(parseError(build({ w: { dtype: 'Q4', shape: [4], data_offsets: [0, 16] } }, four)).message).toMatch(/tensor "w" has unknown dtype "Q4"/);
    const pastEnd = parseError(build({ w: { dtype: 'F32', shape: [8], data_offsets: [0, 32] } }, four));
    expect(pastEnd.code).toBe('truncated');
    expect(pastEnd.message).toMatch(/tensor "w" ends at data byte 32, past the end of the data \(16 bytes\)/);
    expect(parseError(build({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } }, four)).message).toMatch(/tensor "w" holds 16 bytes, but F32 \[3\] needs 12/);
    expect(parseError(build({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 4] } }, four)).message).toMatch(/tensor "w" has bad data_offsets/);
    const overlap = build({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, four);
    expect(parseError(overlap).message).toMatch(/tensors "a" and "b" overlap/);
    expect(parseError(build({ __metadata__: { n: 3 } })).message).toMatch(/__metadata__\.n is not a string/);
    const ints = parseSafetensors(build({ i: { dtype: 'I32', shape: [4], data_offsets: [0, 16] } }, four), 'test.safetensors');
    expect(() => ints.float32('i')).toThrow(/tensor "i" is I32, expected F32, F16 or BF16/);
    expect(() => ints.float32('nope')).toThrow(/no tensor "nope"/);
  });
});
