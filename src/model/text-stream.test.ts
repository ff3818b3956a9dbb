import { describe, expect, it } from 'vitest';
import { TextStream } from './text-stream';

// A byte-level toy vocabulary: ids are UTF-8 bytes, decoded as a real tokenizer would (lossy on partial characters).
const decode = (ids: number[]) => new TextDecoder().decode(Uint8Array.from(ids));

describe('TextStream', () => {
  it('streams whole characters only and ends with the full text', () => {
    const bytes = [...new TextEncoder().encode('né 😀!')];
    const s = new TextStream(decode);
    const deltas = bytes.map((b) => s.push(b));
    expect(deltas.join('')).toBe('né 😀!');
    expect(deltas.some((d) => d.includes('\uFFFD'))).toBe(false);
    expect(s.text).toBe('né 😀!');
  });

  it('does not hold back forever when a model emits stray bytes', () => {
    const s = new TextStream(decode, 4);
    const deltas = [0xf0, 0xf0, 0xf0, 0xf0, 0xf0, 0xf0].map((b) => s.push(b));
    expect(deltas.filter((d) => d.length > 0).length).toBeGreaterThan(0);
  });

  it('decodes once per token: reading the text does not decode again', () => {
    let calls = 0;
    const s = new TextStream((ids) => {
      calls += 1;
      return decode(ids);
    });
    for (const b of new TextEncoder().encode('ab\n')) {
      s.push(b);
      expect(s.text).toBe(decode([...new TextEncoder().encode('ab\n')].slice(0, calls)));
    }
    expect(calls).toBe(3);
  });

  it('has empty text before any token', () => {
    expect(new TextStream(decode).text).toBe('');
  });
});
