import { expect, test } from '@playwright/test';
import * as cpu from '../src/kernels/decode/cpu';
import { ropeTables } from '../src/kernels/decode/decoder';
import type { Epilogue, WeightFormat } from '../src/kernels/decode/programs';
import { call, expectClose, random, randomArray } from './kernel-check';

/**
 * Each kernel of the WGSL decoder (src/kernels/decode/programs/) against its CPU twin (src/kernels/decode/cpu.ts,
 * float64 sums) on seeded random inputs, with sizes that are not multiples of the workgroup or output groups,
 * bound exactly as the engine binds them (inputs, then outputs, then uniforms; per-step values in `counters`).
 */
const TOL = { atol: 2e-5, rtol: 2e-5 };

type Input = { data: number[]; type: 'f32' | 'u32' | 'u8' };
const f32 = (data: ArrayLike<number>): Input => ({ data: Array.from(data), type: 'f32' });
const u32 = (data: number[]): Input => ({ data, type: 'u32' });
const u8 = (data: ArrayLike<number>): Input => ({ data: Array.from(data), type: 'u8' });
/** counters: rows of the chunk, position of row 0, seed, temperature (as f32 bits). */
function counters(rows: number, past: number, seed = 0, temperature = 0): Input {
  const bits = new Uint32Array(new Float32Array([temperature]).buffer)[0];
  return u32([rows, past, seed, bits]);
}

type Page = import('@playwright/test').Page;
const run = (page: Page, program: string, form: unknown, inputs: Input[], outputs: Input[], uniforms: Record<string, number>) =>
  call<number[][]>(page, 'decodeKernel', { program, form, inputs, outputs, uniforms });

/** Random weights of a format: the buffers the kernel binds and the dequantized matrix for the reference. */
function randomWeight(rand: ReturnType<typeof random>, format: WeightFormat, n: number, k: number) {
  if (format === 'f32') {
    const w = randomArray(rand, n * k, -0.5, 0.5);
    return { buffers: [f32(w)], dense: Float32Array.from(w) };
  }
  const bytes = format === 'q8' ? n * k : (n * k) / 2;
  const codes = Uint8Array.from({ length: bytes }, () => Math.floor(rand(0, 256)));
  const scales = Float32Array.from(randomArray(rand, (n * k) / 32, 0.001, 0.02));
  const zeros = format === 'q4z' ? Uint8Array.from({ length: n * Math.ceil(k / 64) }, () => Math.floor(rand(0, 256))) : null;
  return {
    buffers: [u8(codes), f32(scales), ...(zeros ? [u8(zeros)] : [])],
    dense: cpu.dequantize(format, codes, scales, zeros, n, k),
  };
}

test.describe('WGSL decoder kernels', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/kernels.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  });

  const cases: { format: WeightFormat; epilogue: Epilogue; bias: boolean; lora: boolean; activation: 'silu' | 'gelu_tanh' }[] = [
    { format: 'f32', epilogue: 'store', bias: true, lora: true, activation: 'silu' },
    { format: 'q8', epilogue: 'accumulate', bias: false, lora: true, activation: 'silu' },
    { format: 'q4', epilogue: 'gated', bias: false, lora: false, activation: 'silu' },
    { format: 'q4z', epilogue: 'gated', bias: true, lora: true, activation: 'gelu_tanh' },
  ];
  for (const c of cases) {
    test(`fused linear and matmul, ${c.format} weights, ${c.epilogue}${c.bias ? ', bias' : ''}${c.lora ? ', LoRA' : ''}`, async ({ page }) => {
      const rand = random(11);
      // K = 96: three blocks (an odd count, so 4-bit zero-point rows end half-way through a byte); N = 70: not a
      // multiple of the 4 or 32 outputs of a workgroup, nor of the 32-wide matmul tile.
      const depth = 96;
      const cols = 70;
      const rank = 6;
      const layers = 2;
      const layer = 1;
      const w = randomWeight(rand, c.format, cols, depth);
      const bias = c.bias ? Float32Array.from(randomArray(rand, cols)) : null;
      const loraB = Float32Array.from(randomArray(rand, layers * rank * cols, -0.3, 0.3));
      for (const [program, rows, capacity, colsPerGroup] of [
        ['fused_linear', 1, 1, 4],
        ['fused_linear', 1, 1, 32],
        ['fused_matmul', 5, 32, 0],
      ] as const) {
        const x = Float32Array.from(randomArray(rand, capacity * depth));
        const xa = Float32Array.from(randomArray(rand, capacity * rank));
        const gate = Float32Array.from(randomArray(rand, capacity * cols, -3, 3));
        const y0 = Float32Array.from(randomArray(rand, capacity * cols));
        const inputs = [f32(x), ...w.buffers, ...(bias ? [f32(bias)] : []), ...(c.lora ? [f32(xa), f32(loraB)] : []), ...(c.epilogue === 'gated' ? [f32(gate)] : []), counters(rows, 0)];
        const form = { format: c.format, bias: c.bias, lora: c.lora, epilogue: c.epilogue, activation: c.activation, colsPerGroup };
        const uniforms: Record<string, number> =
          program === 'fused_linear'
            ? { capacity, fixedRows: 0, depth, cols, blocks: depth / 32, layer, rank }
            : { rows: capacity, cols, depth, blocks: depth / 32, layer, rank };
        const [y] = await run(page, program, form, inputs, [f32(y0)], uniforms);
        const want = cpu.fusedLinear({
          x, rows, depth, cols, weight: w.dense, bias, lora: c.lora ? { xa, b: loraB, layer, rank } : null,
          epilogue: c.epilogue, activation: c.activation, gate, y: y0,
        });
        // Rows past the chunk are left as they were.
        expectClose(y, want, TOL, `${program} ${colsPerGroup || 'tiled'} rows ${rows}`);
      }
    });
  }

  test('LoRA down-projection x A, per-row and tiled', async ({ page }) => {
    const rand = random(12);
    const depth = 70;
    const rank = 12;
    const layers = 3;
    const layer = 2;
    const a = Float32Array.from(randomArray(rand, layers * depth * rank));
    const x = Float32Array.from(randomArray(rand, 32 * depth));
    const [one] = await run(page, 'lora_down', {}, [f32(x), f32(a), counters(1, 0)], [f32(new Float32Array(rank))], { capacity: 1, depth, rank, layer });
    expectClose(one, cpu.loraDown(x, 1, depth, a, layer, rank), TOL, 'lora_down');
    const [tiled] = await run(page, 'lora_down_matmul', {}, [f32(x), f32(a)], [f32(new Float32Array(32 * rank))], { rows: 32, cols: rank, depth, layer });
    expectClose(tiled, cpu.loraDown(x, 32, depth, a, layer, rank), TOL, 'lora_down_matmul');
  });

  test('RMSNorm: rows, last row, added into the residual; (1 + w) weights', async ({ page }) => {
    const rand = random(13);
    const dim = 80;
    const rows = 3;
    const x = Float32Array.from(randomArray(rand, 4 * dim, -4, 4));
    const weight = Float32Array.from(randomArray(rand, dim));
    const y0 = Float32Array.from(randomArray(rand, 4 * dim));
    for (const [mode, offset] of [['rows', 0], ['last', 1], ['add', 1]] as const) {
      const [y] = await run(page, 'rms_norm_rows', { mode }, [f32(x), f32(weight), counters(rows, 0)], [f32(y0)], { capacity: 4, dim, eps: 1e-6, offset, rank: 0, layer: 0 });
      expectClose(y, cpu.rmsNormRows(mode, x, rows, dim, weight, 1e-6, offset, y0), TOL, `rms_norm ${mode}`);
    }
    // With the down-projections x A of two adapter modules that read the normed rows, in the same dispatch.
    const [rank, layers, layer] = [7, 2, 1];
    const a0 = Float32Array.from(randomArray(rand, layers * dim * rank));
    const a1 = Float32Array.from(randomArray(rand, layers * dim * rank));
    const zeros = f32(new Float32Array(4 * rank));
    const [y, xa0, xa1] = await run(page, 'rms_norm_rows', { mode: 'rows', loraDowns: 2 }, [f32(x), f32(weight), counters(rows, 0), f32(a0), f32(a1)], [f32(y0), zeros, zeros], {
      capacity: 4, dim, eps: 1e-6, offset: 1, rank, layer,
    });
    const normed = cpu.rmsNormRows('rows', x, rows, dim, weight, 1e-6, 1, y0);
    expectClose(y, normed, TOL, 'rms_norm rows + x A');
    expectClose(xa0.slice(0, rows * rank), cpu.loraDown(normed, rows, dim, a0, layer, rank), TOL, 'x A (module 0)');
    expectClose(xa1.slice(0, rows * rank), cpu.loraDown(normed, rows, dim, a1, layer, rank), TOL, 'x A (module 1)');
  });

  test('embedding lookup from an fp32 or an 8-bit table, scaled', async ({ page }) => {
    const rand = random(14);
    const hidden = 64;
    const vocab = 50;
    const ids = [3, 49, 0, 17];
    const table = randomWeight(rand, 'f32', vocab, hidden);
    const [a] = await run(page, 'embed', { form: 'f32' }, [...table.buffers, u32(ids), counters(ids.length, 0)], [f32(new Float32Array(ids.length * hidden))], { capacity: ids.length, hidden, blocks: 2, scale: 8 });
    expectClose(a, cpu.embed(table.dense, hidden, ids, 8), TOL, 'embed f32');
    const q8 = randomWeight(rand, 'q8', vocab, hidden);
    const [b] = await run(page, 'embed', { form: 'q8' }, [...q8.buffers, u32(ids), counters(ids.length, 0)], [f32(new Float32Array(ids.length * hidden))], { capacity: ids.length, hidden, blocks: 2, scale: 25.3 });
    expectClose(b, cpu.embed(q8.dense, hidden, ids, 25.3), TOL, 'embed q8');
  });

  test('RoPE with and without QK-norm: q in place, k and v into the cache at their positions', async ({ page }) => {
    const rand = random(15);
    const [rows, past, heads, headDim, layers, layer, maxContext] = [3, 5, 2, 32, 2, 1, 12];
    const { cos, sin } = ropeTables(10000, headDim, maxContext);
    const src = Float32Array.from(randomArray(rand, rows * heads * headDim, -2, 2));
    const normWeight = Float32Array.from(randomArray(rand, headDim));
    const cache0 = Float32Array.from(randomArray(rand, layers * heads * maxContext * headDim));
    const uniforms = { capacity: 4, heads, headDim, layer, maxContext, eps: 1e-6, offset: 1 };
    for (const qkNorm of [false, true]) {
      const norm = qkNorm ? [f32(normWeight)] : [];
      const [q] = await run(page, 'rope', { mode: 'q', qkNorm }, [...norm, f32(cos), f32(sin), counters(rows, past)], [f32(src)], uniforms);
      const args = { src, rows, heads, headDim, past, normWeight: qkNorm ? normWeight : null, eps: 1e-6, offset: 1, cos, sin, layer, maxContext };
      expectClose(q, cpu.rope({ ...args, mode: 'q', dst: src }), TOL, `rope q ${qkNorm}`);
      const [k] = await run(page, 'rope', { mode: 'k', qkNorm }, [f32(src), ...norm, f32(cos), f32(sin), counters(rows, past)], [f32(cache0)], uniforms);
      expectClose(k, cpu.rope({ ...args, mode: 'k', dst: cache0 }), TOL, `rope k ${qkNorm}`);
    }
    const [v] = await run(page, 'rope', { mode: 'v', qkNorm: false }, [f32(src), counters(rows, past)], [f32(cache0)], uniforms);
    expectClose(v, cpu.rope({ src, rows, heads, headDim, past, normWeight: null, eps: 0, offset: 0, cos, sin, layer, maxContext, mode: 'v', dst: cache0 }), TOL, 'rope v');
  });

  test('grouped-query attention over the cache, global and sliding window', async ({ page }) => {
    const rand = random(16);
    const [rows, past, heads, kvHeads, headDim, layers, layer, maxContext] = [3, 70, 4, 2, 40, 2, 1, 80];
    const q = Float32Array.from(randomArray(rand, 4 * heads * headDim, -2, 2));
    const keys = Float32Array.from(randomArray(rand, layers * kvHeads * maxContext * headDim, -2, 2));
    const values = Float32Array.from(randomArray(rand, layers * kvHeads * maxContext * headDim));
    for (const window of [0, 5]) {
      const scores = new Float32Array(4 * heads * maxContext);
      const [out] = await run(page, 'attention', {}, [f32(q), f32(keys), f32(values), counters(rows, past)], [f32(new Float32Array(4 * heads * headDim)), f32(scores)], {
        capacity: 4, heads, kvHeads, headDim, layer, maxContext, window, scale: 24 ** -0.5,
      });
      const want = cpu.attention({ q, keys, values, rows, past, heads, kvHeads, headDim, layer, maxContext, window, scale: 24 ** -0.5 });
      expectClose(out.slice(0, want.length), want, TOL, `attention window ${window}`);
    }
  });

  test('token choice on the GPU: argmax with the lowest index on ties, and seeded Gumbel sampling', async ({ page }) => {
    const rand = random(17);
    const size = 10_000;
    const perGroup = 4096;
    const groups = Math.ceil(size / perGroup);
    const logits = Float32Array.from(randomArray(rand, size, -5, 5));
    logits[7321] = 9;
    logits[9000] = 9; // a tie: the first index wins, as torch.argmax
    const choose = async (temperature: number, seed: number) => {
      const [values, indices] = await run(page, 'argmax_partial', {}, [f32(logits), counters(1, 0, seed, temperature)], [f32(new Float32Array(groups)), u32(new Array(groups).fill(0))], { size, perGroup });
      const [token] = await run(page, 'argmax_final', {}, [f32(values), u32(indices)], [u32([0])], { groups });
      return token[0];
    };
    expect(await choose(0, 1)).toBe(cpu.argmax(logits));
    expect(await choose(0, 1)).toBe(7321);
    // Sampling: the same seed gives the same token; different seeds spread over the two top logits (the rest holds ~2% of the mass at T = 0.3).
    const draws = [];
    for (let seed = 1; seed <= 12; seed++) draws.push(await choose(0.3, seed * 2654435761));
    expect(await choose(0.3, 2654435761)).toBe(draws[0]);
    expect(new Set(draws).size).toBeGreaterThan(1);
    expect(draws.filter((t) => t === 7321 || t === 9000).length).toBeGreaterThanOrEqual(9);
  });
});
