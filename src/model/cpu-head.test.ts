import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CpuHead, quantizeRow, type CpuHeadInfo } from './cpu-head';

// Written by training/export/cpu_graph.py; its logits are onnxruntime's DynamicQuantizeMatMul (test_cpu_graph.py).
const fx = JSON.parse(readFileSync(new URL('./cpu-head.fixture.json', import.meta.url), 'utf8')) as { hidden: number[]; rows: number[][]; scale: number[]; logits: number[] };

/** A weights file as the pack lays it out: some bytes, the int8 rows, more bytes, the float32 scales. */
function weightsFile(): { file: Uint8Array; info: CpuHeadInfo } {
  const v = fx.rows.length;
  const k = fx.rows[0].length;
  const rows = Int8Array.from(fx.rows.flat());
  const scale = Float32Array.from(fx.scale);
  const file = new Uint8Array(100 + rows.byteLength + 36 + scale.byteLength);
  file.set(new Uint8Array(rows.buffer), 100);
  const scaleAt = 100 + rows.byteLength + 36;
  file.set(new Uint8Array(scale.buffer), scaleAt);
  return {
    file,
    info: {
      input: 'head_input',
      weight: { name: 'w', offset: 100, bytes: rows.byteLength, dtype: 'int8', shape: [v, k] },
      scale: { name: 's', offset: scaleAt, bytes: scale.byteLength, dtype: 'float32', shape: [v] },
    },
  };
}

describe('CpuHead (WebAssembly SIMD LM head of a CPU graph)', () => {
  it("gives onnxruntime's DynamicQuantizeMatMul logits", async () => {
    const { file, info } = weightsFile();
    const head = await CpuHead.create(file, info);
    const got = head.logits(Float32Array.from(fx.hidden));
    expect(got.length).toBe(fx.logits.length);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - fx.logits[i])).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(fx.logits[i])));
    // Again: the kernel keeps no state between calls.
    expect(Array.from(head.logits(Float32Array.from(fx.hidden)))).toEqual(Array.from(got));
  });

  it('quantizes as ONNX DynamicQuantizeLinear: zero stays exact, halves go to even, the range holds 0', () => {
    const { centred, scale } = quantizeRow(Float32Array.from([0, 2.55, 1.275, -0.0]));
    expect(scale).toBe(Math.fround(Math.fround(2.55) / 255));
    expect(Array.from(centred)).toEqual([0, 255, 128, 0]); // 1.275 / 0.01 = 127.5 -> 128 (even)
    expect(quantizeRow(new Float32Array(8)).scale).toBe(0);
  });

  it('refuses a head whose table does not fit its file or the kernel', async () => {
    const { file, info } = weightsFile();
    await expect(CpuHead.create(file.subarray(0, 200), info)).rejects.toThrow(/past the end/);
    await expect(CpuHead.create(file, { ...info, weight: { ...info.weight, shape: [info.weight.shape[0], 60] } })).rejects.toThrow(/hidden % 16/);
  });
});

it('cpu-head-wasm.ts is what cpu-head.wat compiles to', () => {
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-cpu-head.mjs', import.meta.url)), '--check'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
});
