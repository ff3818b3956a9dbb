import { describe, expect, it } from 'vitest';
import { argmax, sampleToken, seededRandom } from './sampling';

describe('sampleToken', () => {
  const logits = Float32Array.from([0.5, 2.0, 1.0, -1.0]);

  it('is greedy at temperature 0', () => {
    expect(sampleToken(logits, { temperature: 0, topP: 1 }, Math.random)).toBe(1);
    expect(argmax([3, 1, 3])).toBe(0);
  });

  it('keeps only the top token when top-p is tiny', () => {
    const rnd = seededRandom(1);
    for (let i = 0; i < 200; i++) expect(sampleToken(logits, { temperature: 1, topP: 0.01 }, rnd)).toBe(1);
  });

  it('samples from softmax(logits / T) at top-p 1', () => {
    const rnd = seededRandom(7);
    const counts = [0, 0, 0, 0];
    const n = 40000;
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: 0.7, topP: 1 }, rnd)]++;
    const w = Array.from(logits, (l) => Math.exp(l / 0.7));
    const z = w.reduce((a, b) => a + b);
    w.forEach((x, i) => expect(Math.abs(counts[i] / n - x / z)).toBeLessThan(0.01));
  });

  it('reproduces a sample from the same seed', () => {
    const draw = (seed: number) => {
      const rnd = seededRandom(seed);
      return Array.from({ length: 20 }, () => sampleToken(logits, { temperature: 1, topP: 0.9 }, rnd));
    };
    expect(draw(3)).toEqual(draw(3));
  });
});
