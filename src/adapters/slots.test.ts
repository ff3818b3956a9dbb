import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleShape, validateManifest, type LoraModule } from '../model/config';
import type { AdapterModules } from '../model/engine';
import { composeSlots } from './slots';

const manifest = validateManifest(JSON.parse(readFileSync(new URL('../../public/models/tiny-random/manifest.json', import.meta.url), 'utf8')));
const { architecture: arch, lora } = manifest;

function randomAdapter(seed: number): AdapterModules {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  const out: AdapterModules = {};
  for (const m of lora.targetModules) {
    const [fanIn, fanOut] = moduleShape(arch, m as LoraModule);
    out[m] = {
      a: Float32Array.from({ length: arch.numHiddenLayers * fanIn * lora.rank }, rnd),
      b: Float32Array.from({ length: arch.numHiddenLayers * lora.rank * fanOut }, rnd),
    };
  }
  return out;
}

/** x A B for layer l of a stacked [L, in, R] / [L, R, out] pair, by plain loops. */
function apply(x: number[], a: Float32Array, b: Float32Array, l: number, fanIn: number, r: number, fanOut: number): number[] {
  const h = Array.from({ length: r }, (_, j) => x.reduce((s, xi, i) => s + xi * a[(l * fanIn + i) * r + j], 0));
  return Array.from({ length: fanOut }, (_, o) => h.reduce((s, hj, j) => s + hj * b[(l * r + j) * fanOut + o], 0));
}

describe('composeSlots', () => {
  it('gives the sum of each adapter delta times alpha / rank * scale', () => {
    const ads = [randomAdapter(1), randomAdapter(2)];
    const scales = [1, 0.5];
    const stacked = composeSlots(ads.map((modules, k) => ({ modules, scale: scales[k] })), arch, lora)!;
    const [fanIn, fanOut] = moduleShape(arch, 'q_proj');
    const x = Array.from({ length: fanIn }, (_, i) => Math.sin(i));
    const got = apply(x, stacked.q_proj.a, stacked.q_proj.b, 1, fanIn, lora.rank * lora.slots, fanOut);
    const want = ads
      .map((ad, k) => apply(x, ad.q_proj.a, ad.q_proj.b, 1, fanIn, lora.rank, fanOut).map((v) => v * (lora.alpha / lora.rank) * scales[k]))
      .reduce((s, v) => s.map((x2, i) => x2 + v[i]));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
  });

  it('leaves unused slots at zero and returns null with no adapter', () => {
    const stacked = composeSlots([{ modules: randomAdapter(3), scale: 1 }], arch, lora)!;
    const [fanIn] = moduleShape(arch, 'v_proj');
    const total = lora.rank * lora.slots;
    for (let i = 0; i < fanIn; i++) for (let c = lora.rank; c < total; c++) expect(stacked.v_proj.a[i * total + c]).toBe(0);
    expect(composeSlots([], arch, lora)).toBeNull();
  });

  it('refuses more adapters than slots', () => {
    const many = Array.from({ length: lora.slots + 1 }, (_, k) => ({ modules: randomAdapter(k), scale: 1 }));
    expect(() => composeSlots(many, arch, lora)).toThrowError(/slots/);
  });
});
