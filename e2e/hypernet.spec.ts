import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { call, expectClose, random, randomArray } from './kernel-check';
import * as cpu from '../src/kernels/cpu';

/**
 * WGSL kernels against their CPU twins (src/kernels/cpu.ts, float64 sums) on seeded random inputs with sizes that are
 * not multiples of the workgroup, then the whole HypernetGpu forward against PyTorch (training/hypernet.py).
 * A check passes when every element has |gpu - reference| <= atol + rtol * |reference|.
 */
const fixture = JSON.parse(readFileSync(new URL('./fixtures/tiny-random-hypernet.json', import.meta.url), 'utf8'));

/** Tolerances per kernel: fp32 sums on the GPU vs float64 sums; exp and tanh as the GPU computes them. */
const KERNEL_TOL = { atol: 1e-5, rtol: 1e-5 };
/** The hypernetwork against PyTorch, as DESIGN.md asks (1e-4 fp32). */
const PYTORCH_TOL = { atol: 1e-4, rtol: 1e-4 };

test.describe('WGSL kernels', () => {
  test.beforeEach(async ({ page }) => {
    await page.goto('/kernels.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  });

  test('linear: x W^T + b, tiled, with and without bias, with fused gelu', async ({ page }) => {
    const rand = random(1);
    const cases = [
      { rows: 127, depth: 64, cols: 32, bias: true, activation: 'none' },
      { rows: 33, depth: 17, cols: 65, bias: true, activation: 'gelu_tanh' },
      { rows: 1, depth: 5, cols: 3, bias: false, activation: 'none' },
      { rows: 301, depth: 70, cols: 45, bias: false, activation: 'gelu_tanh' },
    ] as const;
    for (const c of cases) {
      const x = randomArray(rand, c.rows * c.depth);
      const weight = randomArray(rand, c.cols * c.depth);
      const bias = c.bias ? randomArray(rand, c.cols) : null;
      const got = await call<number[]>(page, 'linear', { ...c, x, weight, bias });
      const want = cpu.linear(cpu.matrix(Float32Array.from(x), c.rows, c.depth), cpu.matrix(Float32Array.from(weight), c.cols, c.depth), bias && Float32Array.from(bias), c.activation);
      expectClose(got, want.data, KERNEL_TOL, `linear ${JSON.stringify(c)}`);
    }
    // One pipeline per form (bias, activation), whatever the sizes.
    expect(await call<number>(page, 'pipelineCount')).toBe(4);
  });

  test('rms_norm: per row, with weight, also past the 65535-workgroup fold', async ({ page }) => {
    const rand = random(2);
    for (const [rows, cols] of [[127, 64], [3, 1000], [70_001, 2]]) {
      const x = randomArray(rand, rows * cols, -3, 3);
      const weight = randomArray(rand, cols, 0.5, 1.5);
      const got = await call<number[]>(page, 'rmsNorm', { x, rows, cols, weight, eps: 1e-6 });
      const want = cpu.rmsNorm(cpu.matrix(Float32Array.from(x), rows, cols), Float32Array.from(weight), 1e-6);
      expectClose(got, want.data, KERNEL_TOL, `rms_norm [${rows}, ${cols}]`);
    }
  });

  test('layer_mix: softmax-weighted sum of the encoder layers', async ({ page }) => {
    const rand = random(3);
    for (const [layers, size] of [[3, 127 * 65], [1, 77]]) {
      const hidden = randomArray(rand, layers * size, -4, 4);
      const mix = randomArray(rand, layers, -2, 2);
      const got = await call<number[]>(page, 'layerMix', { hidden, layers, size, mix });
      expectClose(got, cpu.layerMix(Float32Array.from(hidden), Float32Array.from(mix)), KERNEL_TOL, `layer_mix ${layers}x${size}`);
    }
  });

  test('attention_pool: learned queries over up to thousands of tokens, per head', async ({ page }) => {
    const rand = random(4);
    const cases = [
      { queries: 6, dModel: 32, heads: 4, tokens: 127 },
      { queries: 5, dModel: 24, heads: 3, tokens: 2053 },
      // Head dim over the workgroup size: each thread owns several output dimensions.
      { queries: 3, dModel: 130, heads: 1, tokens: 70 },
    ];
    for (const c of cases) {
      const query = randomArray(rand, c.queries * c.dModel, -2, 2);
      const keyValue = randomArray(rand, c.tokens * 2 * c.dModel, -2, 2);
      const got = await call<number[]>(page, 'attentionPool', { ...c, query, keyValue });
      const want = cpu.attentionPool(cpu.matrix(Float32Array.from(query), c.queries, c.dModel), cpu.matrix(Float32Array.from(keyValue), c.tokens, 2 * c.dModel), c.heads);
      expectClose(got, want.data, KERNEL_TOL, `attention_pool ${JSON.stringify(c)}`);
    }
  });

  test('gelu_tanh and add: elementwise', async ({ page }) => {
    const rand = random(5);
    const x = [...randomArray(rand, 997, -12, 12), -30, 30, 0];
    expectClose(await call<number[]>(page, 'geluTanh', { x }), cpu.geluTanh(Float32Array.from(x)), KERNEL_TOL, 'gelu_tanh');
    const a = randomArray(rand, 4099);
    const b = randomArray(rand, 4099);
    expectClose(await call<number[]>(page, 'add', { a, b }), cpu.add(Float32Array.from(a), Float32Array.from(b)), { atol: 0, rtol: 0 }, 'add');
  });

  test('lora_head_write: heads scattered into a block of stacked slots, the rest untouched', async ({ page }) => {
    const rand = random(6);
    const [layers, modules, depth] = [3, 2, 20];
    const target = { modules, module: 1, headRows: 7, headCols: 5, rowOffset: 2, colOffset: 11, scale: 0.75 };
    const dstShape = [layers, 9, 17] as [number, number, number];
    const pooled = randomArray(rand, layers * modules * depth);
    const weight = randomArray(rand, target.headRows * target.headCols * depth);
    const bias = randomArray(rand, target.headRows * target.headCols);
    const dst = randomArray(rand, layers * 9 * 17, 100, 200);
    const got = await call<number[]>(page, 'loraHeadWrite', { pooled, targets: layers * modules, depth, weight, bias, dst, dstShape, target });
    const want = Float32Array.from(dst);
    cpu.loraHeadWrite(cpu.matrix(Float32Array.from(pooled), layers * modules, depth), cpu.matrix(Float32Array.from(weight), 35, depth), Float32Array.from(bias), want, 9, 17, target);
    expectClose(got, want, KERNEL_TOL, 'lora_head_write');
    const untouched = want.map((v, i) => (v === dst[i] ? 1 : 0)).reduce((n: number, v) => n + v, 0);
    expect(untouched).toBe(layers * (9 * 17 - 35));
  });

  test('a shape mismatch names the kernel and leaves the device usable', async ({ page }) => {
    expect(await call<string>(page, 'badLinear')).toMatch(/^linear: weight has shape \[5, 6\], expected \[5, 4\]/);
    const got = await call<number[]>(page, 'add', { a: [1, 2], b: [3, 4] });
    expect(got).toEqual([4, 6]);
  });
});

test.describe('HypernetGpu', () => {
  const hidden: number[] = fixture.encoderHidden.data;
  const shape: [number, number, number] = fixture.encoderHidden.shape;

  test.beforeEach(async ({ page }) => {
    await page.goto('/kernels.html');
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true');
  });

  test('the whole forward equals PyTorch: pooled z and every A and B', async ({ page }) => {
    const out = await call<{ pooled: number[]; lora: Record<string, { A: number[]; B: number[] }>; coldMs: number; warmMs: number }>(page, 'hypernetRun', hidden, shape);
    expectClose(out.pooled, fixture.pooled.data, PYTORCH_TOL, 'pooled z');
    expect(Object.keys(out.lora)).toEqual(Object.keys(fixture.lora));
    for (const [m, want] of Object.entries<{ A: number[]; B: number[] }>(fixture.lora)) {
      expectClose(out.lora[m].A, want.A, PYTORCH_TOL, `${m}.A`);
      expectClose(out.lora[m].B, want.B, PYTORCH_TOL, `${m}.B`);
    }
    test.info().annotations.push({ type: 'forward-ms', description: `HypernetGpu.run: ${out.coldMs.toFixed(1)} ms cold, ${out.warmMs.toFixed(1)} ms warm` });
  });

  test('writeSlot fills slot 2 of 4 with A and 0.5 * B, other slots untouched', async ({ page }) => {
    const [slots, slot, scale] = [4, 2, 0.5];
    const rand = random(7);
    // Sentinels far from any LoRA value, so a write to the wrong place cannot pass.
    const initial: Record<string, { A: number[]; B: number[] }> = {};
    for (const [m, t] of Object.entries<{ A: number[]; B: number[] }>(fixture.lora)) {
      initial[m] = { A: randomArray(rand, t.A.length * slots, 100, 200), B: randomArray(rand, t.B.length * slots, 100, 200) };
    }
    const out = await call<Record<string, { A: number[]; B: number[] }>>(page, 'hypernetWriteSlot', hidden, shape, slot, scale, slots, initial);
    for (const [m, want] of Object.entries<{ A: number[]; B: number[]; shapeA: number[]; shapeB: number[] }>(fixture.lora)) {
      const [layers, fanIn, rank] = want.shapeA;
      const fanOut = want.shapeB[2];
      const total = slots * rank;
      // Stacked A [layers, in, slots*rank] holds slot 2 in columns 8..11; stacked B [layers, slots*rank, out] in rows 8..11.
      const slotA: number[] = [];
      const slotB: number[] = [];
      const insideA = new Set<number>();
      const insideB = new Set<number>();
      for (let l = 0; l < layers; l++) {
        for (let i = 0; i < fanIn; i++) {
          for (let j = 0; j < rank; j++) {
            const at = (l * fanIn + i) * total + slot * rank + j;
            insideA.add(at);
            slotA.push(out[m].A[at]);
          }
        }
        for (let j = 0; j < rank; j++) {
          for (let o = 0; o < fanOut; o++) {
            const at = (l * total + slot * rank + j) * fanOut + o;
            insideB.add(at);
            slotB.push(out[m].B[at]);
          }
        }
      }
      expectClose(slotA, want.A, PYTORCH_TOL, `${m}.A in slot ${slot}`);
      expectClose(slotB, want.B.map((v) => v * scale), PYTORCH_TOL, `${m}.B in slot ${slot}`);
      // Everything outside slot 2 comes back bit for bit.
      expect(out[m].A.filter((v, i) => !insideA.has(i) && v !== initial[m].A[i]).length, `${m}.A outside the slot`).toBe(0);
      expect(out[m].B.filter((v, i) => !insideB.has(i) && v !== initial[m].B[i]).length, `${m}.B outside the slot`).toBe(0);
    }
  });
});
