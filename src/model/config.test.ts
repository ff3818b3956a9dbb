import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { moduleShape, validateManifest } from './config';
import { PackError } from '../errors';

const manifestPath = new URL('../../public/models/tiny-random/manifest.json', import.meta.url);
const good = () => JSON.parse(readFileSync(manifestPath, 'utf8'));

function errorOf(raw: unknown): PackError {
  try {
    validateManifest(raw);
  } catch (e) {
    if (e instanceof PackError) return e;
    throw e;
  }
  throw new Error('manifest was accepted');
}

describe('validateManifest', () => {
  it('accepts the manifest the Python exporter writes', () => {
    const m = validateManifest(good());
    expect(m.architecture.numHiddenLayers).toBe(2);
    expect(moduleShape(m.architecture, 'down_proj')).toEqual([128, 64]);
  });

  it('refuses an unknown format version with its own code', () => {
    const e = errorOf({ ...good(), formatVersion: 99 });
    expect(e.code).toBe('format-version');
    expect(e.message).toContain('99');
  });

  it.each([
    ['format', (m: any) => (m.format = 'other')],
    ['architecture.hiddenSize', (m: any) => (m.architecture.hiddenSize = -3)],
    ['architecture.numKeyValueHeads', (m: any) => (m.architecture.numKeyValueHeads = 3)],
    ['lora.targetModules', (m: any) => (m.lora.targetModules = ['attention'])],
    ['encoder.layers', (m: any) => (m.encoder.layers = [7])],
    ['files[0].sha256', (m: any) => (m.files[0].sha256 = 'xyz')],
    ['files[1].name', (m: any) => (m.files[1].name = '../etc/passwd')],
    ['files', (m: any) => (m.files = m.files.filter((f: any) => f.role !== 'weights'))],
    ['license.name', (m: any) => (m.license = { id: 'MIT' })],
  ])('names the bad field %s', (field, spoil) => {
    const m = good();
    spoil(m);
    const e = errorOf(m);
    expect(e.code).toBe('manifest-invalid');
    expect(e.message).toContain(`"${field}"`);
    expect(e.file).toBe('manifest.json');
  });

  it('accepts every pack in public/models (the ones built here too)', () => {
    const dir = new URL('../../public/models/', import.meta.url);
    const packs = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/manifest.json`, dir)));
    expect(packs.map((d) => d.name)).toContain('small-skills');
    for (const d of packs) {
      const m = validateManifest(JSON.parse(readFileSync(new URL(`${d.name}/manifest.json`, dir), 'utf8')));
      expect(m.id).toBe(d.name);
    }
  });

  it('refuses a manifest that is not an object', () => {
    expect(errorOf(null).code).toBe('manifest-invalid');
    expect(errorOf([1, 2]).code).toBe('manifest-invalid');
  });
});
