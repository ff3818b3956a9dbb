import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crc32, readZip, writeZip, ZipError } from './zip';

const bytes = (s: string) => new TextEncoder().encode(s);

describe('zip', () => {
  it('computes the standard CRC-32 check value', () => {
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array())).toBe(0);
  });

  it('reads back what it writes, names in UTF-8 and order kept', async () => {
    const entries = [{ name: 'adapter_config.json', data: bytes('{"r": 4}') }, { name: 'ünïcode/empty.bin', data: new Uint8Array() }];
    const files = await readZip(writeZip(entries));
    expect([...files.keys()]).toEqual(entries.map((e) => e.name));
    expect(files.get('adapter_config.json')).toEqual(entries[0].data);
  });

  it('writes the same bytes every time (no clock in the archive)', () => {
    const entries = [{ name: 'a', data: bytes('x') }];
    expect(writeZip(entries)).toEqual(writeZip(entries));
  });

  it('reads deflated entries written by another tool (Python zipfile), skipping folders', async () => {
    const zip = new Uint8Array(readFileSync(new URL('../../e2e/fixtures/adapter-export/deflated-by-python.zip', import.meta.url)));
    const files = await readZip(zip);
    expect([...files.keys()]).toEqual(['docs/hello.txt']);
    expect(new TextDecoder().decode(files.get('docs/hello.txt'))).toBe('hello adapter '.repeat(50));
  });

  it('refuses what is not a zip, or a damaged one', async () => {
    await expect(readZip(bytes('not a zip at all, just some text'))).rejects.toThrow(ZipError);
    const zip = writeZip([{ name: 'a.txt', data: bytes('payload') }]);
    zip[30 + 'a.txt'.length] ^= 0xff; // flip a byte of the stored data
    await expect(readZip(zip)).rejects.toThrow(/a.txt is corrupt \(CRC mismatch\)/);
  });
});
