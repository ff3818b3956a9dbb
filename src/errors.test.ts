import { describe, expect, it } from 'vitest';
import * as errors from './errors';
import {
  AdapterFormatError,
  EngineError,
  fromErrorInfo,
  KernelError,
  PackError,
  PackIndexError,
  SkillInputError,
  StorageError,
  toErrorInfo,
  TYPED_ERROR_NAMES,
  ZipError,
} from './errors';

/** One error of each kind, with a code other than the default where the class has several. */
const samples: Error[] = [
  new PackError('checksum-mismatch', 'weights.safetensors: checksum mismatch', 'weights.safetensors'),
  new PackError('network', 'the pack could not be fetched'),
  new EngineError('device-lost', 'the GPU device was lost (gone)'),
  new PackIndexError('the list of packs (models/index.json) answered HTTP 404'),
  new KernelError('linear: x has shape [3, 4], expected [3, 6]'),
  new KernelError('job: out of memory', 'gpu'),
  new AdapterFormatError('adapter_config.json is not JSON'),
  new SkillInputError('The skill is empty: paste a SKILL.md or describe the skill in a few lines.'),
  new ZipError('not a zip archive (no end of central directory)'),
  new StorageError('quota', "The browser's storage for this page is full"),
];

/** What crosses the worker: the info after a structured clone, as postMessage makes it. */
const acrossWorker = (e: unknown) => fromErrorInfo(structuredClone(toErrorInfo(e)));

describe('errors across the worker', () => {
  it('every error class of the module has a rebuild entry and a sample here', () => {
    const classes = Object.entries(errors)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof Error)
      .map(([name]) => name)
      .sort();
    expect(classes).toEqual([...TYPED_ERROR_NAMES].sort());
    expect(new Set(samples.map((e) => e.name))).toEqual(new Set(TYPED_ERROR_NAMES));
  });

  it.each(samples.map((e) => [`${e.name} ${(e as { code?: string }).code}`, e] as const))('%s keeps its class, code, message and file', (_, original) => {
    const back = acrossWorker(original);
    expect(back).toBeInstanceOf(original.constructor);
    expect(back.name).toBe(original.name);
    expect(back.message).toBe(original.message);
    const code = (original as { code?: string }).code;
    expect(typeof code).toBe('string');
    expect((back as { code?: string }).code).toBe(code);
    expect((back as { file?: string }).file).toBe((original as { file?: string }).file);
  });

  it('keeps the storage problem the store reads', () => {
    const back = acrossWorker(new StorageError('unavailable', 'no storage here'));
    expect(back).toBeInstanceOf(StorageError);
    expect((back as StorageError).problem).toBe('unavailable');
  });

  it('gives other errors back as Errors of the same name and message', () => {
    const back = acrossWorker(new TypeError('x is not a function'));
    expect(back).toBeInstanceOf(Error);
    expect(back.name).toBe('TypeError');
    expect(back.message).toBe('x is not a function');
    expect(toErrorInfo('a string')).toEqual({ name: 'Error', message: 'a string' });
  });
});
