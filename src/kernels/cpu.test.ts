import { describe, expect, it } from 'vitest';
import * as cpu from './cpu';

/** The CPU twins are the reference of the WGSL kernel tests, so they are checked by hand here first. */
const f32 = (v: number[]) => Float32Array.from(v);
const close = (got: ArrayLike<number>, want: number[], atol = 1e-6) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(Math.abs(got[i] - w), `index ${i}: ${got[i]} vs ${w}`).toBeLessThanOrEqual(atol));
};

describe('cpu kernels', () => {
  it('linear is x W^T + b with W [out, in], and fuses gelu', () => {
    const x = cpu.matrix(f32([1, 2, 3, 4, 5, 6]), 2, 3);
    const w = cpu.matrix(f32([1, 0, -1, 0.5, 0.5, 0.5]), 2, 3);
    const y = cpu.linear(x, w, f32([10, 0]));
    expect([y.rows, y.cols]).toEqual([2, 2]);
    close(y.data, [1 - 3 + 10, 3, 4 - 6 + 10, 7.5]);
    close(cpu.linear(x, w, null, 'gelu_tanh').data, [-2, 3, -2, 7.5].map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))));
  });

  it('linear gives each output the plain dot product, in every blocked and leftover row and column', () => {
    // 9 rows (two blocks of 4 and one left over) x 5 outputs (two pairs and one left over) x depth 13.
    let seed = 1;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const [rows, cols, depth] = [9, 5, 13];
    const x = cpu.matrix(Float32Array.from({ length: rows * depth }, rand), rows, depth);
    const w = cpu.matrix(Float32Array.from({ length: cols * depth }, rand), cols, depth);
    const bias = Float32Array.from({ length: cols }, rand);
    const want: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        let acc = bias[c];
        for (let k = 0; k < depth; k++) acc += x.data[r * depth + k] * w.data[c * depth + k];
        want.push(Math.fround(acc));
      }
    }
    // Same sums in the same order: equal to the last bit.
    expect(Array.from(cpu.linear(x, w, bias).data)).toEqual(want);
    const gelu = Array.from(cpu.linear(x, w, bias, 'gelu_tanh').data);
    gelu.forEach((g, i) => expect(Math.abs(g - 0.5 * want[i] * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (want[i] + 0.044715 * want[i] ** 3))))).toBeLessThan(1e-6));
  });

  it('gelu_tanh equals PyTorch gelu(approximate="tanh")', () => {
    // torch.nn.functional.gelu(torch.tensor([...], dtype=torch.float64), approximate="tanh")
    close(cpu.geluTanh(f32([-12, -3, -0.5, 0, 0.5, 1, 3, 12])), [-0, -0.0036373921, -0.1542859902, 0, 0.3457140098, 0.8411919906, 2.9963626079, 12]);
  });

  it('rms_norm divides by the root mean square (with eps) and applies the weight', () => {
    const y = cpu.rmsNorm(cpu.matrix(f32([3, 4, 0, 2]), 2, 2), f32([1, 2]), 1e-6);
    const r0 = Math.sqrt(12.5 + 1e-6);
    const r1 = Math.sqrt(2 + 1e-6);
    close(y.data, [3 / r0, 8 / r0, 0, 4 / r1]);
  });

  it('layer_mix weights layers by the softmax of the mix logits', () => {
    const w1 = Math.exp(1) / (1 + Math.exp(1));
    close(cpu.layerMix(f32([1, 2, 10, 20]), f32([0, 1])), [(1 - w1) * 1 + w1 * 10, (1 - w1) * 2 + w1 * 20], 1e-5);
  });

  it('attention_pool attends per head with keys then values in one row', () => {
    // D = 2, two heads of dim 1, two tokens: keyValue rows are [k_h0, k_h1, v_h0, v_h1].
    const query = cpu.matrix(f32([1, -1]), 1, 2);
    const keyValue = cpu.matrix(f32([0, 0, 5, 7, 2, 1, -5, 9]), 2, 4);
    const head0 = Math.exp(2) / (1 + Math.exp(2)); // scores 0 and 2 (scale 1/sqrt(1))
    const head1 = Math.exp(-1) / (1 + Math.exp(-1)); // scores 0 and -1
    close(cpu.attentionPool(query, keyValue, 2).data, [(1 - head0) * 5 + head0 * -5, (1 - head1) * 7 + head1 * 9], 1e-5);
  });

  it('add adds', () => {
    close(cpu.add(f32([1, 2]), f32([0.5, -2])), [1.5, 0]);
  });

  it('lora_head_write views each layer head as a matrix and writes it scaled at an offset', () => {
    // Two layers x two modules; module 1's head has out 4 = [2, 2], written at column offset 1 of [2, 2, 3].
    const pooled = cpu.matrix(f32([0, 0, 1, 0, 0, 0, 0, 1]), 4, 2);
    const weight = cpu.matrix(f32([1, 0, 2, 0, 0, 1, 0, 2]), 4, 2);
    const dst = new Float32Array(12).fill(-1);
    cpu.loraHeadWrite(pooled, weight, f32([0, 0, 0, 1]), dst, 2, 3, { modules: 2, module: 1, headRows: 2, headCols: 2, rowOffset: 0, colOffset: 1, scale: 0.5 });
    // layer 0: z = [1, 0] -> head [1, 2, 0, 1]; layer 1: z = [0, 1] -> head [0, 0, 1, 3]
    close(dst, [-1, 0.5, 1, -1, 0, 0.5, -1, 0, 0, -1, 0.5, 1.5]);
  });
});
