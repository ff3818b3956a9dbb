import { describe, expect, it } from 'vitest';
import { adaptersLabel } from './format';

describe('adaptersLabel', () => {
  it('names the adapters of an answer, with a scale other than 1, or says there were none', () => {
    expect(adaptersLabel([])).toBe('base model, no adapter');
    expect(adaptersLabel([{ name: 'branch-names', scale: 1 }])).toBe('with branch-names');
    expect(adaptersLabel([{ name: 'a', scale: 1 }, { name: 'b', scale: 0.5 }])).toBe('with a, b ×0.50');
  });
});
