import { describe, expect, it } from 'vitest';
import { adaptersLabel, describeHypernet, downloadSeconds, formatDuration, stopReasonLabel, tokensPerSecond } from './format';

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

describe('stopReasonLabel', () => {
  it('says why an answer ended in words, and which limit cut it', () => {
    expect(stopReasonLabel('eos', 12, 256)).toBe('finished');
    expect(stopReasonLabel('stopped', 3, 256)).toBe('stopped by you');
    expect(stopReasonLabel('max-tokens', 256, 256)).toBe('cut at the 256-token limit (Settings: Max new tokens)');
    // The context ran out before the setting did: the decode loop ends with max-tokens then too.
    expect(stopReasonLabel('max-tokens', 180, 256)).toBe("cut: the model's context is full");
    expect(stopReasonLabel('context-full', 180, 256)).toBe("cut: the model's context is full");
    expect(stopReasonLabel('line-end', 5)).toBe('ended with its first line');
  });
});

describe('download estimates', () => {
  it('gives the time of a download at a rate, rounded for reading', () => {
    // 335 MB at 10 Mbit/s: 335e6 * 8 / 10e6 = 268 s.
    expect(downloadSeconds(335e6, 10)).toBeCloseTo(268, 6);
    expect(formatDuration(268)).toBe('4 min');
    expect(formatDuration(0.2)).toBe('1 s');
    expect(formatDuration(4210)).toBe('1 h 10 min');
    expect(tokensPerSecond(11, 500)).toBe('20.0');
    expect(tokensPerSecond(1, 0)).toBe('–');
  });
});
