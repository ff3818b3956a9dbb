import { describe, expect, it } from 'vitest';
import { parseSafetensors, writeSafetensors } from './safetensors';

describe('writeSafetensors', () => {
  it('writes what the reader reads: metadata, shapes, values, in order', () => {
    const a = Float32Array.from([1, -2.5, 3e-8, 4, 5, 6]);
    const b = Float32Array.from([7]);
    const file = parseSafetensors(writeSafetensors([{ name: 'w.a', shape: [2, 3], data: a }, { name: 'w.b', shape: [1], data: b }], { format: 'pt', note: 'ünïcode' }));
    expect(file.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect([...file.tensors.keys()]).toEqual(['w.a', 'w.b']);
    expect(file.tensors.get('w.a')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(file.float32('w.a')).toEqual(a);
    expect(file.float32('w.b')).toEqual(b);
  });

  it('pads the header with spaces to 8 bytes, so the data is aligned', () => {
    for (const name of ['x', 'xy', 'xyz', 'a-longer-name']) {
      const out = writeSafetensors([{ name, shape: [1], data: new Float32Array(1) }]);
      const headerBytes = Number(new DataView(out.buffer).getBigUint64(0, true));
      expect(headerBytes % 8).toBe(0);
      expect(new TextDecoder().decode(out.subarray(8, 8 + headerBytes))).toMatch(/^\{.*\} *$/);
    }
  });

  it('writes a view into a larger buffer without its neighbours', () => {
    const big = Float32Array.from([9, 1, 2, 9]);
    const file = parseSafetensors(writeSafetensors([{ name: 'w', shape: [2], data: big.subarray(1, 3) }]));
    expect([...file.float32('w')]).toEqual([1, 2]);
  });

  it('refuses a shape that does not match the data, and a name used twice', () => {
    expect(() => writeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/shape \[2,2\] holds 4 values, data has 3/);
    const t = { name: 'w', shape: [1], data: new Float32Array(1) };
    expect(() => writeSafetensors([t, t])).toThrow(/"w" appears twice/);
  });
});
