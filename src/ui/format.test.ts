import { describe, expect, it } from 'vitest';
import { adaptersLabel, describeHypernet } from './format';

describe('adaptersLabel', () => {
  it('names the adapters of an answer, with a scale other than 1, or says there were none', () => {
    expect(adaptersLabel([])).toBe('base model, no adapter');
    expect(adaptersLabel([{ name: 'branch-names', scale: 1 }])).toBe('with branch-names');
    expect(adaptersLabel([{ name: 'a', scale: 1 }, { name: 'b', scale: 0.5 }])).toBe('with a, b ×0.50');
  });
});

describe('describeHypernet', () => {
  it('says how the hypernetwork was made and stored, or that the file does not say', () => {
    expect(describeHypernet({ origin: 'trained', steps: 500, seed: 0, storedAs: ['F16'] })).toBe('Hypernetwork: 500 training steps, seed 0, float16 weights.');
    expect(describeHypernet({ origin: 'trained', steps: 12, storedAs: ['BF16', 'F32'] })).toBe('Hypernetwork: 12 training steps, bfloat16 and float32 weights.');
    expect(describeHypernet({ origin: 'random', seed: 0, storedAs: ['F32'] })).toBe('Hypernetwork: random weights (a test pack, seed 0); its adapters carry no skill.');
    expect(describeHypernet({ origin: 'unknown', storedAs: ['F32'] })).toBe('Hypernetwork: float32 weights, no training record in the file.');
  });
});
